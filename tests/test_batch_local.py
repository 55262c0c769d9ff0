"""End-to-end tests of ``zhibiao batch`` on the local process pool: robustness, kill -9 + resume,
timeouts, dead workers, the memory guard and OCR of a scan."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from robustness import DIGITAL, MAX_FILE_MB, SCANS, build_suite, copy_dev_files

from conftest import DEV, require
from zhibiao.batch.inputs import output_path
from zhibiao.batch.manifest import Manifest, manifest_path
from zhibiao.batch.run import BatchOptions, run_batch
from zhibiao.result import ExtractionResult

pytestmark = pytest.mark.slow

NO_OCR = BatchOptions(workers=2, ocr=False, timeout=120, max_bytes=MAX_FILE_MB << 20)


def manifest_rows(out: Path) -> dict[str, object]:
    with Manifest(manifest_path(out)) as manifest:
        return {row.rel: row for row in manifest.rows()}


def assert_every_output_valid(out: Path, rels: set[str]) -> None:
    for rel in rels:
        ExtractionResult.model_validate_json(output_path(out, rel).read_bytes())
    assert not list(out.rglob("*.tmp")), "half-written temp files left behind"


def test_robustness_suite_of_200_files_each_accounted_once(tmp_path: Path) -> None:
    require(DEV)
    expected = build_suite(tmp_path / "in", copies=15)
    assert len(expected) >= 200
    summary = run_batch(tmp_path / "in", tmp_path / "out", NO_OCR)
    rows = manifest_rows(tmp_path / "out")
    assert set(rows) == set(expected) and summary.processed == len(expected)
    wrong = {rel: (rows[rel].status, rows[rel].code, rows[rel].reason) for rel in expected
             if rows[rel].status != expected[rel].status}  # fmt: skip
    assert not wrong
    assert not [r for r in rows.values() if r.code in ("crashed", "timeout", "internal", "worker-error")]
    assert_every_output_valid(tmp_path / "out", set(expected))
    ok_records = sum(r.records for r in rows.values() if r.status == "ok")
    assert summary.records == ok_records == pq.read_table(tmp_path / "out" / "records.parquet").num_rows > 0
    errors = json.loads((tmp_path / "out" / "errors.json").read_text())
    assert sorted(e["rel"] for e in errors) == sorted(r for r, e in expected.items() if e.status == "error")
    again = run_batch(tmp_path / "in", tmp_path / "out", NO_OCR)
    assert (again.processed, again.skipped) == (0, len(expected))


def _ok_rows(db: Path) -> set[str]:
    if not db.exists():
        return set()
    try:
        with sqlite3.connect(db, timeout=10) as conn:
            return {r[0] for r in conn.execute("SELECT rel FROM files WHERE status='ok'")}
    except sqlite3.OperationalError:  # created but its tables not yet
        return set()


def _batch_cmd(source: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "zhibiao", "batch", str(source), "-o", str(out), "--workers", "2",
            "--no-ocr", "--json-log", "--no-report"]  # fmt: skip


def test_sigkill_halfway_then_rerun_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    require(DEV)
    rels = copy_dev_files(tmp_path / "in", DIGITAL, copies=4)
    out = tmp_path / "out"
    driver = subprocess.Popen(
        _batch_cmd(tmp_path / "in", out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while len(_ok_rows(manifest_path(out))) < 10 and time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.05)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    done_at_kill = _ok_rows(manifest_path(out))
    assert 10 <= len(done_at_kill) < len(rels), "the kill must land halfway"
    rerun = subprocess.run(_batch_cmd(tmp_path / "in", out), capture_output=True, text=True, timeout=300)
    events = [json.loads(line) for line in rerun.stdout.splitlines()]
    start = next(e for e in events if e["event"] == "start")
    redone = {e["rel"] for e in events if e["event"] == "file"}
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert start["skipped"] == len(done_at_kill) and not redone & done_at_kill
    assert redone | done_at_kill == rels
    rows = manifest_rows(out)
    assert set(rows) == rels and {r.status for r in rows.values()} == {"ok"}
    assert_every_output_valid(out, rels)
    table = pq.read_table(out / "records.parquet")
    assert table.num_rows == sum(r.records for r in rows.values())
    files = table.column("file").to_pylist()
    assert len(set(files)) == len(rels)  # every document's records, each document once


def test_hang_crash_and_memory_faults_are_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in"
    src.mkdir()
    sample = Path(__file__).resolve().parents[1] / "extraction" / "samples" / "sample_narrative.txt"
    names = [
        "hang.txt",
        "exit.txt",
        "kill.txt",
        "raise.txt",
        "alloc.txt",
        "fine1.txt",
        "fine2.txt",
        "fine3.txt",
    ]
    for name in names:
        shutil.copyfile(sample, src / name)
    faults = ",".join(f"{n}={n.split('.')[0]}" for n in names[:5])
    monkeypatch.setenv("ZHIBIAO_BATCH_FAULTS", faults)
    options = BatchOptions(workers=2, ocr=False, timeout=4, max_memory_mb=1024)
    began = time.monotonic()
    summary = run_batch(src, tmp_path / "out", options)
    assert time.monotonic() - began < 60
    rows = manifest_rows(tmp_path / "out")
    got = {rel: (r.status, r.code) for rel, r in rows.items()}
    assert got == {
        "hang.txt": ("timeout", "timeout"),
        "exit.txt": ("error", "crashed"),
        "kill.txt": ("error", "crashed"),
        "raise.txt": ("error", "worker-error"),
        "alloc.txt": ("error", "too-large"),
        "fine1.txt": ("ok", None),
        "fine2.txt": ("ok", None),
        "fine3.txt": ("ok", None),
    }
    assert "SIGKILL" in rows["kill.txt"].reason and "exit code 70" in rows["exit.txt"].reason
    assert (summary.ok, summary.error, summary.timeout) == (3, 4, 1)
    for rel in ("hang.txt", "kill.txt"):  # a failure JSON stands in for the document
        result = ExtractionResult.model_validate_json(output_path(tmp_path / "out", rel).read_bytes())
        assert result.errors[0].code == rows[rel].code and result.source.sha256
    monkeypatch.delenv("ZHIBIAO_BATCH_FAULTS")
    retry = run_batch(src, tmp_path / "out", BatchOptions(workers=2, ocr=False, retry_failed=True))
    assert (retry.processed, retry.ok) == (5, 5)


def test_scan_is_ocred_in_a_batch(tmp_path: Path) -> None:
    scan = require(DEV / SCANS[0])
    (tmp_path / "in").mkdir()
    shutil.copyfile(scan, tmp_path / "in" / "page.png")
    shutil.copyfile(DEV / DIGITAL[0], tmp_path / "in" / DIGITAL[0])
    summary = run_batch(tmp_path / "in", tmp_path / "out", BatchOptions(workers=1, timeout=300))
    assert (summary.ok, summary.error) == (2, 0)
    result = ExtractionResult.model_validate_json(output_path(tmp_path / "out", "page.png").read_bytes())
    assert "ocr" in result.timings and result.tables and result.tables[0].cells
