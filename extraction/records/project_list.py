"""Project lists (项目清单: 部门名称 | 单位名称 | 项目编码 | 项目名称 | 年初预算数 …).

A list never adds projects: it fills the gaps (code, department, unit, budget) of the projects the
forms already gave, matched by code, then by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from zhibiao.model import Table
from zhibiao.records.grid import TableView, cell_number
from zhibiao.records.headers import match_field, match_fields, money_unit
from zhibiao.records.identity import Identity, identity_from_texts
from zhibiao.records.values import clean_text
from zhibiao.result import Budget, Project

MAX_HEADER_ROW = 5
LIST_GROUPS = ("identity", "budget_column")
IDENTITY_FIELDS = ("project_name", "project_code", "department", "implementing_unit")
BUDGET_FIELDS = ("initial", "adjusted", "executed", "execution_rate")
MIN_CONTAINED_NAME = 4


@dataclass(frozen=True)
class ListEntry:
    """One row of a project list."""

    identity: Identity
    budget: Budget


def find_list_header(view: TableView) -> tuple[int, dict[str, int]] | None:
    """(row, field -> column) of a header naming 项目名称 and at least two more list columns."""
    for row in range(min(MAX_HEADER_ROW, view.n_rows - 1)):
        columns: dict[str, int] = {}
        for cell in view.row_cells(row):
            name = match_fields(cell.text, LIST_GROUPS)
            if name and name not in columns:
                columns[name] = cell.col
        if "project_name" in columns and len(columns) >= 3:
            if any(
                match_field(c.text, "indicator_column") in ("level1", "target", "actual")
                for c in view.row_cells(row)
            ):
                return None
            return row, columns
    return None


def read_project_list(table: Table) -> list[ListEntry]:
    """The entries of a project list table (empty when it is not one)."""
    view = TableView(table)
    header = find_list_header(view)
    if header is None:
        return []
    header_row, columns = header
    unit = next((u for c in view.row_cells(header_row) if (u := money_unit(c.text))), None)
    entries = []
    for row in range(header_row + 1, view.n_rows):
        texts = {k: view.text(row, columns[k]) if k in columns else None for k in IDENTITY_FIELDS}
        if not texts["project_name"] or match_field(texts["project_name"], "row_marker"):
            continue
        identity = identity_from_texts(
            texts["project_name"], texts["project_code"], texts["department"], texts["implementing_unit"]
        )
        figures = {k: cell_number(view.cell(row, columns[k])) for k in BUDGET_FIELDS if k in columns}
        values = {k: v for k, v in figures.items() if v is not None}
        entries.append(ListEntry(identity=identity, budget=Budget(unit=unit if values else None, **values)))
    return entries


def _same_name(a: str | None, b: str | None) -> bool:
    ka, kb = clean_text(a), clean_text(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    shorter = min(ka, kb, key=len)
    return len(shorter) >= MIN_CONTAINED_NAME and (ka in kb or kb in ka)


def find_project(projects: list[Project], identity: Identity) -> Project | None:
    """The project a list entry names: same code first, else same (or containing) name."""
    if identity.code:
        for project in projects:
            if project.code and project.code == identity.code:
                return project
    for project in projects:
        if _same_name(project.name, identity.name) and not (project.code and identity.code):
            return project
    return None


def enrich(project: Project, entry: ListEntry) -> None:
    """Fill the project's missing code, organisations and budget figures from a list entry."""
    for key in ("code", "department", "implementing_unit"):
        if getattr(project, key) is None and getattr(entry.identity, key) is not None:
            setattr(project, key, getattr(entry.identity, key))
    budget = project.budget.model_dump()
    added = False
    for key, value in entry.budget.model_dump().items():
        if key != "unit" and budget.get(key) is None and value is not None:
            budget[key] = value
            added = True
    if added and budget.get("unit") is None:
        budget["unit"] = entry.budget.unit
    project.budget = Budget(**budget)


def enrich_projects(projects: list[Project], entries: list[ListEntry]) -> list[str]:
    """Enrich projects from list entries; warnings name entries that match no project."""
    unmatched = []
    for entry in entries:
        project = find_project(projects, entry.identity)
        if project is None:
            unmatched.append(entry.identity.name or entry.identity.code or "?")
        else:
            enrich(project, entry)
    if unmatched:
        return [f"project list: {len(unmatched)} listed project(s) have no form: {', '.join(unmatched[:10])}"]
    return []
