"""Wide multi-project tables: one row per project, column groups per indicator category.

A header region names categories (产出指标 / 效益指标 / 满意度指标) and, above or below them, roles
(年度指标内容 | 完成情况); other header columns name the project and its budget. Each (project,
category) cell pair yields indicators: the cells' sentences are split into items, parsed into
phrases and paired by name (``sentences``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zhibiao.model import Cell, Table
from zhibiao.records.context import TableContext
from zhibiao.records.grid import TableView, cell_number, confidence, provenance
from zhibiao.records.headers import match_field, match_fields, money_unit
from zhibiao.records.identity import identity_from_texts
from zhibiao.records.sentences import Phrase, pair_phrases, parse_phrase, split_items
from zhibiao.records.values import clean_text
from zhibiao.result import Budget, Indicator, Project, Value

MAX_HEADER_ROWS = 6
SENTENCE_FACTOR = 0.9
"""Confidence factor of indicators read from sentences by rules."""
POSITION_FACTOR = 0.8
"""Further factor when a target and an actual were paired by position, not by name."""
PROJECT_FIELDS = ("project_name", "project_code", "department", "implementing_unit")
BUDGET_FIELDS = ("initial", "adjusted", "executed", "execution_rate")


@dataclass(frozen=True)
class CategoryColumns:
    """The columns of one indicator category: its target (年度指标内容) and actual (完成情况) columns."""

    category: str
    target: int | None
    actual: int | None


@dataclass
class WideLayout:
    """Header rows, plain field columns and category column groups of a wide table."""

    last_header_row: int
    columns: dict[str, int] = field(default_factory=dict)
    categories: list[CategoryColumns] = field(default_factory=list)
    unit: str | None = None


def _category_row(view: TableView) -> int | None:
    """The first row naming at least two indicator categories in different cells."""
    for row in range(min(MAX_HEADER_ROWS, view.n_rows)):
        found = {match_field(c.text, "wide_category") for c in view.row_cells(row)} - {None}
        if len(found) >= 2:
            return row
    return None


def _header_path(view: TableView, col: int, rows: range) -> list[Cell]:
    """The distinct header cells above each other at one column."""
    path: list[Cell] = []
    for row in rows:
        cell = view.cell(row, col)
        if cell is not None and all(cell is not p for p in path):
            path.append(cell)
    return path


def _role_rows(view: TableView, category_row: int) -> list[int]:
    """Rows next to the category row that name target/actual roles."""
    rows = []
    for row in range(max(0, category_row - 2), min(view.n_rows, category_row + 3)):
        if row == category_row:
            continue
        roles = [c for c in view.anchored(row) if match_field(c.text, "wide_role")]
        if len(roles) >= 2:
            rows.append(row)
    return rows


def find_wide_layout(view: TableView) -> WideLayout | None:
    """The header of a wide multi-project table, or None when the table is not one."""
    category_row = _category_row(view)
    if category_row is None:
        return None
    role_rows = _role_rows(view, category_row)
    last = max([category_row, *role_rows])
    first = min([category_row, *role_rows])
    header_rows = range(max(0, first - 1), last + 1)
    layout = WideLayout(last_header_row=last)
    groups: dict[str, dict[str, int]] = {}
    for col in range(view.n_cols):
        path = _header_path(view, col, header_rows)
        category = next((k for c in path if (k := match_field(c.text, "wide_category"))), None)
        role = next((k for c in reversed(path) if (k := match_field(c.text, "wide_role"))), None)
        if category:
            groups.setdefault(category, {}).setdefault(role or "target", col)
            continue
        for cell in path:
            name = match_fields(cell.text, ("identity", "budget_column"))
            if name and name not in layout.columns:
                layout.columns[name] = col
            layout.unit = layout.unit or money_unit(cell.text)
    if "project_name" not in layout.columns:
        return None
    layout.categories = [CategoryColumns(k, v.get("target"), v.get("actual")) for k, v in groups.items()]
    return layout


def _strip(text: str) -> str:
    return text.strip().rstrip("。；;，,")


def _phrases(cell: Cell | None) -> list[Phrase]:
    return [parse_phrase(item) for item in split_items(cell.text if cell else "")]


def indicators_from_cells(
    table: Table, category: str, target_cell: Cell | None, actual_cell: Cell | None
) -> list[Indicator]:
    """Indicators of one (project, category) cell pair: split, parse, pair by name."""
    indicators = []
    for target, actual, score in pair_phrases(_phrases(target_cell), _phrases(actual_cell)):
        lead = target or actual
        if lead is None:
            continue
        name = (target.name if target else "") or (actual.name if actual else "") or lead.text
        actual_value = actual.value if actual else None
        if actual is not None and target is not None and (target.value is None or target.value.value is None):
            actual_value = Value(text=_strip(actual.text))
        factor = SENTENCE_FACTOR * (POSITION_FACTOR if score < 0 or target is None or actual is None else 1.0)
        cells = [c for c, p in ((target_cell, target), (actual_cell, actual)) if p is not None]
        printed = {k: p.text for k, p in (("target", target), ("actual", actual)) if p is not None}
        indicators.append(
            Indicator(
                level1=category,
                name=clean_text(name),
                operator=target.operator if target else None,
                target=target.value if target else None,
                actual=actual_value,
                confidence=confidence(table, cells, factor),
                provenance=provenance(table, cells, printed),
            )
        )
    return indicators


def _row_indicators(
    table: Table, view: TableView, layout: WideLayout, row: int, seen: set[int]
) -> list[Indicator]:
    """Indicators of every category cell pair on a row (cells merged down from above are skipped)."""
    indicators: list[Indicator] = []
    for group in layout.categories:
        target = view.cell(row, group.target) if group.target is not None else None
        actual = view.cell(row, group.actual) if group.actual is not None else None
        fresh = [c for c in (target, actual) if c is not None and id(c) not in seen]
        if not fresh:
            continue
        seen.update(id(c) for c in fresh)
        indicators.extend(indicators_from_cells(table, group.category, target, actual))
    return indicators


def _project_from_row(
    table: Table, view: TableView, layout: WideLayout, row: int, unit: str | None
) -> Project:
    """The project a data row names: identity, budget figures and its total score."""

    def cell(name: str) -> Cell | None:
        col = layout.columns.get(name)
        return view.cell(row, col) if col is not None else None

    texts = {k: (c.text if (c := cell(k)) else None) for k in PROJECT_FIELDS}
    identity = identity_from_texts(
        texts["project_name"], texts["project_code"], texts["department"], texts["implementing_unit"]
    )
    figures = {k: cell_number(cell(k)) for k in BUDGET_FIELDS}
    has_money = any(v is not None for v in figures.values())
    budget = Budget(unit=unit if has_money else None, **{k: v for k, v in figures.items() if v is not None})
    used = [cell(k) for k in (*PROJECT_FIELDS, *BUDGET_FIELDS, "score", "weight")]
    return Project(
        name=identity.name,
        code=identity.code,
        department=identity.department,
        implementing_unit=identity.implementing_unit,
        budget=budget,
        total_weight=cell_number(cell("weight")),
        total_score=cell_number(cell("score")),
        family="wide",
        provenance=provenance(table, used),
    )


def _is_label(text: str) -> bool:
    """A 合计 row or a header repeated below the header region."""
    return bool(match_field(text, "row_marker") or match_field(text, "identity"))


def parse_wide_table(table: Table, context: TableContext | None = None) -> list[Project]:
    """One Project per project row of a wide table; rows under a merged project cell add indicators."""
    view = TableView(table)
    layout = find_wide_layout(view)
    if layout is None:
        return []
    unit = layout.unit or (context.unit if context else None)
    name_col = layout.columns["project_name"]
    projects: list[Project] = []
    current: tuple[Cell, Project] | None = None
    seen: set[int] = set()
    for row in range(layout.last_header_row + 1, view.n_rows):
        name_cell = view.cell(row, name_col)
        if name_cell is None or not clean_text(name_cell.text) or _is_label(name_cell.text):
            current = None
            continue
        if current is None or current[0] is not name_cell:
            current = (name_cell, _project_from_row(table, view, layout, row, unit))
            projects.append(current[1])
        current[1].indicators.extend(_row_indicators(table, view, layout, row, seen))
    return projects
