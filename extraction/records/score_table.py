"""Department score tables (部门整体支出绩效自评得分表 / 自评得分一览表) -> ScoreTable.

一级/二级/三级指标 with their 分值 and 得分. A level's weight sits in a 分值 column right of the level
(merged like the level cell) or inside the label (``部门决策（20分）``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from zhibiao.model import Cell, Table
from zhibiao.records.grid import TableView, cell_number, provenance
from zhibiao.records.headers import match_field
from zhibiao.records.indicators import assign_totals, row_marker, total_numbers
from zhibiao.records.values import clean_text
from zhibiao.result import ScoreRow, ScoreTable

GROUP = "score_column"
LEVELS = ("level1", "level2", "name")
LABEL_WEIGHT_RE = re.compile(r"^(.*?)\(([^()\d]*?)(\d+(?:\.\d+)?)\s*分?\)$")
EXCLUDED_FIELDS = ("target", "actual")


@dataclass(frozen=True)
class ScoreLayout:
    """Header row, level columns, the weight column of each level, score column."""

    header_row: int
    levels: dict[str, int]
    weights: dict[str, int]
    score: int | None


def split_label_weight(text: str | None) -> tuple[str, float | None]:
    """``部门决策（20分）`` -> (部门决策, 20.0); a label without a weight keeps None."""
    label = unicodedata.normalize("NFKC", clean_text(text))
    match = LABEL_WEIGHT_RE.match(label)
    if not match:
        return clean_text(text), None
    return (match.group(1) or match.group(2)).strip(), float(match.group(3))


def _layout_from_row(view: TableView, row: int) -> ScoreLayout | None:
    matched = [(name, cell.col) for cell in view.row_cells(row) if (name := match_field(cell.text, GROUP))]
    names = {n for n, _ in matched}
    if "level1" not in names or not names & {"weight", "score"} or len(names) < 3:
        return None
    if any(match_field(c.text, "indicator_column") in EXCLUDED_FIELDS for c in view.row_cells(row)):
        return None
    levels: dict[str, int] = {}
    weights: dict[str, int] = {}
    score: int | None = None
    last_level: str | None = None
    for name, col in matched:
        if name in LEVELS and name not in levels:
            levels[name] = col
            last_level = name
        elif name == "weight":
            weights.setdefault(last_level or "name", col)
        elif name == "score" and score is None:
            score = col
    return ScoreLayout(header_row=row, levels=levels, weights=weights, score=score)


def find_score_layout(view: TableView) -> ScoreLayout | None:
    """The first row that names 一级指标 and 分值/得分 but no 指标值/完成值."""
    for row in range(view.n_rows):
        layout = _layout_from_row(view, row)
        if layout is not None:
            return layout
    return None


@dataclass
class _LevelCarry:
    labels: dict[str, tuple[str | None, float | None]] = field(default_factory=dict)

    def update(self, level: str, cell: Cell | None, weight_cell: Cell | None) -> None:
        text = clean_text(cell.text) if cell else ""
        if not text:
            return
        label, label_weight = split_label_weight(text)
        weight = cell_number(weight_cell) if weight_cell is not None else None
        if level == "level1" and self.labels.get("level1", (None,))[0] != label:
            self.labels.pop("level2", None)
        self.labels[level] = (label, weight if weight is not None else label_weight)

    def get(self, level: str) -> tuple[str | None, float | None]:
        return self.labels.get(level, (None, None))


def _cell_at(view: TableView, row: int, col: int | None) -> Cell | None:
    return view.cell(row, col) if col is not None else None


def _read_row(
    table: Table, view: TableView, layout: ScoreLayout, row: int, carry: _LevelCarry
) -> ScoreRow | None:
    cells = {lv: _cell_at(view, row, layout.levels.get(lv)) for lv in LEVELS}
    weights = {lv: _cell_at(view, row, layout.weights.get(lv)) for lv in LEVELS}
    for level in ("level1", "level2"):
        carry.update(level, cells[level], weights[level])
    leaf_level = "name" if "name" in layout.levels else "level2"
    leaf = cells[leaf_level]
    if leaf is None or leaf.row != row or not clean_text(leaf.text):
        return None
    name, label_weight = split_label_weight(leaf.text)
    level1, level1_weight = carry.get("level1")
    level2, level2_weight = carry.get("level2")
    weight_cell = weights.get(leaf_level)
    weight = cell_number(weight_cell) if weight_cell is not None else None
    score_cell = _cell_at(view, row, layout.score)
    used = [cells["level1"], cells["level2"], leaf, weight_cell, score_cell]
    return ScoreRow(
        level1=level1,
        level1_weight=level1_weight,
        level2=level2 if leaf_level == "name" else name,
        level2_weight=level2_weight
        if leaf_level == "name"
        else (weight if weight is not None else label_weight),
        name=name if leaf_level == "name" else None,
        weight=weight if weight is not None else label_weight,
        score=cell_number(score_cell),
        provenance=provenance(table, used, row=row),
    )


def parse_score_table(table: Table, title: str | None = None) -> ScoreTable | None:
    """The rows and totals of a department score table, or None when the table has no score header."""
    view = TableView(table)
    layout = find_score_layout(view)
    if layout is None:
        return None
    result = ScoreTable(title=title)
    carry = _LevelCarry()
    label_limit = max(layout.levels.values())
    for row in range(layout.header_row + 1, view.n_rows):
        marker = row_marker(view, row, label_limit)
        if marker and marker[0] == "total":
            label = marker[1]
            columns = {
                "weight": layout.weights.get("name", layout.weights.get("level2", -1)),
                "score": layout.score if layout.score is not None else -1,
            }
            sums = [sum(r.weight or 0.0 for r in result.rows)]
            weight, score = assign_totals(
                total_numbers(view, row, label), columns, clean_text(label.text), sums
            )
            result.total_weight, result.total_score = weight, score
            continue
        if marker and marker[0] == "end":
            break
        if _layout_from_row(view, row) is not None:
            continue
        score_row = _read_row(table, view, layout, row, carry)
        if score_row is not None:
            result.rows.append(score_row)
    return result
