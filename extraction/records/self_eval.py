"""Project forms: 项目支出绩效自评表 (and, through ``target_form``, 绩效目标表) -> one Project.

A form is a header block (项目名称 / 主管部门 / 实施单位 label-value cells), a budget block (matrix
or label/value pairs) and an indicator block (header row + one row per 三级指标 + 合计). Each block
is found by its vocabulary, wherever it sits.
"""

from __future__ import annotations

from dataclasses import dataclass

from zhibiao.model import Cell, Table
from zhibiao.records.budget import BudgetBlock, merge_budgets, read_budget_labels, read_budget_matrix
from zhibiao.records.context import TableContext
from zhibiao.records.grid import TableView, provenance
from zhibiao.records.identity import read_identity
from zhibiao.records.indicators import (
    IndicatorBlock,
    IndicatorLayout,
    LevelCarry,
    find_indicator_header,
    read_indicator_block,
)
from zhibiao.result import Budget, Indicator, Project, Provenance


@dataclass
class FormResult:
    """A parsed form: the project, whether it names itself, and its indicator layout (for continuations)."""

    project: Project
    named: bool
    layout: IndicatorLayout | None


def read_budget(view: TableView, stop: int) -> tuple[BudgetBlock | None, BudgetBlock]:
    """(matrix block or None, label/value block) above row ``stop``; label pairs outside the matrix."""
    matrix = read_budget_matrix(view, stop)
    covered = set(matrix.rows) if matrix else set()
    labels = read_budget_labels(view, [r for r in range(min(stop, view.n_rows)) if r not in covered])
    return matrix, labels


def parse_project_form(
    table: Table, family: str, context: TableContext | None = None, seed: LevelCarry | None = None
) -> FormResult:
    """One project from a form table; ``family`` is ``self_eval`` or ``target``.

    ``seed`` carries the previous table's 一级/二级 labels into an unnamed table (a form's next page).
    """
    context = context or TableContext()
    view = TableView(table)
    layout = find_indicator_header(view)
    stop = layout.first_row if layout else view.n_rows
    matrix, labels = read_budget(view, stop)
    identity_rows = [r for r in range(stop) if not (matrix and r in matrix.rows)]
    identity = read_identity(view, identity_rows)
    budget = merge_budgets(matrix.budget if matrix else Budget(), labels.budget)
    if budget.unit is None and any(v is not None for k, v in budget.model_dump().items() if k != "unit"):
        budget = budget.model_copy(update={"unit": context.unit})
    budget_weight = [budget.weight] if budget.weight is not None else []
    carry = seed if seed is not None and not identity.known else None
    block = read_indicator_block(table, view, layout, budget_weight, carry) if layout else None
    budget_cells = [*(matrix.cells if matrix else []), *labels.cells]
    project = Project(
        name=identity.name,
        code=identity.code,
        department=identity.department,
        implementing_unit=identity.implementing_unit,
        budget=budget,
        indicators=block.indicators if block else [],
        total_weight=block.total_weight if block else None,
        total_score=block.total_score if block else None,
        family=family,
        provenance=_project_provenance(table, identity.cells, budget_cells, block),
    )
    return FormResult(project=project, named=identity.known, layout=layout)


def continue_form(
    table: Table, layout: IndicatorLayout, family: str, seed: LevelCarry | None = None
) -> Project | None:
    """Indicator rows of a table that continues a form on the next page without its header row."""
    view = TableView(table)
    start = IndicatorLayout(first_row=-1, last_row=-1, columns=layout.columns)
    block = read_indicator_block(table, view, start, carry=seed)
    if not any(_has_figures(i) for i in block.indicators):
        return None  # same width by chance: nothing in it reads as an indicator row
    return Project(
        indicators=block.indicators,
        total_weight=block.total_weight,
        total_score=block.total_score,
        family=family,
        provenance=_project_provenance(table, [], [], block),
    )


def _has_figures(indicator: Indicator) -> bool:
    """An indicator row states a weight, a score or a numeric target."""
    numeric_target = indicator.target is not None and indicator.target.value is not None
    return indicator.weight is not None or indicator.score is not None or numeric_target


def _project_provenance(
    table: Table, identity_cells: list[Cell], budget_cells: list[Cell], block: IndicatorBlock | None
) -> Provenance:
    """Where the project-level fields came from: identity, budget and total cells."""
    return provenance(table, [*identity_cells, *budget_cells, *(block.total_cells if block else [])])
