"""Aggregate a batch output directory: ``records.parquet|csv|xlsx`` and ``errors.csv|json``.

Documents are taken from the status manifest (one row per input, so no document is counted twice),
or — for a directory without one — from every ``*.json`` under it outside ``report/``. Rows stream
through one pass (Parquet row groups, CSV), the XLSX is then written from the Parquet file; Excel's
row limit is respected (the XLSX is skipped with a warning beyond it).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhibiao.batch.inputs import output_path
from zhibiao.batch.manifest import FAILED, Manifest, manifest_path

PARQUET, CSV, XLSX = "records.parquet", "records.csv", "records.xlsx"
ERRORS_CSV, ERRORS_JSON = "errors.csv", "errors.json"
ERROR_COLUMNS = ["rel", "status", "code", "reason", "seconds", "attempts", "worker"]
EXCEL_MAX_ROWS = 1_048_575
BATCH_ROWS = 5000
INT_COLUMNS = {"year", "page", "table"}
FLOAT_COLUMNS = {
    "budget_initial",
    "budget_adjusted",
    "budget_executed",
    "budget_execution_rate",
    "target_value",
    "actual_value",
    "weight",
    "score",
    "confidence",
}


@dataclass
class CollectStats:
    documents: int = 0
    records: int = 0
    errors: int = 0
    unreadable: list[str] = field(default_factory=list)
    """Document JSONs named by the manifest that are missing or invalid."""
    warnings: list[str] = field(default_factory=list)


def record_schema():  # type: ignore[no-untyped-def]
    """The Parquet schema of the record rows (``zhibiao.export.writers.RECORD_COLUMNS``)."""
    import pyarrow as pa

    from zhibiao.export.writers import RECORD_COLUMNS

    def kind(col: str) -> Any:
        return pa.int64() if col in INT_COLUMNS else pa.float64() if col in FLOAT_COLUMNS else pa.string()

    return pa.schema([(col, kind(col)) for col in RECORD_COLUMNS])


def document_paths(out_dir: Path) -> Iterator[Path]:
    """Document JSONs of a batch: per manifest row (sorted by relative path), else found on disk."""
    db = manifest_path(out_dir)
    if db.exists():
        with Manifest(db) as manifest:
            rels = [row.rel for row in manifest.rows()]
        yield from (output_path(out_dir, rel) for rel in rels)
        return
    for path in sorted(out_dir.rglob("*.json")):
        rel = path.relative_to(out_dir)
        if rel.parts[0] != "report" and path.name != ERRORS_JSON and not path.name.startswith("."):
            yield path


def document_rows(out_dir: Path, stats: CollectStats) -> Iterator[dict[str, Any]]:
    """Record rows of every document, in order; bad or missing JSONs are noted in ``stats``."""
    from zhibiao.export.writers import record_rows
    from zhibiao.result import ExtractionResult

    for path in document_paths(out_dir):
        try:
            result = ExtractionResult.model_validate_json(path.read_bytes())
        except (OSError, ValueError):
            stats.unreadable.append(str(path.relative_to(out_dir)))
            continue
        stats.documents += 1
        for row in record_rows(result):
            stats.records += 1
            yield _typed(row)


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """Coerce numbers that a document stored with another type (int weight -> float)."""
    for col in FLOAT_COLUMNS:
        if isinstance(row.get(col), int | float) and not isinstance(row[col], bool):
            row[col] = float(row[col])
    return row


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def write_parquet_and_csv(rows: Iterator[dict[str, Any]], out_dir: Path) -> int:
    """Stream the rows into ``records.parquet`` and ``records.csv`` (each renamed into place at the end)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zhibiao.export.writers import write_csv

    schema = record_schema()
    parquet, csv_path = out_dir / PARQUET, out_dir / CSV
    count = 0
    with pq.ParquetWriter(_tmp(parquet), schema) as writer:
        write_csv([], _tmp(csv_path))
        for chunk in _chunks(rows, BATCH_ROWS):
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            write_csv(chunk, _tmp(csv_path), append=True)
            count += len(chunk)
    os.replace(_tmp(parquet), parquet)
    os.replace(_tmp(csv_path), csv_path)
    return count


def write_xlsx_from_parquet(out_dir: Path, count: int, stats: CollectStats) -> None:
    import pyarrow.parquet as pq

    from zhibiao.export.writers import write_xlsx

    target = out_dir / XLSX
    if count > EXCEL_MAX_ROWS:
        target.unlink(missing_ok=True)
        stats.warnings.append(f"{count} records exceed Excel's row limit: {XLSX} not written (use {PARQUET})")
        return
    parquet = pq.ParquetFile(out_dir / PARQUET)
    rows = (row for batch in parquet.iter_batches(BATCH_ROWS) for row in batch.to_pylist())
    write_xlsx(rows, target)


def write_errors(out_dir: Path) -> int:
    """``errors.csv`` and ``errors.json``: every input whose status is error or timeout."""
    from zhibiao.export.writers import atomic_write_text

    db = manifest_path(out_dir)
    failed: list[dict[str, Any]] = []
    if db.exists():
        with Manifest(db) as manifest:
            failed = [{col: getattr(row, col) for col in ERROR_COLUMNS} for row in manifest.rows(FAILED)]
    atomic_write_text(out_dir / ERRORS_JSON, json.dumps(failed, ensure_ascii=False, indent=1) + "\n")
    tmp = _tmp(out_dir / ERRORS_CSV)
    with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ERROR_COLUMNS)
        writer.writeheader()
        writer.writerows(failed)
    os.replace(tmp, out_dir / ERRORS_CSV)
    return len(failed)


def collect(out_dir: Path) -> CollectStats:
    """(Re)build the aggregate record files and the errors report of a batch output directory."""
    out_dir = Path(out_dir)
    stats = CollectStats()
    count = write_parquet_and_csv(document_rows(out_dir, stats), out_dir)
    write_xlsx_from_parquet(out_dir, count, stats)
    stats.errors = write_errors(out_dir)
    return stats
