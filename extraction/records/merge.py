"""One project per project: tables that repeat or continue a project are merged into it."""

from __future__ import annotations

from zhibiao.records.budget import merge_budgets
from zhibiao.records.values import clean_text
from zhibiao.result import Indicator, Project, Provenance

FILLED_FIELDS = ("name", "code", "department", "implementing_unit", "total_weight", "total_score", "family")


def project_key(project: Project) -> str | None:
    """Identity of a project across tables: its code, else its whitespace-free name."""
    return project.code or clean_text(project.name) or None


def indicator_key(indicator: Indicator) -> tuple[str, str]:
    """Identity of an indicator within a project: name and target as printed."""
    target = clean_text(indicator.target.text) if indicator.target else ""
    return clean_text(indicator.name), target


def _source_label(provenance: Provenance | None) -> str | None:
    if provenance is None:
        return None
    return provenance.source or f"{provenance.reader}:table{provenance.table}:page{provenance.page}"


def merge_project(base: Project, extra: Project) -> None:
    """Fill ``base``'s gaps from ``extra``, add the indicators it lacks, list ``extra`` as a repeat."""
    for key in FILLED_FIELDS:
        if getattr(base, key) is None and getattr(extra, key) is not None:
            setattr(base, key, getattr(extra, key))
    base.budget = merge_budgets(base.budget, extra.budget)
    known = {indicator_key(i) for i in base.indicators}
    base.indicators.extend(i for i in extra.indicators if indicator_key(i) not in known)
    label = _source_label(extra.provenance)
    if base.provenance is not None and label and label != _source_label(base.provenance):
        base.provenance.repeats.append(label)


class ProjectCollector:
    """Projects in document order, merged by code/name; unnamed parts continue the previous form."""

    def __init__(self) -> None:
        self.projects: list[Project] = []
        self._by_code: dict[str, Project] = {}
        self._by_name: dict[str, Project] = {}

    def find(self, project: Project) -> Project | None:
        """The kept project with the same code, else the same name (and no conflicting code)."""
        if project.code and project.code in self._by_code:
            return self._by_code[project.code]
        kept = self._by_name.get(clean_text(project.name))
        if kept is not None and not (kept.code and project.code and kept.code != project.code):
            return kept
        return None

    def add(self, project: Project, named: bool = True) -> Project:
        """Add a project (or merge it into the one it repeats/continues); returns the kept project."""
        if not named or project_key(project) is None:
            previous = self.projects[-1] if self.projects else None
            if previous is not None and previous.family == project.family:
                merge_project(previous, project)
                return previous
        else:
            kept = self.find(project)
            if kept is not None:
                merge_project(kept, project)
                self._remember(kept)
                return kept
        self.projects.append(project)
        self._remember(project)
        return project

    def _remember(self, project: Project) -> None:
        if project.code:
            self._by_code.setdefault(project.code, project)
        if clean_text(project.name):
            self._by_name.setdefault(clean_text(project.name), project)
