"""Counts of one document JSON, and of an archive of them, as the report shows them.

"records" means what ``records.csv`` holds: table indicators plus narrative facts. Flags are
counted on every record kind that carries them (indicators, narrative facts, projects,
score-table rows, score tables).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from zhibiao.result import ExtractionResult, Flag

UNKNOWN = "(unknown)"
CONFIDENCE_BINS = 10


def all_flags(result: ExtractionResult) -> Iterator[Flag]:
    """Every flag raised anywhere in the document."""
    for project in result.projects:
        yield from project.flags
        for indicator in project.indicators:
            yield from indicator.flags
    for fact in result.narrative_indicators:
        yield from fact.flags
    for table in result.score_tables:
        yield from table.flags
        for row in table.rows:
            yield from row.flags


def record_confidences(result: ExtractionResult) -> list[float]:
    """Confidence of every record (indicator or narrative fact), in document order."""
    values = [ind.confidence for project in result.projects for ind in project.indicators]
    return values + [fact.confidence for fact in result.narrative_indicators]


@dataclass(frozen=True)
class DocSummary:
    """What the overview lists for one document."""

    name: str
    """The JSON file's stem: names the document page (``docs/<name>.html``)."""
    path: str
    format: str
    pages: int
    tables: int
    projects: int
    records: int
    score_rows: int
    flags: int
    errors: tuple[tuple[str, str, str], ...]
    """(code, stage, message) per read error."""
    warnings: int
    department: str | None
    year: int | None
    flag_codes: Counter[str] = field(default_factory=Counter)
    flag_severity: dict[str, str] = field(default_factory=dict)
    confidences: tuple[float, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)


def summarize(name: str, result: ExtractionResult) -> DocSummary:
    """Counts of one document."""
    flags = list(all_flags(result))
    confidences = record_confidences(result)
    return DocSummary(
        name=name,
        path=result.source.path,
        format=result.source.format,
        pages=result.source.pages or 0,
        tables=len(result.tables),
        projects=len(result.projects),
        records=len(confidences),
        score_rows=sum(len(t.rows) for t in result.score_tables),
        flags=len(flags),
        errors=tuple((e.code, e.stage, e.message) for e in result.errors),
        warnings=len(result.warnings),
        department=result.department,
        year=result.year,
        flag_codes=Counter(f.code for f in flags),
        flag_severity={f.code: f.severity for f in flags},
        confidences=tuple(confidences),
        timings=dict(result.timings),
    )


@dataclass
class ArchiveTotals:
    """Sums over every document of the archive, and the series the overview plots."""

    documents: int = 0
    pages: int = 0
    tables: int = 0
    projects: int = 0
    records: int = 0
    score_rows: int = 0
    flags: int = 0
    errors: int = 0
    failed_documents: int = 0
    records_per_year: Counter[str] = field(default_factory=Counter)
    records_per_department: Counter[str] = field(default_factory=Counter)
    flag_codes: Counter[str] = field(default_factory=Counter)
    flag_severity: dict[str, str] = field(default_factory=dict)
    confidence_bins: list[int] = field(default_factory=lambda: [0] * CONFIDENCE_BINS)
    stage_seconds: Counter[str] = field(default_factory=Counter)
    timed_pages: int = 0

    def add(self, doc: DocSummary) -> None:
        """Fold one document into the totals."""
        self.documents += 1
        self.pages += doc.pages
        self.tables += doc.tables
        self.projects += doc.projects
        self.records += doc.records
        self.score_rows += doc.score_rows
        self.flags += doc.flags
        self.errors += len(doc.errors)
        self.failed_documents += bool(doc.errors)
        self.records_per_year[str(doc.year) if doc.year else UNKNOWN] += doc.records
        self.records_per_department[doc.department or UNKNOWN] += doc.records
        self.flag_codes.update(doc.flag_codes)
        self.flag_severity.update(doc.flag_severity)
        for value in doc.confidences:
            self.confidence_bins[confidence_bin(value)] += 1
        if doc.timings:
            self.stage_seconds.update(doc.timings)
            self.timed_pages += max(doc.pages, 1)

    def seconds_per_page(self) -> dict[str, float]:
        """Mean seconds per page of each pipeline stage (a document without a page count is one page)."""
        if not self.timed_pages:
            return {}
        return {stage: seconds / self.timed_pages for stage, seconds in self.stage_seconds.items()}


def confidence_bin(value: float) -> int:
    """Histogram bin of a confidence in [0, 1] (1.0 goes to the top bin; out-of-range values clamp)."""
    if not math.isfinite(value):
        return 0
    return min(max(int(value * CONFIDENCE_BINS), 0), CONFIDENCE_BINS - 1)


def totals(docs: Iterable[DocSummary]) -> ArchiveTotals:
    result = ArchiveTotals()
    for doc in docs:
        result.add(doc)
    return result
