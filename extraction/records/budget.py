"""The budget block of a project form.

Two layouts: a matrix (a header row 年初预算 | 调整后预算数 | 预算执行数 | 预算执行率 | 权重 | 得分 over
funding rows 总额 / 其中：财政资金 / …), and label/value pairs (项目资金总额 | 300 | 项目年度预算金额 | 100)
as target forms print them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zhibiao.model import Cell
from zhibiao.records.grid import TableView, cell_number
from zhibiao.records.headers import is_header_text, match_field, money_unit
from zhibiao.records.values import clean_text
from zhibiao.result import Budget

MONEY_FIELDS = ("initial", "adjusted", "executed")
MATRIX_FIELDS = (*MONEY_FIELDS, "execution_rate", "weight", "score")


@dataclass
class BudgetBlock:
    """A budget read from a table, the cells it came from and the rows it covers."""

    budget: Budget = field(default_factory=Budget)
    cells: list[Cell] = field(default_factory=list)
    rows: range = range(0)


def _matrix_header(view: TableView, stop: int) -> tuple[int, list[tuple[str, Cell]]] | None:
    """First row (above ``stop``) naming a money column and at least one more budget column."""
    for row in range(min(stop, view.n_rows)):
        found = [
            (name, cell) for cell in view.row_cells(row) if (name := match_field(cell.text, "budget_column"))
        ]
        names = {name for name, _ in found}
        if len(names) >= 2 and names & set(MONEY_FIELDS):
            return row, found
    return None


def _funding_rows(view: TableView, header: int, stop: int) -> dict[str, tuple[int, Cell]]:
    """Funding row kind (total / fiscal / other) -> (row, label cell), for the rows under the header."""
    rows: dict[str, tuple[int, Cell]] = {}
    for row in range(header + 1, min(stop, view.n_rows)):
        label = next(
            ((c, kind) for c in view.anchored(row) if (kind := match_field(c.text, "budget_row"))), None
        )
        if label is None:
            if rows:
                break
            continue
        rows.setdefault(label[1], (row, label[0]))
    return rows


def _columns_right_of(header_cells: list[tuple[str, Cell]], label_end: int) -> dict[str, int]:
    """Budget field -> column of its first header cell right of the funding-row label column.

    The header above the label column (``年度预算数（万元）`` in some forms) names the block, not a column.
    """
    columns: dict[str, int] = {}
    for name, cell in header_cells:
        if cell.col >= label_end:
            columns.setdefault(name, cell.col)
    return columns


def read_budget_matrix(view: TableView, stop: int) -> BudgetBlock | None:
    """The matrix budget above row ``stop``.

    Figures come from the 总额 row, or from the 财政拨款 row where 总额 is empty.
    """
    header = _matrix_header(view, stop)
    if header is None:
        return None
    header_row, header_cells = header
    funding = _funding_rows(view, header_row, stop)
    if not funding:
        return None
    label_end = max(cell.col + cell.col_span for _, cell in funding.values())
    columns = _columns_right_of(header_cells, label_end)
    order = [funding[k][0] for k in ("total", "fiscal") if k in funding]
    block = BudgetBlock(rows=range(header_row, max(r for r, _ in funding.values()) + 1))
    values: dict[str, float | None] = {}
    for name in MATRIX_FIELDS:
        col = columns.get(name)
        if col is None:
            continue
        for row in order:
            cell = view.cell(row, col)
            number = cell_number(cell)
            if number is not None and cell is not None:
                values[name] = number
                block.cells.append(cell)
                break
    if "fiscal" in funding and "executed" in columns:
        fiscal_cell = view.cell(funding["fiscal"][0], columns["executed"])
        values["fiscal"] = cell_number(fiscal_cell)
    unit = next((u for r in block.rows for c in view.row_cells(r) if (u := money_unit(c.text))), None)
    block.budget = Budget(unit=unit, **{k: v for k, v in values.items() if v is not None})
    return block


def read_label_pairs(
    view: TableView, rows: range | list[int], group: str
) -> dict[str, tuple[str, Cell, Cell]]:
    """Field -> (value text, label cell, value cell) for ``label | value`` pairs on the given rows.

    The value is the next cell to the right of the label; a value cell that is itself a header
    (a list's header row: 项目名称 | 年初预算数) means the label has no value.
    """
    found: dict[str, tuple[str, Cell, Cell]] = {}
    for row in rows:
        for cell in view.anchored(row):
            name = match_field(cell.text, group)
            if not name or name in found:
                continue
            value_cell = view.right_of(row, cell)
            if value_cell is None or value_cell is cell:
                continue
            if is_header_text(value_cell.text):
                continue
            text = value_cell.text.strip()
            if text:
                found[name] = (text, cell, value_cell)
    return found


def read_budget_labels(view: TableView, rows: list[int]) -> BudgetBlock:
    """Budget figures printed as label/value pairs (项目资金总额 / 项目年度预算金额 / 其中：财政拨款)."""
    pairs = read_label_pairs(view, rows, "budget_label")
    block = BudgetBlock()
    values: dict[str, float] = {}
    for name, (_, label, value_cell) in pairs.items():
        number = cell_number(value_cell)
        if number is not None:
            values[name] = number
            block.cells.extend([label, value_cell])
    unit = next(
        (u for r in rows for c in view.anchored(r) if clean_text(c.text) and (u := money_unit(c.text))), None
    )
    block.budget = Budget(unit=unit if values else None, **values)
    return block


def merge_budgets(first: Budget, second: Budget) -> Budget:
    """Fields of ``first``, with its gaps filled from ``second``."""
    data = first.model_dump()
    for key, value in second.model_dump().items():
        if data.get(key) is None and value is not None:
            data[key] = value
    return Budget(**data)
