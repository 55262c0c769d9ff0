"""Fast tests of the batch building blocks: inputs, manifest/resume, worker, collect, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from zhibiao.batch.collect import collect
from zhibiao.batch.inputs import InputError, discover, output_path, safe_rel, sha256_file
from zhibiao.batch.manifest import Manifest, Outcome, manifest_path
from zhibiao.batch.run import BatchOptions, config_hash, plan, remove_stale_temp_files
from zhibiao.batch.worker import Task, WorkerSettings, injected_fault, process_file
from zhibiao.cli import build_parser
from zhibiao.export.writers import read_csv_rows
from zhibiao.result import ExtractionResult

SAMPLES = Path(__file__).resolve().parents[1] / "extraction" / "samples"


def _tree(root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "top.txt").write_text("一")
    (root / "a" / "b" / "deep.txt").write_text("二")
    (root / "a" / ".dot.txt").write_text("x")
    (root / ".hidden" / "x.txt").write_text("x")


def test_discover_walks_recursively_and_skips_hidden_and_output(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "top.txt.json").write_text("{}")
    inputs = discover(tmp_path, exclude=[tmp_path / "out"])
    assert [i.rel for i in inputs] == ["a/b/deep.txt", "top.txt"]
    assert inputs[1].sha256 == sha256_file(tmp_path / "top.txt") and inputs[1].size == 3


def test_manifest_files_csv_and_jsonl(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "list.csv").write_text("path,rel\ntop.txt,\na/b/deep.txt,renamed/deep.txt\ntop.txt,\n")
    assert [i.rel for i in discover(tmp_path / "list.csv")] == ["top.txt", "renamed/deep.txt"]
    lines = [json.dumps({"path": str(tmp_path / "top.txt")}), "", json.dumps({"path": "missing.txt"})]
    (tmp_path / "list.jsonl").write_text("\n".join(lines))
    got = discover(tmp_path / "list.jsonl")
    assert got[0].rel == "top.txt" and got[0].error is None
    assert got[1].rel == "missing.txt" and got[1].error and got[1].sha256 == ""


@pytest.mark.parametrize("bad", ["../x.pdf", "/etc/passwd", "a/../../x", ""])
def test_rel_paths_cannot_leave_the_output_dir(bad: str) -> None:
    with pytest.raises(InputError):
        safe_rel(bad)


def test_bad_sources_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "list.csv").write_text("file\nx\n")
    (tmp_path / "list.jsonl").write_text("[1]\n")
    for source in ("list.csv", "list.jsonl", "nothing"):
        with pytest.raises(InputError):
            discover(tmp_path / source)


def test_manifest_resume_is_per_hash_and_config(tmp_path: Path) -> None:
    with Manifest(tmp_path / "m.sqlite") as manifest:
        assert manifest.start("a.pdf", "h1", "c1") == 1
        assert not manifest.done("a.pdf", "h1", "c1")  # in flight is not done
        assert manifest.start("a.pdf", "h1", "c1") == 2
        manifest.record(Outcome("a.pdf", "ok", pages=3, records=4), "h1", "c1")
        manifest.record(Outcome("b.pdf", "timeout", "timeout", "slow"), "h2", "c1")
        assert manifest.done("a.pdf", "h1", "c1")
        assert not manifest.done("a.pdf", "h1-changed", "c1") and not manifest.done("a.pdf", "h1", "c2")
        assert manifest.start("a.pdf", "h1-changed", "c1") == 1  # new content: attempts restart
        assert manifest.counts() == {"running": 1, "timeout": 1}
        assert [r.rel for r in manifest.rows()] == ["a.pdf", "b.pdf"]


def test_plan_skips_done_and_retries_failed_on_request(tmp_path: Path) -> None:
    _tree(tmp_path / "in")
    inputs = discover(tmp_path / "in")
    config = config_hash(BatchOptions())
    with Manifest(tmp_path / "m.sqlite") as manifest:
        manifest.record(Outcome("top.txt", "error", "x", "y"), inputs[1].sha256, config)
        todo, skipped = plan(inputs, manifest, config, retry_failed=False)
        assert [i.rel for i in todo] == ["a/b/deep.txt"] and skipped == 1
        todo, skipped = plan(inputs, manifest, config, retry_failed=True)
        assert len(todo) == 2 and skipped == 0
        todo, _ = plan(inputs, manifest, config_hash(BatchOptions(ocr=False)), retry_failed=False)
        assert len(todo) == 2


def test_config_hash_ignores_scheduling_but_not_extraction_settings() -> None:
    base = config_hash(BatchOptions())
    assert config_hash(BatchOptions(workers=7, timeout=5, executor="ray", max_memory_mb=1)) == base
    assert config_hash(BatchOptions(ocr=False)) != base
    assert config_hash(BatchOptions(prefer="ocr")) != base


def test_injected_faults_only_match_exact_base_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIBIAO_BATCH_FAULTS", "slow.pdf=hang, boom.docx=kill")
    assert injected_fault("/x/y/slow.pdf") == "hang"
    assert injected_fault("boom.docx") == "kill"
    assert injected_fault("/x/slow.pdf.bak") is None
    monkeypatch.delenv("ZHIBIAO_BATCH_FAULTS")
    assert injected_fault("/x/y/slow.pdf") is None


def _run_two_files(tmp_path: Path) -> Path:
    """Process a sample and an empty file in-process, recording both in the manifest."""
    out = tmp_path / "out"
    (tmp_path / "empty.docx").write_bytes(b"")
    settings = WorkerSettings(out_dir=str(out), ocr=False)
    with Manifest(manifest_path(out)) as manifest:
        for path, rel in (
            (SAMPLES / "sample_self_eval.xlsx", "x/sample.xlsx"),
            (tmp_path / "empty.docx", "e.docx"),
        ):
            task = Task(rel=rel, path=str(path), sha256=sha256_file(path))
            manifest.record(process_file(task, settings), task.sha256, "c")
    return out


def test_worker_writes_valid_json_and_collect_aggregates(tmp_path: Path) -> None:
    out = _run_two_files(tmp_path)
    good = ExtractionResult.model_validate_json(output_path(out, "x/sample.xlsx").read_bytes())
    bad = ExtractionResult.model_validate_json(output_path(out, "e.docx").read_bytes())
    assert not good.errors and bad.errors[0].code == "empty"
    with Manifest(manifest_path(out)) as manifest:
        rows = {r.rel: r for r in manifest.rows()}
    n_good = sum(len(p.indicators) for p in good.projects) + len(good.narrative_indicators)
    assert rows["x/sample.xlsx"].status == "ok" and rows["x/sample.xlsx"].records == n_good > 0
    assert rows["e.docx"].status == "error" and rows["e.docx"].code == "empty"
    stats = collect(out)
    assert (stats.documents, stats.records, stats.errors) == (2, n_good, 1)
    table = pq.read_table(out / "records.parquet")
    assert table.num_rows == n_good == len(read_csv_rows(out / "records.csv"))
    assert set(table.column("file").to_pylist()) == {str(SAMPLES / "sample_self_eval.xlsx")}
    errors = json.loads((out / "errors.json").read_text())
    assert [(e["rel"], e["code"]) for e in errors] == [("e.docx", "empty")]
    from openpyxl import load_workbook

    sheet = load_workbook(out / "records.xlsx", read_only=True)["records"]
    assert sum(1 for _ in sheet.iter_rows()) == n_good + 1


def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".x.pdf.json.abc.tmp").write_text("half")
    (tmp_path / "a" / "x.pdf.json").write_text("{}")
    assert remove_stale_temp_files(tmp_path) == 1
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["x.pdf.json"]


def test_batch_command_is_registered_and_parses() -> None:
    args = build_parser().parse_args(
        ["batch", "in", "-o", "out", "--workers", "3", "--executor", "ray", "--timeout", "9", "--json-log"]
    )
    assert (args.source, args.output, args.workers, args.executor, args.timeout, args.json_log) == (
        "in", "out", 3, "ray", 9.0, True,
    )  # fmt: skip
    assert build_parser().parse_args(["batch", "--collect", "out"]).collect
