"""zhibiao batch end to end: resume by content hash, `--collect` and the JSON log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from zhibiao.batch.manifest import Manifest, Outcome, manifest_path
from zhibiao.batch.run import BatchOptions, run_batch

SAMPLES = Path(__file__).resolve().parents[1] / "extraction" / "samples"


def make_tree(root: Path) -> list[str]:
    """Three samples (txt, xlsx, docx in a sub-folder), one broken file, one hidden file (ignored)."""
    (root / "sub").mkdir(parents=True)
    shutil.copyfile(SAMPLES / "sample_narrative.txt", root / "narrative.txt")
    shutil.copyfile(SAMPLES / "sample_self_eval.xlsx", root / "self_eval.xlsx")
    shutil.copyfile(SAMPLES / "sample_target_form.docx", root / "sub" / "form.docx")
    (root / "sub" / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (root / ".hidden.txt").write_text("ignored")
    return ["narrative.txt", "self_eval.xlsx", "sub/broken.docx", "sub/form.docx"]


def statuses(out: Path) -> dict[str, str]:
    with Manifest(manifest_path(out)) as manifest:
        return {row.rel: row.status for row in manifest.rows()}


@pytest.mark.slow
def test_batch_writes_every_json_resumes_and_redoes_only_changed_files(tmp_path: Path) -> None:
    expected = make_tree(tmp_path / "in")
    out = tmp_path / "out"
    options = BatchOptions(workers=2, ocr=False, timeout=120)
    summary = run_batch(tmp_path / "in", out, options)
    assert (summary.total, summary.processed, summary.skipped) == (4, 4, 0)
    assert statuses(out) == {rel: "error" if "broken" in rel else "ok" for rel in expected}
    for rel in expected:
        document = json.loads((out / f"{rel}.json").read_text())
        assert document["source"]["path"].endswith(rel.split("/")[-1])
    broken = json.loads((out / "sub/broken.docx.json").read_text())
    assert broken["errors"][0]["code"] == "corrupt"
    assert (out / "records.parquet").is_file() and (out / "errors.csv").is_file()
    errors = json.loads((out / "errors.json").read_text())
    assert [e["rel"] for e in errors] == ["sub/broken.docx"]

    again = run_batch(tmp_path / "in", out, options)
    assert (again.processed, again.skipped) == (0, 4)
    (tmp_path / "in" / "narrative.txt").write_text("2024年 项目 绩效自评\n", encoding="utf-8")
    changed = run_batch(tmp_path / "in", out, options)
    assert (changed.processed, changed.skipped) == (1, 3)
    assert run_batch(tmp_path / "in", out, BatchOptions(workers=1, ocr=True)).processed == 4


def test_collect_rebuilds_records_and_errors_from_document_jsons(tmp_path: Path) -> None:
    from zhibiao.cli import main
    from zhibiao.export.writers import record_rows, write_json
    from zhibiao.pipeline import ExtractOptions, extract

    result = extract(SAMPLES / "sample_narrative.txt", ExtractOptions(ocr=False))
    write_json(result, tmp_path / "sub" / "narrative.txt.json")
    write_json(extract(tmp_path / "missing.pdf"), tmp_path / "missing.pdf.json")
    assert main(["batch", "--collect", str(tmp_path), "-q"]) == 0
    import pyarrow.parquet as pq

    expected = sum(1 for _ in record_rows(result))
    assert expected and pq.read_table(tmp_path / "records.parquet").num_rows == expected
    with (tmp_path / "records.csv").open(encoding="utf-8-sig") as handle:
        assert sum(1 for _ in handle) == expected + 1
    assert (tmp_path / "records.xlsx").is_file() and json.loads((tmp_path / "errors.json").read_text()) == []


def test_json_log_writes_one_event_per_line() -> None:
    import io

    from zhibiao.batch.progress import JsonLog

    stream = io.StringIO()
    log = JsonLog(stream)
    log.start(3, 2, 1)
    log.file_done(Outcome("a.pdf", "error", "corrupt", "bad", 0.5))
    log.finish({"ok": 1})
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["start", "file", "finish"]
    assert events[1]["rel"] == "a.pdf" and events[1]["failures"] == 1 and events[1]["done"] == 1
