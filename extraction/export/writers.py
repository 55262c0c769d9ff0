"""Write results: one contract JSON per document, and flat record tables (CSV, XLSX, Parquet)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from zhibiao.export.schema import validate_document
from zhibiao.result import ExtractionResult, Indicator, NarrativeIndicator, Project, Provenance, Value

RECORD_COLUMNS = [
    "file",
    "department",
    "year",
    "family",
    "project",
    "project_code",
    "project_department",
    "implementing_unit",
    "budget_unit",
    "budget_initial",
    "budget_adjusted",
    "budget_executed",
    "budget_execution_rate",
    "level1",
    "level2",
    "name",
    "operator",
    "target_text",
    "target_value",
    "target_unit",
    "actual_text",
    "actual_value",
    "actual_unit",
    "weight",
    "score",
    "reason",
    "confidence",
    "flags",
    "reader",
    "page",
    "table",
    "cells",
    "char_span",
]


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so that readers never see half of it (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def document_payload(result: ExtractionResult) -> dict[str, Any]:
    """The contract JSON of one result, validated against the published schema."""
    payload = result.model_dump(mode="json")
    validate_document(payload)
    return payload


def write_json(result: ExtractionResult, path: Path) -> Path:
    atomic_write_text(path, json.dumps(document_payload(result), ensure_ascii=False, indent=1) + "\n")
    return path


def _value_cells(prefix: str, value: Value | None) -> dict[str, Any]:
    return {
        f"{prefix}_text": value.text if value else None,
        f"{prefix}_value": value.value if value else None,
        f"{prefix}_unit": value.unit if value else None,
    }


def _provenance_cells(prov: Provenance | None) -> dict[str, Any]:
    if prov is None:
        return {"reader": None, "page": None, "table": None, "cells": None, "char_span": None}
    return {
        "reader": prov.reader,
        "page": prov.page,
        "table": prov.table,
        "cells": json.dumps(prov.cells) if prov.cells else None,
        "char_span": json.dumps(list(prov.char_span)) if prov.char_span else None,
    }


def _project_cells(project: Project | None) -> dict[str, Any]:
    if project is None:
        return {}
    budget = project.budget
    return {
        "family": project.family,
        "project": project.name,
        "project_code": project.code,
        "project_department": project.department,
        "implementing_unit": project.implementing_unit,
        "budget_unit": budget.unit,
        "budget_initial": budget.initial,
        "budget_adjusted": budget.adjusted,
        "budget_executed": budget.executed,
        "budget_execution_rate": budget.execution_rate,
    }


def _indicator_row(result: ExtractionResult, project: Project | None, ind: Indicator) -> dict[str, Any]:
    return {
        "file": result.source.path,
        "department": result.department,
        "year": result.year,
        **_project_cells(project),
        "level1": ind.level1,
        "level2": ind.level2,
        "name": ind.name,
        "operator": ind.operator,
        **_value_cells("target", ind.target),
        **_value_cells("actual", ind.actual),
        "weight": ind.weight,
        "score": ind.score,
        "reason": ind.reason,
        "confidence": ind.confidence,
        "flags": ";".join(f.code for f in ind.flags) or None,
        **_provenance_cells(ind.provenance),
    }


def _narrative_row(result: ExtractionResult, projects: dict[str, Project], fact: NarrativeIndicator) -> dict:
    project = projects.get(fact.project or "")
    row = {
        "file": result.source.path,
        "department": result.department,
        "year": result.year,
        **_project_cells(project),
        "family": "narrative",
        "project": fact.project,
        "name": fact.name,
        **_value_cells("target", fact.target),
        **_value_cells("actual", fact.actual),
        "confidence": fact.confidence,
        "flags": ";".join(f.code for f in fact.flags) or None,
        **_provenance_cells(fact.provenance),
    }
    return row


def record_rows(result: ExtractionResult) -> Iterator[dict[str, Any]]:
    """One flat row per indicator (table indicators, then narrative facts), project columns repeated."""
    for project in result.projects:
        for ind in project.indicators:
            yield {col: None for col in RECORD_COLUMNS} | _indicator_row(result, project, ind)
    by_name = {p.name or "": p for p in result.projects}
    for fact in result.narrative_indicators:
        yield {col: None for col in RECORD_COLUMNS} | _narrative_row(result, by_name, fact)


def write_csv(rows: Iterable[dict[str, Any]], path: Path, append: bool = False) -> int:
    """Write (or append) record rows as UTF-8 CSV with a BOM so Excel shows Chinese right."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not append or not path.exists() or path.stat().st_size == 0
    count = 0
    with path.open("a" if append else "w", encoding="utf-8-sig" if new else "utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=RECORD_COLUMNS)
        if new:
            writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_xlsx(rows: Iterable[dict[str, Any]], path: Path) -> Path:
    """All record rows in one sheet, header frozen (openpyxl write-only mode: flat memory)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("records")
    sheet.freeze_panes = "A2"
    sheet.append(RECORD_COLUMNS)
    for row in rows:
        sheet.append([row.get(col) for col in RECORD_COLUMNS])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    workbook.save(tmp)
    os.replace(tmp, path)
    return path


def read_csv_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))
