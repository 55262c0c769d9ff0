"""Table understanding entry point: every table of a Document -> contract records.

``records_from_tables(doc)`` classifies each table (``classify``), reads it with its family's
reader (``self_eval`` / ``target_form`` / ``wide`` / ``score_table``), merges tables that repeat
or continue one project (``merge``), lets project lists enrich the projects (``project_list``),
and states the document's department and year where the tables say them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from zhibiao.model import Document, Table
from zhibiao.records import RecordSet
from zhibiao.records.classify import FORM_FAMILIES, Family, classify_table
from zhibiao.records.context import TableContext, table_contexts
from zhibiao.records.indicators import IndicatorLayout, LevelCarry
from zhibiao.records.merge import ProjectCollector
from zhibiao.records.project_list import ListEntry, enrich_projects, read_project_list
from zhibiao.records.score_table import parse_score_table
from zhibiao.records.self_eval import continue_form, parse_project_form
from zhibiao.records.wide import parse_wide_table
from zhibiao.result import Project, ScoreTable

DEPARTMENT_SUFFIX = "部门"
MIN_DEPARTMENT_CHARS = 4


@dataclass(frozen=True)
class _OpenForm:
    """The form the previous table was, which a header-less next table may continue."""

    layout: IndicatorLayout
    n_cols: int
    family: str


@dataclass
class _Reading:
    """Records gathered while walking the tables."""

    collector: ProjectCollector
    score_tables: list[ScoreTable]
    lists: list[ListEntry]
    years: list[int]
    warnings: list[str]


def _is_empty(project: Project) -> bool:
    budget = project.budget.model_dump(exclude={"unit"})
    return not (
        project.name or project.code or project.indicators or any(v is not None for v in budget.values())
    )


def _read_table(
    table: Table, family: Family, context: TableContext, reading: _Reading, open_form: _OpenForm | None
) -> _OpenForm | None:
    """Read one table into ``reading``; returns the form it leaves open for a continuation."""
    projects = reading.collector.projects
    seed = LevelCarry.after(projects[-1].indicators) if projects else None
    if family in FORM_FAMILIES:
        result = parse_project_form(table, family, context, seed)
        if _is_empty(result.project):
            reading.warnings.append(f"table {table.index}: looks like a {family} form but yields no records")
            return None
        reading.collector.add(result.project, named=result.named)
        return _OpenForm(result.layout, table.n_cols, family) if result.layout else None
    if family == "wide":
        for project in parse_wide_table(table, context):
            reading.collector.add(project)
    elif family == "score_table":
        score_table = parse_score_table(table, context.title)
        if score_table is not None:
            reading.score_tables.append(score_table)
    elif family == "project_list":
        reading.lists.extend(read_project_list(table))
    elif open_form is not None and table.n_cols == open_form.n_cols:
        project = continue_form(table, open_form.layout, open_form.family, seed)
        if project is not None:
            reading.collector.add(project, named=False)
            return open_form
    return None


def document_department(projects: list[Project]) -> str | None:
    """The department most projects name (主管部门), without the ``部门`` suffix budget systems add."""
    names = Counter(p.department for p in projects if p.department)
    if not names:
        return None
    name = names.most_common(1)[0][0]
    stripped = name.removesuffix(DEPARTMENT_SUFFIX)
    return stripped if len(stripped) >= MIN_DEPARTMENT_CHARS else name


def records_from_tables(doc: Document) -> RecordSet:
    """Projects, score tables, department and year from every table of the document."""
    reading = _Reading(ProjectCollector(), [], [], [], [])
    open_form: _OpenForm | None = None
    for table, context in table_contexts(doc):
        family = classify_table(table, context.title)
        open_form = _read_table(table, family, context, reading, open_form)
        if context.year is not None and family != "other":
            reading.years.append(context.year)
    reading.warnings.extend(enrich_projects(reading.collector.projects, reading.lists))
    projects = reading.collector.projects
    return RecordSet(
        department=document_department(projects),
        year=Counter(reading.years).most_common(1)[0][0] if reading.years else None,
        projects=projects,
        score_tables=reading.score_tables,
        warnings=reading.warnings,
    )
