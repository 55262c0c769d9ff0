"""The indicator block of a project form: header row -> one Indicator per 三级指标 row, plus 合计.

Columns are found by meaning (``headers.json`` group ``indicator_column``), never by position: the
header row is the row naming the most known indicator headers. 一级/二级 labels are carried down
merged (or, from readers without merges, empty) cells. A narrative 指标值/完成值 cell gets no number
by rules; the token classifier (``zhibiao.models.cell_source``) reads one where it is unambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from zhibiao.model import Cell, Table
from zhibiao.records.grid import TableView, cell_number, cell_value_text, confidence, provenance
from zhibiao.records.headers import match_field
from zhibiao.records.values import clean_text, normalize_operator, parse_value
from zhibiao.result import Indicator, Value

GROUP = "indicator_column"
MIN_HEADER_FIELDS = 3
KEY_FIELDS = frozenset({"name", "target", "actual"})
DATE_RE = re.compile(r"^(?:截至|截止|于|在)?(?:19|20)\d{2}年(?:\d{1,2}月)?")
"""A deadline (2023年12月底前) is not a quantity: ``parse_value`` would read 2023 年."""
NARRATIVE_MIN_CHARS = 30
SCORE_LABELS = frozenset({"总分", "自评总分", "总得分", "得分合计"})
VALUE_FIELDS = ("target", "actual")
QUALITATIVE = "定性"


@dataclass(frozen=True)
class IndicatorLayout:
    """Where the indicator header sits and which column holds which field."""

    first_row: int
    last_row: int
    columns: dict[str, int]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.columns)


@dataclass
class IndicatorBlock:
    """What the indicator rows of one table hold."""

    layout: IndicatorLayout
    indicators: list[Indicator] = field(default_factory=list)
    total_weight: float | None = None
    total_score: float | None = None
    total_cells: list[Cell] = field(default_factory=list)


def header_fields(view: TableView, row: int, group: str = GROUP) -> dict[str, int]:
    """Field -> column of the header cells on a row (first occurrence of a field wins)."""
    found: dict[str, int] = {}
    for cell in view.row_cells(row):
        name = match_field(cell.text, group)
        if name and name not in found:
            found[name] = max(cell.col, 0)
    return found


def _is_sub_header(view: TableView, row: int) -> bool:
    """True when every non-empty cell starting on the row is a known indicator header."""
    cells = [c for c in view.anchored(row) if clean_text(c.text)]
    return bool(cells) and all(match_field(c.text, GROUP) for c in cells)


def find_indicator_header(view: TableView, start: int = 0) -> IndicatorLayout | None:
    """The row naming the most indicator headers (≥3, one of 三级指标/指标值/完成值).

    A following row of headers only (a split header) refines the columns.
    """
    best: tuple[int, int, dict[str, int]] | None = None
    for row in range(start, view.n_rows):
        fields = header_fields(view, row)
        qualifies = len(fields) >= MIN_HEADER_FIELDS and KEY_FIELDS & fields.keys()
        if qualifies and (best is None or len(fields) > best[0]):
            best = (len(fields), row, fields)
    if best is None:
        return None
    _, row, columns = best
    last = row
    if row + 1 < view.n_rows and _is_sub_header(view, row + 1):
        for name, col in header_fields(view, row + 1).items():
            columns[name] = col
        last = row + 1
    return IndicatorLayout(first_row=row, last_row=last, columns=columns)


def row_marker(view: TableView, row: int, before_col: int) -> tuple[str, Cell] | None:
    """``("total" | "end", label cell)`` when the row's first label (left of ``before_col``) is one."""
    for cell in view.anchored(row):
        if cell.col > before_col:
            break
        text = clean_text(cell.text)
        if not text:
            continue
        kind = match_field(text, "row_marker")
        return (kind, cell) if kind else None
    return None


def total_numbers(view: TableView, row: int, label: Cell) -> list[tuple[int, float, Cell]]:
    """(column, number, cell) of every number on a total row right of its label."""
    numbers = []
    for cell in view.row_cells(row):
        if cell.col <= label.col or cell is label:
            continue
        number = cell_number(cell)
        if number is not None:
            numbers.append((cell.col, number, cell))
    return numbers


def assign_totals(
    numbers: list[tuple[int, float, Cell]],
    columns: dict[str, int],
    label_text: str,
    weight_sums: Iterable[float] = (),
) -> tuple[float | None, float | None]:
    """(total_weight, total_score) from a total row's numbers.

    A number under the weight/score header goes there; otherwise two numbers are (weight, score);
    a lone number is the score on a 总分 row, the weight where it equals the indicator weights' sum.
    """
    weight = score = None
    loose: list[float] = []
    for col, number, _ in numbers:
        if col == columns.get("weight") and weight is None:
            weight = number
        elif col == columns.get("score") and score is None:
            score = number
        else:
            loose.append(number)
    if weight is None and score is None and len(loose) >= 2:
        return loose[0], loose[1]
    if loose and weight is None and score is None:
        lone = loose[0]
        if label_text not in SCORE_LABELS and any(abs(lone - s) < 1e-6 for s in weight_sums):
            return lone, None
        return None, lone
    if loose and weight is None:
        weight = loose[0]
    elif loose and score is None:
        score = loose[0]
    return weight, score


@dataclass
class LevelCarry:
    """一级/二级 labels carried down rows whose label cells are merged or empty."""

    level1: str | None = None
    level2: str | None = None

    @classmethod
    def after(cls, indicators: list[Indicator]) -> LevelCarry:
        """The labels in force after the last of these indicators (seeds a page continuation)."""
        last = indicators[-1] if indicators else None
        return cls(last.level1, last.level2) if last else cls()

    def update(self, level1: str, level2: str) -> None:
        if level1 and level1 != self.level1:
            self.level1, self.level2 = level1, None
        if level2:
            self.level2 = level2


def _column_cell(view: TableView, row: int, layout: IndicatorLayout, name: str) -> Cell | None:
    col = layout.columns.get(name)
    return view.cell(row, col) if col is not None else None


def read_operator(op_cell: Cell | None, stated: str | None) -> tuple[str | None, dict[str, str]]:
    """Canonical operator from the 指标性质 cell, else the one the target text states; printed form kept."""
    raw = clean_text(op_cell.text) if op_cell else ""
    operator = normalize_operator(raw) if raw else None
    printed = {"operator": raw} if raw and raw != operator else {}
    return operator or stated, printed


def is_narrative(text: str) -> bool:
    """A long sentence (a narrative 完成值): a number inside it is rarely *the* value."""
    return len(clean_text(text)) > NARRATIVE_MIN_CHARS


def value_of(cell: Cell | None, unit: str | None) -> tuple[Value | None, str | None]:
    """Value(text, number, unit) of a target/actual cell; a workbook's typed number wins.

    A narrative sentence keeps its text but no number (its first number is rarely the value).
    """
    text = cell_value_text(cell)
    value, operator = parse_value(text, unit=unit)
    if value is not None and cell is not None and cell.number is not None:
        value = value.model_copy(update={"value": float(cell.number)})
    elif value is not None and (is_narrative(text) or DATE_RE.match(clean_text(text))):
        value = value.model_copy(update={"value": None, "unit": unit or None})
    return value, operator


def needs_tagger(indicator: Indicator, field: str) -> bool:
    """A narrative target/actual with no number, of a row that is not qualitative (定性)."""
    value: Value | None = getattr(indicator, field)
    return (
        value is not None
        and value.value is None
        and is_narrative(value.text)
        and indicator.operator != QUALITATIVE
    )


def with_tagger_values(indicators: list[Indicator]) -> list[Indicator]:
    """The block's indicators with numbers the token classifier reads in narrative cells (one batch).

    Without the optional ``zhibiao.models`` package (or with the tagger off) nothing changes.
    """
    wanted = [(i, f) for i, ind in enumerate(indicators) for f in VALUE_FIELDS if needs_tagger(ind, f)]
    if not wanted:
        return indicators
    try:
        from zhibiao.models.cell_source import tag_indicator_fields
    except ImportError:  # the models package (or onnxruntime) is optional at run time
        return indicators
    return tag_indicator_fields(indicators, wanted)


def read_indicator_row(
    table: Table, view: TableView, row: int, layout: IndicatorLayout, carry: LevelCarry
) -> Indicator | None:
    """One indicator from a data row, or None when the row names none."""
    cells = {name: _column_cell(view, row, layout, name) for name in layout.columns}
    name_cell = cells.get("name")
    level1_cell, level2_cell = cells.get("level1"), cells.get("level2")
    carry.update(
        clean_text(level1_cell.text) if level1_cell else "",
        clean_text(level2_cell.text) if level2_cell else "",
    )
    if name_cell is None or not clean_text(name_cell.text) or name_cell.row != row:
        return None
    structural = {id(c) for c in (name_cell, level1_cell, level2_cell) if c is not None}
    value_cells = {
        k: c for k, c in cells.items() if c is not None and (k == "name" or id(c) not in structural)
    }
    unit_cell = value_cells.get("unit")
    unit = clean_text(unit_cell.text) if unit_cell else None
    target, stated = value_of(value_cells.get("target"), unit)
    actual, _ = value_of(value_cells.get("actual"), unit)
    operator, printed = read_operator(value_cells.get("operator"), stated)
    reason_cell = value_cells.get("reason")
    used = [level1_cell, level2_cell, *value_cells.values()]
    return Indicator(
        level1=carry.level1,
        level2=carry.level2,
        name=clean_text(name_cell.text),
        operator=operator,
        target=target,
        actual=actual,
        weight=cell_number(value_cells.get("weight")),
        score=cell_number(value_cells.get("score")),
        reason=(reason_cell.text.strip() or None) if reason_cell else None,
        confidence=confidence(table, used),
        provenance=provenance(table, used, printed, row=row),
    )


def read_indicator_block(
    table: Table,
    view: TableView,
    layout: IndicatorLayout,
    extra_weights: Iterable[float] = (),
    carry: LevelCarry | None = None,
) -> IndicatorBlock:
    """All indicator rows below the header, and the 合计/总分 row's totals.

    Rows after an end marker (评价结论, 存在问题 …) yield no indicators, but a later total row
    is still read; a second 项目名称 row ends the block.
    """
    block = IndicatorBlock(layout=layout)
    carry = carry or LevelCarry()
    label_limit = layout.columns.get("name", min(layout.columns.values()))
    ended = False
    total_row: tuple[int, Cell] | None = None
    for row in range(layout.last_row + 1, view.n_rows):
        if any(match_field(c.text, "identity") == "project_name" for c in view.anchored(row)):
            break
        marker = row_marker(view, row, label_limit)
        if marker and marker[0] == "total":
            total_row = (row, marker[1])
            continue
        if marker and marker[0] == "end":
            ended = True
        if ended or len(header_fields(view, row)) >= MIN_HEADER_FIELDS:
            continue
        indicator = read_indicator_row(table, view, row, layout, carry)
        if indicator is not None:
            block.indicators.append(indicator)
    block.indicators = with_tagger_values(block.indicators)
    if total_row is not None:
        row, label = total_row
        numbers = total_numbers(view, row, label)
        weights = sum(i.weight or 0.0 for i in block.indicators)
        sums = [weights, *(weights + w for w in extra_weights)]
        block.total_weight, block.total_score = assign_totals(
            numbers, layout.columns, clean_text(label.text), sums
        )
        block.total_cells = [label, *(c for _, _, c in numbers)]
    return block
