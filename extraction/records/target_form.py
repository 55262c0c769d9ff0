"""Target forms (绩效目标表): the project form layout with targets only.

Same blocks as the self-evaluation form; the differences are in the data, which the shared
readers already handle: 年度(/项目)指标值 cells often carry operator, value and unit together
(``≥13459.00(平方米)``, ``=100.00(%)``, ``不低于50%``) and the budget is printed as label/value pairs
(项目资金总额 -> ``budget.total``, 项目年度预算金额 -> ``budget.initial``).
"""

from __future__ import annotations

from zhibiao.model import Table
from zhibiao.records.context import TableContext
from zhibiao.records.self_eval import FormResult, parse_project_form


def parse_target_form(table: Table, context: TableContext | None = None) -> FormResult:
    """One project (family ``target``) from a 绩效目标表."""
    return parse_project_form(table, "target", context)
