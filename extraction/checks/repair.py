"""Domain-aware repair of values read by OCR, each repair confirmed by a check and flagged.

Runs only on records whose provenance says ``ocr`` (records read from text layers, workbooks and
EMF text are never touched). Nothing is changed on a guess: every repair needs a second source
that agrees, and the flag carries that evidence.

- **指标性质** (``ocr_operator_recovered``): a missing or garbled operator (recognisers read a lone
  ``≥`` as ``N``, ``V``, ``IV``, ``M``, ``=`` as ``二``) is taken from the indicator's name
  (``…95%以上`` -> ``≥``, ``不少于4次`` -> ``≥``); failing that, a garbled reading is mapped to the
  operator it is commonly confused with, but only when the target/actual/score agree with it
  (met target and full marks, or missed target and points lost); ``定住``-like readings of ``定性``
  (one character right, target not a number) become ``定性``.
- **digits** (``ocr_digits_repaired``): where Σ weights or Σ scores disagrees with the printed
  total, each OCR-read part (and the total) is tried with one digit swapped for a digit
  recognisers confuse it with (``OCR_DIGIT_CONFUSIONS``); the repair is made only when exactly one
  such swap makes the sum hold and no 得分 then exceeds its 权重.
- **confidence** (``ocr_low_confidence``): an OCR record's confidence is the least OCR confidence
  of the cells its values come from, raised half-way to 1 when every check on it agrees, times
  ``REPAIR_FACTOR`` per repaired value; below ``REVIEW_CONFIDENCE`` it is flagged for review with
  the per-field confidences as evidence.

Letters read for digits (``l0``, ``1O0%``) and full-width digits are put back already in the OCR
tables, where the column's other numbers confirm them (:func:`zhibiao.ocr.pages.repair_numeric_confusions`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from zhibiao.checks.rules import (
    ERROR,
    INFO,
    QUALITATIVE,
    SCORE_TOLERANCE,
    WARNING,
    exceeds,
    finite,
    flag,
    full_marks,
    meets_target,
    number_of,
    operator_hint,
)
from zhibiao.model import Table
from zhibiao.records.values import clean_text, normalize_operator
from zhibiao.result import ExtractionResult, Flag, Indicator, Project, ScoreTable

OPERATOR_RECOVERED = "ocr_operator_recovered"
DIGITS_REPAIRED = "ocr_digits_repaired"
LOW_CONFIDENCE = "ocr_low_confidence"
REVIEW_CONFIDENCE = 0.8
"""OCR records less confident than this are flagged for review."""
AGREEMENT_GAIN = 0.5
"""Share of the distance to 1 an OCR record's confidence gains when every check on it agrees."""
REPAIR_FACTOR = 0.9
"""An OCR record's confidence is multiplied by this for each value repaired."""

OPERATOR_CONFUSIONS: dict[str, str] = {
    "N": "≥",
    "V": "≥",
    "IV": "≥",
    "M": "≥",
    "W": "≥",
    "Z": "≥",
    "2": "≥",
    "》": "≥",
    "〉": "≥",
    "二": "=",
    "一": "=",
    "3": "≤",
    "《": "≤",
    "〈": "≤",
}
"""What recognisers make of a printed operator -> the operator it usually was."""

OCR_DIGIT_CONFUSIONS: dict[str, str] = {
    "0": "689",
    "1": "7",
    "3": "8",
    "5": "6",
    "6": "058",
    "7": "1",
    "8": "0369",
    "9": "08",
}
"""Digit -> digits a recogniser reads it as, or it as (98 -> 86 on a blurred scan)."""

OCR_READERS = ("ocr",)


def is_ocr(record: Any) -> bool:
    """Was the record read by OCR (its provenance's reader)?"""
    provenance = getattr(record, "provenance", None)
    return bool(provenance and str(provenance.reader).startswith(OCR_READERS))


# ---------------------------------------------------------------------------------- 指标性质


def _agrees(operator: str, indicator: Indicator) -> bool | None:
    """Do target, actual and score agree with ``operator``? None when they cannot tell."""
    target, actual = number_of(indicator.target), number_of(indicator.actual)
    weight, score = finite(indicator.weight), finite(indicator.score)
    if target is None or actual is None or weight is None or score is None:
        return None
    return meets_target(operator, actual, target) == full_marks(score, weight)


def recovered_operator(indicator: Indicator) -> tuple[str, dict[str, Any]] | None:
    """The operator a missing or garbled 指标性质 stood for, with the evidence; None if unsure."""
    if normalize_operator(indicator.operator) is not None:
        return None
    printed = indicator.provenance.printed.get("operator", "") if indicator.provenance else ""
    printed = clean_text(printed)
    hint = operator_hint(indicator.name)
    if hint is not None:
        operator, phrase = hint
        return operator, {"printed": printed, "from": "name", "phrase": phrase}
    folded = unicodedata.normalize("NFKC", printed)
    guess = OPERATOR_CONFUSIONS.get(folded) or OPERATOR_CONFUSIONS.get(printed)
    if guess is not None and _agrees(guess, indicator):
        return guess, {"printed": printed, "from": "target/actual/score agree", "confused_with": guess}
    one_off = len(printed) == 2 and sum(a == b for a, b in zip(printed, QUALITATIVE, strict=True)) == 1
    if one_off and number_of(indicator.target) is None:
        return QUALITATIVE, {"printed": printed, "from": "one character of 定性, target not a number"}
    return None


def recover_operator(indicator: Indicator) -> Flag | None:
    """Set a recovered 指标性质 on an OCR indicator; the flag says from what."""
    found = recovered_operator(indicator)
    if found is None:
        return None
    operator, evidence = found
    indicator.operator = operator
    if indicator.provenance is not None and evidence["printed"]:
        indicator.provenance.printed.setdefault("operator", evidence["printed"])
    read = evidence["printed"] or "(empty)"
    message = f"指标性质 {read!r} read by OCR; recovered {operator} from {evidence['from']}"
    return flag(OPERATOR_RECOVERED, message, INFO, operator=operator, **evidence)


# ---------------------------------------------------------------------------------- digits


def digit_variants(value: float) -> list[float]:
    """The value with one digit swapped for a digit recognisers confuse it with."""
    text = f"{value:g}"
    if "e" in text:
        return []
    out = []
    for i, ch in enumerate(text):
        for other in OCR_DIGIT_CONFUSIONS.get(ch, ""):
            candidate = text[:i] + other + text[i + 1 :]
            if len(candidate) > 1 and candidate[0] == "0" and candidate[1] != ".":
                continue
            out.append(float(candidate))
    return out


Slot = tuple[Any, str]
"""A record and the name of one of its numeric fields."""


def sum_repair(parts: Sequence[Slot], total: Slot, valid: Callable[[], bool]) -> list[dict[str, Any]]:
    """The one-digit swap (of a part or the total) that makes Σ parts = total, applied in place.

    Made only when exactly one swap works and ``valid()`` holds after it (e.g. no 得分 above its
    权重); returns the evidence of the change, or ``[]`` when nothing (or more than one) fits.
    """
    values = [finite(getattr(rec, name)) for rec, name in parts]
    printed_total = finite(getattr(total[0], total[1]))
    if printed_total is None or not values or any(v is None for v in values):
        return []
    summed = sum(v for v in values if v is not None)
    if abs(summed - printed_total) <= SCORE_TOLERANCE:
        return []
    fits: list[tuple[Slot, float, float]] = []
    for slot, value in zip(parts, values, strict=True):
        assert value is not None
        for variant in digit_variants(value):
            if abs(summed - value + variant - printed_total) <= SCORE_TOLERANCE:
                fits.append((slot, value, variant))
    for variant in digit_variants(printed_total):
        if abs(summed - variant) <= SCORE_TOLERANCE:
            fits.append((total, printed_total, variant))
    applied: list[tuple[Slot, float, float]] = []
    for slot, old, new in fits:
        setattr(slot[0], slot[1], new)
        if valid():
            applied.append((slot, old, new))
        setattr(slot[0], slot[1], old)
    if len(applied) != 1:
        return []
    (record, name), old, new = applied[0]
    setattr(record, name, new)
    label = getattr(record, "name", None) or type(record).__name__
    return [{"record": label, "field": name, "read": old, "repaired": new, "sum": round(summed, 6)}]


def repair_project_digits(project: Project) -> list[dict[str, Any]]:
    """Weights, then scores, of an OCR project's indicators repaired against its printed totals."""
    indicators = [ind for ind in project.indicators if is_ocr(ind)]
    if not indicators or len(indicators) != len(project.indicators):
        return []

    def no_score_above_weight() -> bool:
        return not any(exceeds(ind.score, ind.weight) for ind in project.indicators)

    changes = []
    for name in ("weight", "score"):
        parts: list[Slot] = [(ind, name) for ind in project.indicators]
        if getattr(project.budget, name) is not None:
            parts.append((project.budget, name))
        changes += sum_repair(parts, (project, f"total_{name}"), no_score_above_weight)
    return changes


def repair_score_table_digits(table: ScoreTable) -> list[dict[str, Any]]:
    """分值 and 得分 of an OCR score table's rows repaired against its printed totals."""
    if not table.rows or not all(is_ocr(row) for row in table.rows):
        return []

    def no_score_above_weight() -> bool:
        return not any(exceeds(row.score, row.weight) for row in table.rows)

    changes = []
    for name in ("weight", "score"):
        parts: list[Slot] = [(row, name) for row in table.rows]
        changes += sum_repair(parts, (table, f"total_{name}"), no_score_above_weight)
    return changes


def _digits_flag(change: dict[str, Any]) -> Flag:
    message = (
        f"{change['field']} read as {change['read']:g} by OCR; {change['repaired']:g} is the one "
        "confusable digit that makes the printed total hold"
    )
    return flag(DIGITS_REPAIRED, message, WARNING, **change)


# ---------------------------------------------------------------------------------- confidence


FIELDS = ("name", "operator", "target", "actual", "weight", "score")


def _field_text(indicator: Indicator, field: str) -> str:
    value = getattr(indicator, field)
    if value is None:
        return ""
    if hasattr(value, "text"):
        return clean_text(value.text)
    if isinstance(value, float):
        return f"{value:g}"
    printed = indicator.provenance.printed.get(field) if indicator.provenance else None
    return clean_text(printed or str(value))


def field_confidences(indicator: Indicator, tables: dict[int, Table]) -> dict[str, float]:
    """OCR confidence of the cell each field of an indicator was read from (fields found only)."""
    prov = indicator.provenance
    table = tables.get(prov.table) if prov and prov.table is not None else None
    if table is None or prov is None:
        return {}
    cells = [c for c in table.cells if (c.row, c.col) in set(map(tuple, prov.cells))]
    out: dict[str, float] = {}
    for field in FIELDS:
        text = _field_text(indicator, field)
        if not text:
            continue
        folded = unicodedata.normalize("NFKC", text)
        matches = [
            c.confidence
            for c in cells
            if (cell_text := unicodedata.normalize("NFKC", clean_text(c.text)))
            and (cell_text == folded or (len(folded) >= 2 and folded in cell_text))
        ]
        if matches:
            out[field] = round(min(matches), 4)
    return out


def review_confidence(
    indicator: Indicator, tables: dict[int, Table], repairs: int, error_factor: float = 1.0
) -> Flag | None:
    """Set an OCR indicator's confidence from its fields' OCR confidence and the checks' verdict
    (raised when all agree, times ``error_factor`` after an error); flag it for review when low."""
    fields = field_confidences(indicator, tables)
    if not fields:
        return None
    base = min(fields.values())
    raised = not any(f.severity in (ERROR, WARNING) for f in indicator.flags)
    confidence = base + (1.0 - base) * AGREEMENT_GAIN if raised else base
    if any(f.severity == ERROR for f in indicator.flags):
        confidence *= error_factor
    indicator.confidence = round(confidence * REPAIR_FACTOR**repairs, 4)
    if indicator.confidence >= REVIEW_CONFIDENCE:
        return None
    low = {k: v for k, v in fields.items() if v < REVIEW_CONFIDENCE}
    message = f"OCR confidence {indicator.confidence:.2f}: review {', '.join(low) or 'the record'}"
    return flag(
        LOW_CONFIDENCE,
        message,
        WARNING,
        confidence=indicator.confidence,
        fields=fields,
        checks_agree=raised,
        repaired=repairs,
    )


# ---------------------------------------------------------------------------------- entry points


def _add(record: Any, found: Iterable[Flag | None]) -> None:
    for item in found:
        if item is not None and item not in record.flags:
            record.flags.append(item)


def repair_ocr_values(result: ExtractionResult) -> None:
    """Operators and digits of OCR-read records repaired where a check confirms (before the checks)."""
    for project in result.projects:
        for indicator in project.indicators:
            if is_ocr(indicator):
                _add(indicator, [recover_operator(indicator)])
        for change in repair_project_digits(project):
            target = next(
                (ind for ind in project.indicators if ind.name == change["record"]),
                project,
            )
            _add(target, [_digits_flag(change)])
    for table in result.score_tables:
        changes = repair_score_table_digits(table)
        _add(table, (_digits_flag(change) for change in changes))


def review_ocr_confidence(result: ExtractionResult, error_factor: float = 1.0) -> None:
    """Confidence of every OCR indicator from OCR and check agreement (after the checks)."""
    tables = {t.index: t for t in result.tables if t.index is not None}
    for project in result.projects:
        for indicator in project.indicators:
            if not is_ocr(indicator):
                continue
            repairs = sum(1 for f in indicator.flags if f.code in (OPERATOR_RECOVERED, DIGITS_REPAIRED))
            _add(indicator, [review_confidence(indicator, tables, repairs, error_factor)])


__all__ = [
    "DIGITS_REPAIRED",
    "LOW_CONFIDENCE",
    "OPERATOR_RECOVERED",
    "digit_variants",
    "field_confidences",
    "is_ocr",
    "recover_operator",
    "repair_ocr_values",
    "review_ocr_confidence",
    "sum_repair",
]
