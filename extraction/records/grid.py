"""A read-only view of a table's cell grid, and the provenance of values taken from it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from zhibiao.model import BBox, Cell, Table
from zhibiao.records.values import clean_text, parse_number
from zhibiao.result import Provenance

NUMBER_SUFFIX_RE = re.compile(r"(分|万元|元)$")
PLACEHOLDERS = frozenset({"/", "-", "—", "--", "——", "无", "／", "\\"})


class TableView:
    """Row/column access to a table where a merged cell is seen from every slot it covers."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.grid = table.grid()
        self.n_rows = len(self.grid)
        self.n_cols = table.n_cols

    def cell(self, row: int, col: int) -> Cell | None:
        if 0 <= row < self.n_rows and 0 <= col < self.n_cols:
            return self.grid[row][col]
        return None

    def text(self, row: int, col: int) -> str:
        """Whitespace-free text of the cell covering (row, col); "" where none."""
        cell = self.cell(row, col)
        return clean_text(cell.text) if cell else ""

    def row_cells(self, row: int) -> list[Cell]:
        """The distinct cells covering a row, left to right."""
        seen: list[Cell] = []
        for cell in self.grid[row] if 0 <= row < self.n_rows else []:
            if cell is not None and all(cell is not s for s in seen):
                seen.append(cell)
        return seen

    def anchored(self, row: int) -> list[Cell]:
        """The cells that start on this row, left to right."""
        return [c for c in self.row_cells(row) if c.row == row]

    def right_of(self, row: int, cell: Cell) -> Cell | None:
        """The next distinct cell to the right of ``cell`` on this row."""
        return self.cell(row, cell.col + cell.col_span)


def cell_number(cell: Cell | None) -> float | None:
    """The number a cell holds: the workbook's typed number, else the printed number (``10分`` -> 10)."""
    if cell is None:
        return None
    if cell.number is not None:
        return float(cell.number)
    text = clean_text(cell.text)
    if not text or text in PLACEHOLDERS:
        return None
    number = parse_number(text)
    if number is None:
        number = parse_number(NUMBER_SUFFIX_RE.sub("", text))
    return number


def cell_value_text(cell: Cell | None) -> str:
    """The printed text of a value cell, stripped; a typed number stands in when the text is empty."""
    if cell is None:
        return ""
    text = cell.text.strip()
    if not text and cell.number is not None:
        return f"{cell.number:g}"
    return text


def union_bbox(boxes: Iterable[BBox | None]) -> BBox | None:
    """Smallest box holding all given boxes; None when none has geometry."""
    real = [b for b in boxes if b is not None]
    if not real:
        return None
    return (
        min(b[0] for b in real),
        min(b[1] for b in real),
        max(b[2] for b in real),
        max(b[3] for b in real),
    )


def distinct(cells: Iterable[Cell | None]) -> list[Cell]:
    """Cells without None and without repeats (identity), in first-seen order."""
    out: list[Cell] = []
    for cell in cells:
        if cell is not None and all(cell is not c for c in out):
            out.append(cell)
    return out


def provenance(
    table: Table, cells: Iterable[Cell | None], printed: dict[str, str] | None = None, row: int | None = None
) -> Provenance:
    """Where values came from: reader, page, table index, the cells used and their joint box.

    With ``row``, the box covers only the cells starting on that row, so a 一级指标 cell merged over
    many rows does not stretch a record's box over its neighbours.
    """
    used = distinct(cells)
    boxed = [c for c in used if row is None or c.row == row] or used
    return Provenance(
        reader=table.reader,
        page=table.page,
        table=table.index,
        cells=[(c.row, c.col) for c in used],
        bbox=union_bbox(c.bbox for c in boxed),
        source=table.source,
        printed=printed or {},
        repeats=list(table.repeats),
    )


def confidence(table: Table, cells: Iterable[Cell | None], factor: float = 1.0) -> float:
    """Record confidence: the reader's table confidence times the least confident cell used."""
    used = distinct(cells)
    least = min((c.confidence for c in used), default=1.0)
    return round(max(0.0, min(1.0, table.confidence * least * factor)), 4)
