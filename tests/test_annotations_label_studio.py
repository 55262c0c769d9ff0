"""End to end against a real Label Studio: extract -> push (twice) -> annotate via the API -> pull -> eval.

Needs the server venv (``bash scripts/setup_label_studio.sh`` makes ``.venv-ls/``); select with
``pytest -m label_studio``. One server per session on a free 127.0.0.1 port with a temporary data dir
(the first start migrates a fresh SQLite DB, ~40 s).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest

from conftest import DEV, require
from zhibiao.annotations.server import DEFAULT_VENV, LabelStudioServer, free_port

pytestmark = [pytest.mark.label_studio, pytest.mark.slow]

PROJECT = "e2e"
DOCS = ("000_c9021f7b19f56ffc.xlsx", "000_c9021f7b19f56ffc.pdf", "001_def97523c2bc9572.txt")
PDF_STEM, TXT_STEM = "000_c9021f7b19f56ffc", "001_def97523c2bc9572"


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    if not (DEFAULT_VENV / "bin" / "label-studio").exists():
        pytest.skip(f"no Label Studio server venv at {DEFAULT_VENV}: run bash scripts/setup_label_studio.sh")
    pytest.importorskip("label_studio_sdk")
    base = tmp_path_factory.mktemp("label-studio")
    server = LabelStudioServer(base / "data", base / "files", port=free_port())
    with server:
        yield server
    assert server.process is not None and server.process.poll() is not None, "server still running"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real pipeline output for three dev renditions (two of the same document, one narrative report)."""
    from zhibiao.cli import output_names
    from zhibiao.export.writers import write_json
    from zhibiao.pipeline import ExtractOptions, extract

    paths = [require(DEV / name) for name in DOCS]
    out = tmp_path_factory.mktemp("extracted")
    for path, name in output_names(paths).items():
        write_json(extract(path, ExtractOptions(ocr=False)), out / name)
    return out


def zhibiao(*argv: str) -> int:
    from zhibiao.cli import main

    return main(list(argv))


def client_for(server: LabelStudioServer) -> Any:
    from zhibiao.annotations.client import LabelStudioClient

    assert server.credentials is not None
    return LabelStudioClient(server.url, server.credentials.token)


def contract_counts(out: Path) -> dict[str, int]:
    results = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.json"))]
    return {
        "project": sum(len(r["projects"]) for r in results),
        "record": sum(len(p["indicators"]) for r in results for p in r["projects"])
        + sum(len(r["narrative_indicators"]) for r in results),
        "table": sum(len(t["pages"]) for r in results for t in r["tables"] if r["source"]["format"] == "pdf"),
        "span": len({n["sentence"] for r in results for n in r["narrative_indicators"]}),
    }


def get_json(server: LabelStudioServer, path: str, token: str) -> Any:
    request = Request(server.url + path, headers={"Authorization": f"Token {token}"})
    with urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def edit(task: dict[str, Any]) -> list[dict[str, Any]]:
    """What the annotator submits: the prediction, with one correction per kind on chosen records."""
    meta = task["data"]["zhibiao"]
    result = copy.deepcopy(task["predictions"][0]["result"])
    for item in result:
        if (
            meta["kind"] == "record"
            and meta["path"] == "projects[0].indicators[0]"
            and item["from_name"] == "actual"
        ):
            item["value"]["text"] = ["95%"]
        if (
            meta["kind"] == "span"
            and meta["path"] == "narrative_indicators[0]"
            and item["value"]["labels"] == ["ACTUAL"]
        ):
            item["value"]["labels"] = ["TARGET"]
        if meta["kind"] == "table" and item["id"] == "t1r16c5" and item["type"] == "textarea":
            item["value"]["text"] = ["95%"]
    return result


def test_push_annotate_pull_round_trip(label_studio, extracted, tmp_path, monkeypatch, capsys):
    assert label_studio.credentials is not None
    token = label_studio.credentials.token
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", token)
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    common = ["--project", PROJECT, "--url", label_studio.url, "--config", str(tmp_path / "no-config.json")]
    push = ["annotate", "push", str(extracted), *common, "--files-root", str(label_studio.files_root)]

    # push twice: the second push adds nothing
    assert zhibiao(*push) == 0
    client = client_for(label_studio)
    projects = {
        kind: client.find_project(f"{PROJECT} [{kind}]") for kind in ("table", "record", "project", "span")
    }
    counts = {kind: len(client.existing_keys(pid)) for kind, pid in projects.items()}
    assert counts == contract_counts(extracted)
    assert counts["table"] == 3 and counts["record"] >= 6 and counts["span"] >= 5
    assert zhibiao(*push) == 0
    assert {kind: len(client.existing_keys(pid)) for kind, pid in projects.items()} == counts
    assert "0 new" in capsys.readouterr().out

    # review order: uncertainty sampling serves the lowest-scored (flagged, doubtful) record first
    assert client.project(projects["record"])["sampling"] == "Uncertainty sampling"
    scores = [t["predictions"][0]["score"] for t in client.iter_tasks(projects["record"])]
    assert min(scores) < max(scores)
    served = get_json(label_studio, f"/api/projects/{projects['record']}/next/", token)
    assert served["predictions"][0]["score"] == min(scores)

    # page images are served by Label Studio itself (local files), not from an external URL
    table_task = next(client.iter_tasks(projects["table"]))
    assert table_task["data"]["image"].startswith("/data/local-files/?d=")
    request = Request(
        label_studio.url + table_task["data"]["image"], headers={"Authorization": f"Token {token}"}
    )
    with urlopen(request, timeout=30) as response:
        assert response.status == 200 and response.read(8) == b"\x89PNG\r\n\x1a\n"

    # annotators review every task of the PDF rendition and of the narrative report
    annotated = 0
    for project_id in projects.values():
        for task in client.iter_tasks(project_id):
            source = Path(task["data"]["zhibiao"]["source"]).name
            if source in (f"{PDF_STEM}.pdf", f"{TXT_STEM}.txt"):
                client.create_annotation(task["id"], edit(task), lead_time=3.0)
                annotated += 1
    assert annotated > 0

    out = tmp_path / "pulled"
    assert zhibiao("annotate", "pull", *common, "-o", str(out)) == 0
    captured = capsys.readouterr()
    assert token not in captured.out + captured.err

    # the corrected field is in the gold file, with who/when/what it corrected beside it
    gold = json.loads((out / "gold" / f"{PDF_STEM}.json").read_text(encoding="utf-8"))
    first = gold["projects"][0]["indicators"][0]
    assert first["actual"] == "95%"
    reviews = [
        json.loads(line) for line in (out / "gold" / f"{PDF_STEM}.reviews.jsonl").read_text().splitlines()
    ]
    review = next(r for r in reviews if r["kind"] == "record" and r["path"] == "projects[0].indicators[0]")
    assert review["changed"] == ["actual"] and review["annotated"]["actual"] == "95%"
    assert review["predicted"]["actual"] == "100%"
    assert review["annotator"] == label_studio.credentials.username and review["updated_at"]
    assert review["gold_path"] == "projects[0].indicators[0]"
    assert gold["tables"][0]["pages"] == [1, 2, 3]
    assert any(c["text"] == "95%" and (c["row"], c["col"]) == (16, 5) for c in gold["tables"][0]["cells"])

    txt_gold = json.loads((out / "gold" / f"{TXT_STEM}.json").read_text(encoding="utf-8"))
    labels = [s["label"] for spans in txt_gold["spans"] for s in spans["spans"]]
    assert "TARGET" in labels and "NAME" in labels
    examples = [json.loads(line) for line in (out / "train" / "spans.jsonl").read_text().splitlines()]
    assert len(examples) == counts["span"]
    assert any(e["changed"] and e["spans"][1]["label"] == "TARGET" for e in examples)

    # the unreviewed XLSX rendition does not make a second gold for the same document
    summary = json.loads((out / "pull-summary.json").read_text(encoding="utf-8"))
    assert sorted(Path(p).name for p in summary["gold"]) == [f"{PDF_STEM}.json", f"{TXT_STEM}.json"]

    # the correction changes the eval result: original predictions now miss exactly that field
    from zhibiao.eval.harness import evaluate_dirs

    report = evaluate_dirs(out / "gold", extracted, corpus_dir=DEV)
    pdf = next(d for d in report["documents"] if d["kind"] == "pdf")
    assert pdf["fields"]["indicator.actual"]["accuracy"] < 1.0
    assert pdf["fields"]["indicator.name"]["accuracy"] == 1.0
    assert pdf["fields"]["indicator.target"]["accuracy"] == 1.0
    assert pdf["tables"]["cell_text_accuracy"] < 1.0
    txt = next(d for d in report["documents"] if d["kind"] == "txt")
    assert txt["spans"]["TARGET"]["support"] >= 1
    assert token not in (label_studio.data_dir / "zhibiao-server.log").read_text(errors="replace")
