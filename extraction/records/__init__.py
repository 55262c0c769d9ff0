"""Table understanding and narrative rules: Document -> contract records.

``build_records(doc)`` classifies every table into a family (project self-evaluation form,
target form, wide multi-project table, department score table, project list, other) and
turns it into records; prose is searched for narrative budget sentences and indicator facts.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from zhibiao.result import Budget, NarrativeIndicator, Project, ScoreTable


class RecordSet(BaseModel):
    """Everything table understanding and narrative extraction found in one document."""

    department: str | None = None
    year: int | None = None
    department_budget: Budget | None = None
    projects: list[Project] = Field(default_factory=list)
    score_tables: list[ScoreTable] = Field(default_factory=list)
    narrative_indicators: list[NarrativeIndicator] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
