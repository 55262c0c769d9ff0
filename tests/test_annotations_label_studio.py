"""End to end against a real Label Studio: extract -> push (twice) -> annotate via the API -> pull -> eval.

Needs the server venv (``bash scripts/setup_label_studio.sh`` makes ``.venv-ls/``); select with
``pytest -m label_studio``. One server per session on a free 127.0.0.1 port with a temporary data dir
(the first start migrates a fresh SQLite DB, ~40 s). Without the venv the test skips locally and
fails in CI (``CI`` set).
"""

from __future__ import annotations

import copy
import html
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request, urlopen

import pytest

from conftest import DEV, require
from zhibiao.annotations.server import DEFAULT_VENV, LabelStudioServer, free_port

PROJECT = "e2e"
DOCS = ("000_c9021f7b19f56ffc.xlsx", "000_c9021f7b19f56ffc.pdf", "001_def97523c2bc9572.txt")
PDF_STEM, TXT_STEM = "000_c9021f7b19f56ffc", "001_def97523c2bc9572"
KINDS = ("table", "record", "project", "span")
PAGE = 4
"""Tasks per page for the second pull (the record project spans several pages)."""
CORRECTED_RECORD = "projects[0].indicators[0]"
CORRECTED_CELL = "t1r16c5"
"""The table region holding that record's 实际完成值 (row 16, column 5 of table 1)."""


def missing_server_parts(venv: Path = DEFAULT_VENV) -> str | None:
    """Why a real server cannot be run here (``None``: it can)."""
    if not (venv / "bin" / "label-studio").exists():
        return f"no Label Studio server venv at {venv}: run bash scripts/setup_label_studio.sh"
    try:
        import label_studio_sdk  # noqa: F401
    except ImportError:
        return "label-studio-sdk is not installed (pip install -e '.[annotate]')"
    return None


def require_server(venv: Path = DEFAULT_VENV) -> None:
    """Skip when the server cannot run, except in CI (``CI`` set), where that is a failure."""
    reason = missing_server_parts(venv)
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the Label Studio server: {reason}")
    pytest.skip(reason)


def test_missing_server_fails_in_ci_and_skips_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI needs the Label Studio server"):
        require_server(tmp_path / "no-venv")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"setup_label_studio\.sh"):
        require_server(tmp_path / "no-venv")


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    """One real server for the session: readiness wait on start, process group stopped at the end."""
    require_server()
    base = tmp_path_factory.mktemp("label-studio")
    server = LabelStudioServer(base / "data", base / "files", port=free_port())
    with server:
        yield server
    assert server.process is not None and server.process.poll() is not None, "server still running"


def zhibiao(*argv: str) -> int:
    from zhibiao.cli import main

    return main(list(argv))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``zhibiao extract`` output for three dev renditions (two of the same document, one narrative)."""
    paths = [str(require(DEV / name)) for name in DOCS]
    out = tmp_path_factory.mktemp("extracted")
    assert zhibiao("extract", *paths, "-o", str(out), "--no-ocr", "--no-report", "-q") == 0
    assert len(list(out.glob("*.json"))) >= len(DOCS)
    return out


def client_for(server: LabelStudioServer) -> Any:
    from zhibiao.annotations.client import LabelStudioClient

    assert server.credentials is not None
    return LabelStudioClient(server.url, server.credentials.token)


def contract_counts(out: Path) -> dict[str, int]:
    """Tasks the push must make from the contract JSON (table: pages of PDF tables; span: sentences)."""
    from zhibiao.annotations.cli import iter_results

    results = [r for _, r in iter_results(out)]
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


def correct(task: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The annotator's correction of one task (``None``: nothing to correct there)."""
    meta = task["data"]["zhibiao"]
    result = copy.deepcopy(task["predictions"][0]["result"])
    changed = False
    for item in result:
        if meta["kind"] == "record" and meta["path"] == CORRECTED_RECORD and item["from_name"] == "actual":
            item["value"]["text"], changed = ["95%"], True
        elif meta["kind"] == "span" and meta["path"] == "narrative_indicators[0]":
            if item["value"]["labels"] == ["ACTUAL"]:
                item["value"]["labels"], changed = ["TARGET"], True
        elif meta["kind"] == "table" and item["id"] == CORRECTED_CELL and item["type"] == "textarea":
            item["value"]["text"], changed = ["95%"], True
    return result if changed else None


def pull_and_eval(common: list[str], out: Path, extracted: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``zhibiao annotate pull`` into ``out``, then the eval harness on its gold vs the extraction."""
    from zhibiao.eval.harness import evaluate_dirs

    assert zhibiao("annotate", "pull", *common, "-o", str(out)) == 0
    report = evaluate_dirs(out / "gold", extracted, corpus_dir=DEV)
    return {d["kind"]: d for d in report["documents"]}, report


def span_support(doc: dict[str, Any], label: str) -> int:
    """Gold spans of ``label`` in one document's eval result (0 when there are none)."""
    return int((doc["spans"].get(label) or {}).get("support", 0))


def task_list_queries(caplog: pytest.LogCaptureFixture) -> list[dict[str, list[str]]]:
    """Query strings of the task-list requests httpx logged (``HTTP Request: GET …/api/tasks/?…``)."""
    queries = []
    for record in caplog.records:
        if record.name == "httpx" and record.args and "/api/tasks" in str(record.args[1]):
            queries.append(parse_qs(urlsplit(str(record.args[1])).query))
    return queries


def assert_secret_absent(
    token: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    captured = capsys.readouterr()
    assert token not in captured.out + captured.err
    assert token not in caplog.text
    assert not any(token in str(r.args) or token in r.getMessage() for r in caplog.records)


@pytest.mark.slow
@pytest.mark.label_studio
def test_push_annotate_pull_round_trip(label_studio, extracted, tmp_path, monkeypatch, capsys, caplog):
    assert label_studio.credentials is not None
    caplog.set_level(logging.DEBUG)  # every logger, the SDK's and httpx's included
    token = label_studio.credentials.token
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", token)
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    common = ["--project", PROJECT, "--url", label_studio.url, "--config", str(tmp_path / "no-config.json")]
    push = ["annotate", "push", str(extracted), *common, "--files-root", str(label_studio.files_root)]

    # push twice: the second push adds no task
    assert zhibiao(*push) == 0
    client = client_for(label_studio)
    projects = {kind: client.find_project(f"{PROJECT} [{kind}]") for kind in KINDS}
    counts = {kind: len(client.existing_keys(pid)) for kind, pid in projects.items()}
    assert counts == contract_counts(extracted)
    assert counts["table"] == 3 and counts["record"] >= 6 and counts["span"] >= 5
    assert zhibiao(*push) == 0
    assert {kind: len(client.existing_keys(pid)) for kind, pid in projects.items()} == counts
    second = capsys.readouterr().out
    assert second.count(" 0 new,") == len(KINDS) and "0 new tasks" in second
    assert token not in second and token not in caplog.text

    # every task kind carries its pre-annotation; review order: lowest score (flagged, doubtful) first
    tasks = {kind: list(client.iter_tasks(pid)) for kind, pid in projects.items()}
    page = tasks["table"][0]
    rect = next(r for r in page["predictions"][0]["result"] if r["type"] == "rectanglelabels")
    assert rect["original_width"] > 0 and rect["original_height"] > 0 and 0 <= rect["value"]["x"] <= 100
    assert 0 < rect["score"] <= 1 and page["predictions"][0]["score"] <= 1
    assert any(r["type"] == "textarea" and r["id"] == rect["id"] for r in page["predictions"][0]["result"])
    record = next(
        t
        for t in tasks["record"]
        if t["data"]["zhibiao"]["path"] == CORRECTED_RECORD
        and t["data"]["zhibiao"]["source"].endswith(".pdf")
    )
    crop = re.search(r'<img src="([^"]+)"', record["data"]["source_html"])
    assert crop and crop[1].startswith("/data/local-files/?d=") and "<table" in record["data"]["source_html"]
    assert record["data"]["zhibiao"]["predicted"]["actual"] == "100%"
    fields = {r["from_name"] for r in record["predictions"][0]["result"]}
    assert {"verdict", "level1", "level2", "name", "target", "actual"} <= fields
    span_labels = {r["value"]["labels"][0] for t in tasks["span"] for r in t["predictions"][0]["result"]}
    assert {"INDICATOR", "ACTUAL"} <= span_labels
    assert client.project(projects["record"])["sampling"] == "Uncertainty sampling"
    scores = [t["predictions"][0]["score"] for t in tasks["record"]]
    assert min(scores) < max(scores)
    served = get_json(label_studio, f"/api/projects/{projects['record']}/next/", token)
    assert served["predictions"][0]["score"] == min(scores)
    flagged = [t for t in tasks["record"] if t["data"]["zhibiao"]["flags"]]
    assert flagged, "the dev renditions have records the checks flag"
    assert all(code in t["data"]["checks_html"] for t in flagged for code in t["data"]["zhibiao"]["flags"])
    assert all(t["predictions"][0]["score"] < t["data"]["zhibiao"]["confidence"] for t in flagged), (
        "a flagged record must be scored below its confidence"
    )

    # page images are served by Label Studio itself (local files), not from an external URL
    assert page["data"]["image"].startswith("/data/local-files/?d=")
    for url in (page["data"]["image"], html.unescape(crop[1])):
        request = Request(label_studio.url + url, headers={"Authorization": f"Token {token}"})
        with urlopen(request, timeout=30) as response:
            assert response.status == 200 and response.read(8) == b"\x89PNG\r\n\x1a\n"

    # annotators accept every task of the PDF rendition and of the narrative report as predicted
    submitted: dict[tuple[str, str, str], tuple[int, dict[str, Any]]] = {}
    for kind, items in tasks.items():
        for task in items:
            meta = task["data"]["zhibiao"]
            if Path(meta["source"]).name in (f"{PDF_STEM}.pdf", f"{TXT_STEM}.txt"):
                result = task["predictions"][0]["result"]
                annotation_id = client.create_annotation(task["id"], result, lead_time=3.0)
                submitted[(kind, meta["source"], meta["path"] + str(task["id"]))] = (annotation_id, task)
    assert len(submitted) > 20
    before, _ = pull_and_eval(common, tmp_path / "before", extracted)
    pdf_before, txt_before = before["pdf"], before["txt"]
    actual = pdf_before["fields"]["indicator.actual"]
    assert actual["accuracy"] == 1.0 and pdf_before["tables"]["cell_text_accuracy"] == 1.0
    assert_secret_absent(token, capsys, caplog)

    # then correct three of them: the record's actual, its table cell, one span label
    corrected = 0
    for annotation_id, task in submitted.values():
        result = correct(task)
        if result is not None:
            client.update_annotation(annotation_id, result, lead_time=5.0)
            corrected += 1
    assert corrected == 3
    out = tmp_path / "after"
    caplog.clear()
    after, _ = pull_and_eval([*common, "--page-size", str(PAGE)], out, extracted)
    assert_secret_absent(token, capsys, caplog)

    # the pull read the projects page by page, never a whole project in one request
    listed = task_list_queries(caplog)
    assert listed and all(q["page_size"] == [str(PAGE)] for q in listed)
    assert counts["record"] > PAGE
    assert max(int(q.get("page", ["1"])[0]) for q in listed) >= -(-counts["record"] // PAGE)

    # the corrected field is in the gold file, with who/when/what it corrected beside it
    gold = json.loads((out / "gold" / f"{PDF_STEM}.json").read_text(encoding="utf-8"))
    assert gold["projects"][0]["indicators"][0]["actual"] == "95%"
    reviews = [
        json.loads(line) for line in (out / "gold" / f"{PDF_STEM}.reviews.jsonl").read_text().splitlines()
    ]
    review = next(r for r in reviews if r["kind"] == "record" and r["path"] == CORRECTED_RECORD)
    assert review["changed"] == ["actual"] and review["annotated"]["actual"] == "95%"
    assert review["predicted"]["actual"] == "100%"
    assert review["annotator"] == label_studio.credentials.username and review["updated_at"]
    assert review["gold_path"] == CORRECTED_RECORD
    assert sum(bool(r["changed"]) for r in reviews) == 2  # the record and the table page
    assert gold["tables"][0]["pages"] == [1, 2, 3]
    assert any(c["text"] == "95%" and (c["row"], c["col"]) == (16, 5) for c in gold["tables"][0]["cells"])

    # ... and the eval result moves by exactly that field: one actual, one cell, one span
    pdf_after = after["pdf"]
    moved = pdf_after["fields"]["indicator.actual"]
    assert (moved["support"], moved["accurate"]) == (actual["support"], actual["accurate"] - 1)
    for name in ("indicator.name", "indicator.target", "indicator.unit"):
        assert pdf_after["fields"][name] == pdf_before["fields"][name]
    assert pdf_after["tables"]["cell_text_accuracy"] < 1.0
    assert txt_before["spans"]["micro"]["f1"] == 1.0 and after["txt"]["spans"]["micro"]["f1"] < 1.0
    assert span_support(after["txt"], "TARGET") == span_support(txt_before, "TARGET") + 1
    assert span_support(after["txt"], "ACTUAL") == span_support(txt_before, "ACTUAL") - 1

    # a prediction that agrees with the correction scores perfectly again
    fixed = tmp_path / "fixed-pred"
    shutil.copytree(extracted, fixed)
    pdf_pred = next(
        p for p in fixed.glob("*.json") if json.loads(p.read_text("utf-8"))["source"]["format"] == "pdf"
    )
    data = json.loads(pdf_pred.read_text(encoding="utf-8"))
    data["projects"][0]["indicators"][0]["actual"] = {"text": "95%", "value": 95.0, "unit": "%"}
    pdf_pred.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    from zhibiao.eval.harness import evaluate_dirs

    refixed = {d["kind"]: d for d in evaluate_dirs(out / "gold", fixed, corpus_dir=DEV)["documents"]}
    assert refixed["pdf"]["fields"]["indicator.actual"]["accuracy"] == 1.0

    # the command a team runs on the pulled gold gives the same scores
    report_dir = tmp_path / "eval-cli"
    flags = ["--corpus", str(DEV), "--out", str(report_dir), "--no-html", "--no-peers", "-q"]
    assert zhibiao("eval", "--gold", str(out / "gold"), "--pred", str(extracted), *flags) == 0
    cli_docs = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["documents"]
    cli_pdf = next(d for d in cli_docs if d["kind"] == "pdf")
    assert cli_pdf["fields"]["indicator.actual"] == moved

    # training data: one row per span task in the agreed format, the corrected label in it
    examples = [json.loads(line) for line in (out / "train" / "spans.jsonl").read_text().splitlines()]
    assert len(examples) == counts["span"]
    assert all(list(e) == ["doc", "text", "spans", "annotator", "updated_at", "prediction"] for e in examples)
    changed = [e for e in examples if e["spans"] != e["prediction"]]
    assert len(changed) == 1 and changed[0]["doc"] == TXT_STEM
    assert [s["label"] for s in changed[0]["spans"]].count("TARGET") == 1
    assert [s["label"] for s in changed[0]["prediction"]].count("ACTUAL") >= 1
    assert changed[0]["annotator"] == label_studio.credentials.username
    import spacy  # the annotate extra brings it
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(out / "train" / "spans.spacy").get_docs(spacy.blank("zh").vocab))
    assert [d.text for d in docs] == [e["text"] for e in examples]
    fixed_doc = next(d for d in docs if d.text == changed[0]["text"])
    assert [e.label_ for e in fixed_doc.ents].count("TARGET") == 1
    assert fixed_doc.user_data["annotator"] == label_studio.credentials.username
    assert [list(p) for p in fixed_doc.user_data["prediction"]] == [
        [s["start"], s["end"], s["label"]] for s in changed[0]["prediction"]
    ]

    # the unreviewed XLSX rendition does not make a second gold for the same document
    summary = json.loads((out / "pull-summary.json").read_text(encoding="utf-8"))
    assert sorted(Path(p).name for p in summary["gold"]) == [f"{PDF_STEM}.json", f"{TXT_STEM}.json"]
    assert token not in (label_studio.data_dir / "zhibiao-server.log").read_text(errors="replace")
