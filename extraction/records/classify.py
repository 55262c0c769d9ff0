"""Which family a table is: project form (self_eval / target), wide, score table, project list, other.

Decided by the headers a table names (``headers.json``), with the title as a tie-breaker
(绩效目标表 -> target, 得分表 -> score table).
"""

from __future__ import annotations

from typing import Literal

from zhibiao.model import Table
from zhibiao.records.budget import read_budget_matrix
from zhibiao.records.grid import TableView
from zhibiao.records.headers import match_field
from zhibiao.records.identity import Identity, read_identity
from zhibiao.records.indicators import find_indicator_header
from zhibiao.records.project_list import find_list_header
from zhibiao.records.score_table import find_score_layout
from zhibiao.records.wide import find_wide_layout

Family = Literal["self_eval", "target", "wide", "score_table", "project_list", "other"]
FORM_FAMILIES: tuple[Family, ...] = ("self_eval", "target")


def title_family(title: str | None) -> str | None:
    """The family a title names (``headers.json`` group ``title``), or None."""
    return match_field(title, "title") if title else None


def _names_organisation(identity: Identity) -> bool:
    """A form's header block: 项目名称 with its 主管部门 or 实施单位 (a form's first page alone)."""
    return bool(identity.name and (identity.department or identity.implementing_unit))


def classify_view(view: TableView, title: str | None = None) -> Family:
    """The family of a table seen through a TableView."""
    if view.n_rows == 0 or view.n_cols == 0:
        return "other"
    by_title = title_family(title)
    if find_wide_layout(view) is not None:
        return "wide"
    layout = find_indicator_header(view)
    if layout is not None and layout.fields & {"target", "actual"}:
        if layout.fields & {"actual", "score"}:
            return "self_eval"
        return "target"
    if find_score_layout(view) is not None:
        return "score_table"
    stop = layout.first_row if layout else view.n_rows
    identity = read_identity(view, list(range(stop)))
    is_form = (
        read_budget_matrix(view, stop) is not None or layout is not None or _names_organisation(identity)
    )
    if identity.known and is_form:
        return "target" if by_title == "target" else "self_eval"
    if find_list_header(view) is not None:
        return "project_list"
    if identity.known and by_title == "target":
        return "target"
    if identity.known and by_title == "self_eval":
        return "self_eval"
    return "other"


def classify_table(table: Table, title: str | None = None) -> Family:
    """The family of one table; ``title`` is the caption found around it (``context.TableContext``)."""
    return classify_view(TableView(table), title)
