"""Typed records that serialise to the output contract (``shared/docs/output-contract.md``).

``ExtractionResult.model_dump(mode="json")`` is the public JSON; its JSON Schema is published
in ``extraction/schema/document.schema.json`` (``zhibiao schema`` regenerates it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from zhibiao.model import BBox, SourceInfo, Table

SCHEMA_VERSION = "1"


class Record(BaseModel):
    """Base of contract records: unknown keys are refused, defaults are null."""

    model_config = ConfigDict(extra="forbid")


class Value(Record):
    """A value as printed and as a number: ``≥13459.00(平方米)`` -> text, 13459.0, 平方米."""

    text: str
    value: float | None = None
    unit: str | None = None


class Provenance(Record):
    reader: str
    page: int | None = None
    table: int | None = None
    cells: list[tuple[int, int]] = Field(default_factory=list)
    bbox: BBox | None = None
    char_span: tuple[int, int] | None = None
    source: str | None = None
    printed: dict[str, str] = Field(default_factory=dict)
    """Field texts exactly as printed where the record normalised them (operator, name)."""
    repeats: list[str] = Field(default_factory=list)


class Flag(Record):
    """A domain check that did not hold, with the evidence a reviewer needs."""

    code: str
    message: str
    severity: str = "warning"
    evidence: dict[str, Any] = Field(default_factory=dict)


class Indicator(Record):
    level1: str | None = None
    level2: str | None = None
    name: str
    operator: str | None = None
    target: Value | None = None
    actual: Value | None = None
    weight: float | None = None
    score: float | None = None
    reason: str | None = None
    confidence: float = 1.0
    flags: list[Flag] = Field(default_factory=list)
    provenance: Provenance | None = None


class Budget(Record):
    unit: str | None = None
    initial: float | None = None
    adjusted: float | None = None
    executed: float | None = None
    execution_rate: float | None = None
    fiscal: float | None = None
    total: float | None = None
    weight: float | None = None
    score: float | None = None


class Project(Record):
    name: str | None = None
    code: str | None = None
    department: str | None = None
    implementing_unit: str | None = None
    budget: Budget = Field(default_factory=Budget)
    indicators: list[Indicator] = Field(default_factory=list)
    total_weight: float | None = None
    total_score: float | None = None
    family: str | None = None
    """Which table family it came from: self_eval, target, wide, narrative."""
    flags: list[Flag] = Field(default_factory=list)
    provenance: Provenance | None = None


class ScoreRow(Record):
    level1: str | None = None
    level1_weight: float | None = None
    level2: str | None = None
    level2_weight: float | None = None
    name: str | None = None
    weight: float | None = None
    score: float | None = None
    flags: list[Flag] = Field(default_factory=list)
    provenance: Provenance | None = None


class ScoreTable(Record):
    title: str | None = None
    rows: list[ScoreRow] = Field(default_factory=list)
    total_weight: float | None = None
    total_score: float | None = None
    flags: list[Flag] = Field(default_factory=list)


class NarrativeIndicator(Record):
    project: str | None = None
    name: str
    target: Value | None = None
    actual: Value | None = None
    sentence: str = ""
    confidence: float = 1.0
    flags: list[Flag] = Field(default_factory=list)
    provenance: Provenance | None = None


class ReadError(Record):
    """Why (part of) a file could not be read."""

    code: str
    message: str
    stage: str = "read"


class ExtractionResult(Record):
    schema_version: str = SCHEMA_VERSION
    source: SourceInfo
    department: str | None = None
    year: int | None = None
    department_budget: Budget | None = None
    projects: list[Project] = Field(default_factory=list)
    score_tables: list[ScoreTable] = Field(default_factory=list)
    narrative_indicators: list[NarrativeIndicator] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    errors: list[ReadError] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    """Seconds spent per pipeline stage (read, tables, records, checks, ...)."""
