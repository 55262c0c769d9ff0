"""Domain checks: run every registered check (``zhibiao.checks.rules``) and attach its flags.

``run_checks(result)`` adds ``Flag``s to indicators, projects, score-table rows and score tables;
flags on the department budget (which has no flag list) go to ``result.warnings``.

Confidence: a record's confidence stays what the records stage gave, except that an indicator or
narrative indicator that gains its first error-severity flag has its confidence multiplied by
``ERROR_CONFIDENCE_FACTOR`` (0.7) once — further errors do not lower it again, and running the
checks twice changes nothing (flags already present are not added again).
"""

from __future__ import annotations

from collections.abc import Iterable

from zhibiao.checks.repair import repair_ocr_values, review_ocr_confidence
from zhibiao.checks.rules import (
    BUDGET_CHECKS,
    ERROR,
    INDICATOR_CHECKS,
    PROJECT_CHECKS,
    SCORE_ROW_CHECKS,
    SCORE_TABLE_CHECKS,
)
from zhibiao.result import (
    ExtractionResult,
    Flag,
    Indicator,
    NarrativeIndicator,
    Project,
    ScoreRow,
    ScoreTable,
)

ERROR_CONFIDENCE_FACTOR = 0.7
"""Multiplier applied once to a record's confidence when it gains its first error flag."""

Flagged = Indicator | NarrativeIndicator | Project | ScoreRow | ScoreTable


def attach(record: Flagged, flags: Iterable[Flag]) -> list[Flag]:
    """Add the flags a record does not carry yet, lowering confidence on its first error; return them."""
    had_error = any(existing.severity == ERROR for existing in record.flags)
    added = [found for found in flags if found not in record.flags]
    record.flags.extend(added)
    gained_error = any(found.severity == ERROR for found in added)
    if gained_error and not had_error and isinstance(record, Indicator | NarrativeIndicator):
        record.confidence = round(record.confidence * ERROR_CONFIDENCE_FACTOR, 6)
    return added


def check_project(project: Project) -> None:
    for indicator in project.indicators:
        attach(indicator, (found for check in INDICATOR_CHECKS for found in check(indicator, project)))
    attach(project, (found for check in PROJECT_CHECKS for found in check(project)))


def check_score_table(table: ScoreTable) -> None:
    for row in table.rows:
        attach(row, (found for check in SCORE_ROW_CHECKS for found in check(row)))
    attach(table, (found for check in SCORE_TABLE_CHECKS for found in check(table)))


def department_budget_warnings(result: ExtractionResult) -> list[str]:
    """The department budget's flags as warning lines (the contract gives it no flag list)."""
    if result.department_budget is None:
        return []
    flags = [found for check in BUDGET_CHECKS for found in check(result.department_budget)]
    return [f"department_budget {found.code}: {found.message} {found.evidence}" for found in flags]


def run_checks(result: ExtractionResult) -> None:
    """Run every registered check over the result's records, in place.

    OCR-read records are first repaired where a check confirms it, and afterwards get their
    confidence from OCR and check agreement (:mod:`zhibiao.checks.repair`); others are untouched.
    """
    repair_ocr_values(result)
    for project in result.projects:
        check_project(project)
    for table in result.score_tables:
        check_score_table(table)
    for warning in department_budget_warnings(result):
        if warning not in result.warnings:
            result.warnings.append(warning)
    review_ocr_confidence(result, ERROR_CONFIDENCE_FACTOR)
