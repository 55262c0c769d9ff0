"""One document's records flattened for review: what the records table lists, which cells each
record cites, which of those cells hold the flagged values, and the provenance panel's data.

Item ids are stable within a page: ``r<N>`` for records (indicators, narrative facts, score-table
rows), ``p<N>`` for projects, ``s<N>`` for score tables.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from zhibiao.model import Cell, Table
from zhibiao.report.layout import number_text
from zhibiao.result import (
    ExtractionResult,
    Flag,
    Indicator,
    NarrativeIndicator,
    Project,
    Provenance,
    ScoreRow,
    Value,
)

SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}
FLAG_FIELDS: dict[str, tuple[str, ...]] = {
    "score_exceeds_weight": ("score", "weight"),
    "score_despite_miss": ("actual", "target", "score"),
    "score_cut_without_reason": ("score", "reason"),
    "qualitative_score": ("actual", "score"),
    "operator_unknown": ("operator",),
    "operator_missing": ("target",),
    "operator_vs_name": ("operator", "name"),
}
"""The record fields a flag is about: their cells are the flagged values marked on the page."""

PAGE_SOURCE_RE = re.compile(r"^p(\d+)")
CellKey = tuple[int, int, int]
"""(table index, row, col) of a cell."""


@dataclass
class ReviewItem:
    """A record as the review page lists it."""

    id: str
    kind: str
    """``indicator``, ``narrative`` or ``score``."""
    name: str
    project: str | None = None
    level1: str | None = None
    level2: str | None = None
    operator: str | None = None
    target: Value | None = None
    actual: Value | None = None
    weight: float | None = None
    score: float | None = None
    reason: str | None = None
    confidence: float = 1.0
    flags: list[Flag] = field(default_factory=list)
    provenance: Provenance | None = None
    sentence: str | None = None

    @property
    def severity(self) -> str | None:
        """The worst severity among the item's flags (None when unflagged)."""
        return worst_severity(f.severity for f in self.flags)

    def cell_keys(self) -> list[CellKey]:
        prov = self.provenance
        if prov is None or prov.table is None:
            return []
        return [(prov.table, row, col) for row, col in prov.cells]


def worst_severity(severities: Iterable[str]) -> str | None:
    ranked = sorted(severities, key=lambda s: SEVERITY_RANK.get(s, 0), reverse=True)
    return ranked[0] if ranked else None


def _indicator_item(number: int, project: Project, ind: Indicator) -> ReviewItem:
    return ReviewItem(
        id=f"r{number}",
        kind="indicator",
        name=ind.name,
        project=project.name,
        level1=ind.level1,
        level2=ind.level2,
        operator=ind.operator,
        target=ind.target,
        actual=ind.actual,
        weight=ind.weight,
        score=ind.score,
        reason=ind.reason,
        confidence=ind.confidence,
        flags=ind.flags,
        provenance=ind.provenance,
    )


def _narrative_item(number: int, fact: NarrativeIndicator) -> ReviewItem:
    return ReviewItem(
        id=f"r{number}",
        kind="narrative",
        name=fact.name,
        project=fact.project,
        target=fact.target,
        actual=fact.actual,
        confidence=fact.confidence,
        flags=fact.flags,
        provenance=fact.provenance,
        sentence=fact.sentence,
    )


def _score_item(number: int, title: str | None, row: ScoreRow) -> ReviewItem:
    return ReviewItem(
        id=f"r{number}",
        kind="score",
        name=row.name or row.level2 or row.level1 or "",
        project=title,
        level1=row.level1,
        level2=row.level2,
        weight=row.weight,
        score=row.score,
        flags=row.flags,
        provenance=row.provenance,
    )


def review_items(result: ExtractionResult) -> list[ReviewItem]:
    """Indicators, then narrative facts, then score-table rows, numbered in that order."""
    items: list[ReviewItem] = []
    for project in result.projects:
        items.extend(_indicator_item(len(items), project, ind) for ind in project.indicators)
    for fact in result.narrative_indicators:
        items.append(_narrative_item(len(items), fact))
    for table in result.score_tables:
        items.extend(_score_item(len(items), table.title, row) for row in table.rows)
    return items


def cell_page(table: Table, cell: Cell) -> int | None:
    """The page a cell's box is on: ``pN`` in its source for multi-page tables, else the table's."""
    match = PAGE_SOURCE_RE.match(cell.source or "")
    if match and len(table.pages) > 1:
        return int(match.group(1))
    return table.page


def cited_pages(prov: Provenance, table: Table | None) -> list[int]:
    """Pages the cited cells of a multi-page table lie on."""
    if table is None or len(table.pages) <= 1:
        return []
    cited = set(map(tuple, prov.cells))
    pages = {cell_page(table, c) for c in table.cells if (c.row, c.col) in cited}
    return sorted(p for p in pages if p is not None)


def tables_by_index(tables: list[Table]) -> dict[int, Table]:
    """Tables keyed by the number provenance cites (``Table.index``, else the 1-based position)."""
    return {table.index or position: table for position, table in enumerate(tables, 1)}


def citing_items(items: Iterable[ReviewItem]) -> dict[CellKey, list[str]]:
    """Cell -> ids of the records that cite it."""
    cited: dict[CellKey, list[str]] = defaultdict(list)
    for item in items:
        for key in item.cell_keys():
            cited[key].append(item.id)
    return cited


# ---------------------------------------------------------------- flagged values


def _fold(text: str) -> str:
    return "".join(text.split())


def _number_of(text: str) -> float | None:
    cleaned = _fold(text).replace(",", "").rstrip("%％")
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def field_value(item: ReviewItem, name: str) -> tuple[str | None, float | None]:
    """A record field as (text, number) for finding the cell that printed it."""
    value = getattr(item, name, None)
    if isinstance(value, Value):
        return value.text, value.value
    if isinstance(value, float | int):
        return None, float(value)
    if isinstance(value, str):
        return value, None
    return None, None


def cell_prints(cell: Cell, text: str | None, number: float | None) -> bool:
    """Whether the cell shows this text or this number."""
    if text and _fold(cell.text) and _fold(cell.text) == _fold(text):
        return True
    if number is None:
        return False
    shown = cell.number if cell.number is not None else _number_of(cell.text)
    return shown is not None and abs(shown - number) < 1e-9


def flagged_cells(item: ReviewItem, table: Table | None) -> dict[tuple[int, int], str]:
    """(row, col) -> worst severity, for the cited cells that hold the values a flag is about.

    A flag whose fields match no cited cell marks the record's first cited cell, so that every
    flagged record is visible on its table.
    """
    if not item.flags or item.provenance is None or not item.provenance.cells:
        return {}
    cited = set(map(tuple, item.provenance.cells))
    cells = [c for c in (table.cells if table else []) if (c.row, c.col) in cited]
    marked: dict[tuple[int, int], str] = {}
    first = tuple(item.provenance.cells[0])
    for flag in item.flags:
        hits = [
            (c.row, c.col)
            for name in FLAG_FIELDS.get(flag.code, ())
            for c in cells
            if cell_prints(c, *field_value(item, name))
        ]
        for key in hits or [first]:
            marked[key] = worst_severity([marked.get(key, flag.severity), flag.severity]) or flag.severity
    return marked


# ---------------------------------------------------------------- provenance panel data


def value_text(value: Value | None) -> str:
    return value.text if value is not None else ""


def _cells_text(prov: Provenance, table: Table | None) -> str:
    cells = " ".join(f"[{r},{c}]" for r, c in prov.cells)
    if table is None:
        return cells
    refs = {(c.row, c.col): c.source for c in table.cells if c.source}
    sources = list(dict.fromkeys(refs[tuple(rc)] for rc in prov.cells if tuple(rc) in refs))
    return f"{cells} ({', '.join(sources)})" if sources else cells


def table_label(table: Table | None, number: int | None) -> str:
    if number is None:
        return ""
    label = f"#{number}"
    if table is not None:
        name = table.title or table.sheet
        label += f" {name}" if name else ""
    return label


def provenance_fields(prov: Provenance | None, table: Table | None) -> list[tuple[str, str]]:
    """Label/value rows of the provenance panel (only what the record has)."""
    if prov is None:
        return [("provenance", "none recorded")]
    rows = [
        ("reader", prov.reader),
        ("page", "" if prov.page is None else str(prov.page)),
        ("cells on page", ", ".join(map(str, cited_pages(prov, table)))),
        ("table", table_label(table, prov.table)),
        ("cells", _cells_text(prov, table) if prov.cells else ""),
        ("bbox", ", ".join(f"{v:g}" for v in prov.bbox) if prov.bbox else ""),
        ("char span", f"{prov.char_span[0]}–{prov.char_span[1]}" if prov.char_span else ""),
        ("source", prov.source or ""),
        ("as printed", "; ".join(f"{k}: {v}" for k, v in prov.printed.items())),
        ("repeats", "; ".join(prov.repeats)),
    ]
    return [(label, value) for label, value in rows if value]


def flag_data(flag: Flag) -> dict[str, Any]:
    return {
        "code": flag.code,
        "severity": flag.severity,
        "message": flag.message,
        "evidence": [[k, _evidence_text(v)] for k, v in flag.evidence.items()],
    }


def _evidence_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return number_text(value)
    return str(value)


def item_fields(item: ReviewItem) -> list[tuple[str, str]]:
    rows = [
        ("kind", item.kind),
        ("project", item.project or ""),
        ("level 1 / 2", " / ".join(x for x in (item.level1, item.level2) if x)),
        ("operator", item.operator or ""),
        ("target", value_text(item.target)),
        ("actual", value_text(item.actual)),
        ("weight", number_text(item.weight)),
        ("score", number_text(item.score)),
        ("reason", item.reason or ""),
        ("sentence", item.sentence or ""),
        ("confidence", f"{item.confidence:.2f}"),
    ]
    return [(label, value) for label, value in rows if value]


def cell_id(table: int, row: int, col: int) -> str:
    return f"t{table}-r{row}-c{col}"


def panel_entry(
    title: str,
    fields: list[tuple[str, str]],
    flags: list[Flag],
    cells: list[str] | None = None,
    anchor: str | None = None,
) -> dict[str, Any]:
    """What the provenance panel shows for one selectable item (rendered by the page's script)."""
    return {
        "title": title,
        "fields": [list(pair) for pair in fields],
        "flags": [flag_data(f) for f in flags],
        "cells": cells or [],
        "anchor": anchor,
    }


def item_panel(item: ReviewItem, tables: dict[int, Table]) -> dict[str, Any]:
    prov = item.provenance
    table = tables.get(prov.table) if prov and prov.table is not None else None
    anchor = f"sent-{item.id}" if item.kind == "narrative" else None
    return panel_entry(
        item.name,
        item_fields(item) + provenance_fields(prov, table),
        item.flags,
        [cell_id(*key) for key in item.cell_keys()],
        anchor,
    )


def project_panel(project: Project, tables: dict[int, Table]) -> dict[str, Any]:
    prov = project.provenance
    table = tables.get(prov.table) if prov and prov.table is not None else None
    budget = project.budget.model_dump(exclude_none=True)
    fields = [
        ("kind", "project"),
        ("code", project.code or ""),
        ("family", project.family or ""),
        ("department", project.department or ""),
        ("implementing unit", project.implementing_unit or ""),
        ("budget", "; ".join(f"{k}: {_evidence_text(v)}" for k, v in budget.items())),
        ("total weight", number_text(project.total_weight)),
        ("total score", number_text(project.total_score)),
    ]
    keys = [cell_id(prov.table, r, c) for r, c in prov.cells] if prov and prov.table is not None else []
    fields = [(k, v) for k, v in fields if v] + provenance_fields(prov, table)
    return panel_entry(project.name or "(unnamed project)", fields, project.flags, keys)


def panel_data(result: ExtractionResult, items: list[ReviewItem]) -> dict[str, dict[str, Any]]:
    """Every selectable item's panel data, keyed by item id."""
    tables = tables_by_index(result.tables)
    data = {item.id: item_panel(item, tables) for item in items}
    for number, project in enumerate(result.projects):
        data[f"p{number}"] = project_panel(project, tables)
    for number, table in enumerate(result.score_tables):
        fields = [
            ("kind", "score table"),
            ("rows", str(len(table.rows))),
            ("total weight", number_text(table.total_weight)),
            ("total score", number_text(table.total_score)),
        ]
        data[f"s{number}"] = panel_entry(
            table.title or "score table", [f for f in fields if f[1]], table.flags
        )
    return data
