"""The token classifier as the reader of sentence-like 指标值 / 完成值 cells of indicator tables.

A narrative target/actual cell (``覆盖人数达20万人以上``-style sentences longer than
``zhibiao.records.indicators.NARRATIVE_MIN_CHARS``) keeps its text but, by rules, no number: its first
number is rarely the value. ``tag_indicator_fields`` asks the tagger for the value spans of such
cells (batched, one ``predict`` call per table) and gives the field a number, unit and operator only
when the choice is unambiguous (``pick_value``): the cell holds a single value span, or a single span
with the column's label, or a single value linked to an indicator named like the row's 三级指标; and
its unit agrees with the unit the row already states (unit column, or the other field's unit).

The column says the role (指标值 -> TARGET, 完成值 -> ACTUAL): a cell read alone gives the model no
context to tell a target from an actual, so a lone span's label is not trusted. The cell text stays
``Value.text``; the record's confidence is multiplied by ``TAGGER_FACTOR`` once and it carries an info
flag ``tagger_value`` with the evidence (field, cell text, span, label, value). Without the tagger
(``ZHIBIAO_TAGGER=off``, no model, no onnxruntime) the indicators are returned unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from zhibiao.models.align import Span
from zhibiao.models.facts import VALUE_LABELS, TaggedFact, TaggedValue, link_cell_pair, link_spans
from zhibiao.models.narrative_source import model_dir, shared_tagger
from zhibiao.records.sentences import similarity
from zhibiao.records.values import parse_value
from zhibiao.result import Flag, Indicator

FIELD_LABELS = {"target": "TARGET", "actual": "ACTUAL"}
"""The tagger label a cell's column stands for."""
TAGGER_FACTOR = 0.7
"""Confidence factor of a record with a value only the tagger read (rules' sentence factor: 0.9)."""
MIN_NAME_SIMILARITY = 0.5
"""Least similarity of a linked INDICATOR span to the row's name to pick its value among several."""
FLAG_CODE = "tagger_value"
CACHE_LIMIT = 4096
_SPANS: dict[tuple[str, str], list[Span]] = {}
"""(tagger folder, cell text) -> the shared tagger's spans (``shared_spans``)."""
UNIT_START_RE = re.compile(r"[%‰％\u4e00-\u9fff]")
UNIT_RUN_RE = re.compile(r"(?:[%‰％]|[\u4e00-\u9fff]{1,3})(?=$|[，,。；;、：:）)\s])")
"""A unit printed right after a number that closes its clause: ``场次`` of ``351场次，``."""
YEAR_RE = re.compile(r"^\s*(?:19|20)\d{2}\s*年")
"""A year (``2022年11月底``) is a deadline, not a quantity."""


@dataclass(frozen=True)
class CellRequest:
    """One value cell to read: the row's indicator name, the cell text and its column's label."""

    name: str
    text: str
    label: str
    unit: str | None = None
    """The unit the row already states (unit column, or the other field's)."""


def _relabel(spans: Sequence[Span], label: str) -> list[Span]:
    return [(s, e, label if kind in VALUE_LABELS else kind) for s, e, kind in spans]


def _value_of(fact: TaggedFact | None, label: str) -> TaggedValue | None:
    if fact is None:
        return None
    return fact.target if label == "TARGET" else fact.actual


def _owned_counts(facts: Sequence[TaggedFact], values: Sequence[Span]) -> list[int]:
    """How many value spans each fact owns (as ``link_spans`` assigns them: nearest indicator before)."""
    counts = [0] * len(facts)
    for start, _, _ in values:
        owner = max((i for i, f in enumerate(facts) if f.name_span[0] < start), default=0)
        counts[owner] += 1
    return counts


def _linked_value(name: str, text: str, spans: Sequence[Span], label: str) -> TaggedValue | None:
    """The value of the one fact named like ``name`` that owns exactly one value span."""
    relabeled = _relabel(spans, label)
    facts = link_spans(text, relabeled)
    values = [s for s in relabeled if s[2] in VALUE_LABELS]
    counts = _owned_counts(facts, values) if facts else []
    similar = [
        fact
        for fact, count in zip(facts, counts, strict=True)
        if count == 1 and similarity(fact.name, name) >= MIN_NAME_SIMILARITY
    ]
    return _value_of(similar[0], label) if len(similar) == 1 else None


def _chosen_value(
    name: str, text: str, spans: Sequence[Span], chosen: Span, label: str
) -> TaggedValue | None:
    """The value of the one ``chosen`` span, read as the column's ``label`` with its OP/UNIT spans."""
    kept = _relabel([s for s in spans if s[2] not in VALUE_LABELS or s == chosen], label)
    picked = _value_of(link_cell_pair(name, text, kept, label), label)
    if picked is None:  # the value sits before an INDICATOR span the cell restates
        picked = next((v for fact in link_spans(text, kept) if (v := _value_of(fact, label))), None)
    return picked


def _unit_matched(
    name: str, text: str, spans: Sequence[Span], label: str, unit: str | None
) -> TaggedValue | None:
    """The one value span whose unit is the row's (``100%`` among ``10万``, ``351场次``, ``100%``)."""
    if not unit:
        return None
    values = [s for s in spans if s[2] in VALUE_LABELS]
    read = [_chosen_value(name, text, spans, s, label) for s in values]
    same = [v for v in read if v is not None and v.value.unit and not unit_conflict(unit, v)]
    return same[0] if len(same) == 1 else None


def pick_value(
    name: str, text: str, spans: Sequence[Span], label: str, unit: str | None = None
) -> TaggedValue | None:
    """The value of a cell for its column's ``label`` when the tagged spans leave no doubt, else None.

    ``unit`` is the unit the row already states: among several value spans it picks the one in that
    unit, and a value in another unit is some other quantity (``30人`` in a row counting ``支``).
    """
    values = [s for s in spans if s[2] in VALUE_LABELS]
    same = [s for s in values if s[2] == label]
    if len(values) == 1 or len(same) == 1:
        picked = _chosen_value(name, text, spans, values[0] if len(values) == 1 else same[0], label)
    elif values:
        picked = _linked_value(name, text, spans, label) or _unit_matched(name, text, spans, label, unit)
    else:
        return None
    if picked is None or picked.value.value is None or YEAR_RE.match(picked.value.text):
        return None
    picked = completed(text, picked)
    return None if picked is None or unit_conflict(unit, picked) else picked


def completed(text: str, tagged: TaggedValue) -> TaggedValue | None:
    """The value with a unit the span boundary cut off (``351`` + ``场次`` closing the clause), or None.

    A unitless span followed by more than a short unit run (``10`` of ``10万人次妇女听党话``) is a
    fragment whose magnitude is unknown: None.
    """
    start, end = tagged.span
    if tagged.value.unit or end >= len(text) or not UNIT_START_RE.match(text, end):
        return tagged
    run = UNIT_RUN_RE.match(text, end)
    if run is None:
        return None
    value, _ = parse_value(text[start : run.end()])
    if value is None or value.value != tagged.value.value:
        return None
    return replace(tagged, value=value, span=(start, run.end()))


def shared_spans(texts: Sequence[str], tagger: Any) -> list[list[Span]]:
    """The shared tagger's spans of each text: each distinct text tagged once per process.

    A form table is read twice when it may continue the previous page's form, and forms repeat
    cells: remembering the spans (at most ``CACHE_LIMIT`` texts) halves the tagging of such documents.
    """
    key = str(model_dir())
    todo = [t for t in dict.fromkeys(texts) if (key, t) not in _SPANS]
    found = dict(zip(todo, tagger.predict(todo), strict=True)) if todo else {}
    for text, spans in found.items():
        if len(_SPANS) < CACHE_LIMIT:
            _SPANS[(key, text)] = spans
    return [found[t] if t in found else _SPANS[(key, t)] for t in texts]


def tag_cells(requests: Sequence[CellRequest], tagger: Any | None = None) -> list[TaggedValue | None]:
    """The unambiguous tagged value of each cell (all None when the tagger is unavailable).

    Without ``tagger`` the shared ONNX tagger reads them (through ``shared_spans``).
    """
    texts = [r.text for r in requests]
    if tagger is None:
        shared = shared_tagger()
        spans = shared_spans(texts, shared) if shared is not None and texts else None
    else:
        spans = tagger.predict(texts) if texts else None
    if spans is None:
        return [None] * len(requests)
    return [pick_value(r.name, r.text, s, r.label, r.unit) for r, s in zip(requests, spans, strict=True)]


def tagger_flag(field: str, text: str, tagged: TaggedValue) -> Flag:
    """The info flag that says a field's number came from the tagger, with its evidence."""
    value = tagged.value
    return Flag(
        code=FLAG_CODE,
        message=f"{field} number read by the token classifier from a sentence-like cell",
        severity="info",
        evidence={
            "field": field,
            "text": text,
            "span": list(tagged.span),
            "label": tagged.label,
            "printed": text[tagged.span[0] : tagged.span[1]],
            "value": value.value,
            "unit": value.unit,
            "operator": tagged.operator,
        },
    )


def expected_unit(indicator: Indicator, field: str) -> str | None:
    """The unit the row already states: its unit column (kept on the value), else the other field's."""
    current = getattr(indicator, field)
    other = getattr(indicator, "actual" if field == "target" else "target")
    if current is not None and current.unit:
        return current.unit
    return other.unit if other is not None and other.value is not None else None


def unit_conflict(expected: str | None, tagged: TaggedValue) -> bool:
    """The tagged unit disagrees with the row's: the span is some other quantity (``30人`` vs ``支``).

    A unit that starts with the other agrees (unit column ``万``, printed ``20万人``).
    """
    if not expected or not tagged.value.unit:
        return False
    a, b = (unicodedata.normalize("NFKC", u).strip("()（） ") for u in (expected, tagged.value.unit))
    return not (a.startswith(b) or b.startswith(a))


def with_tagged_value(indicator: Indicator, field: str, tagged: TaggedValue) -> Indicator:
    """The indicator with ``field``'s number/unit from the tagger; text kept, confidence lowered once.

    A unit column's unit wins over the tagged one; a tagged target operator fills a missing 指标性质.
    """
    current = getattr(indicator, field)
    value = current.model_copy(
        update={"value": tagged.value.value, "unit": current.unit or tagged.value.unit}
    )
    first = not any(f.code == FLAG_CODE for f in indicator.flags)
    operator = indicator.operator
    if field == "target" and operator is None:
        operator = tagged.operator
    return indicator.model_copy(
        update={
            field: value,
            "operator": operator,
            "confidence": round(indicator.confidence * TAGGER_FACTOR, 4) if first else indicator.confidence,
            "flags": [*indicator.flags, tagger_flag(field, current.text, tagged)],
        }
    )


def tag_indicator_fields(
    indicators: Sequence[Indicator], wanted: Sequence[tuple[int, str]], tagger: Any | None = None
) -> list[Indicator]:
    """``indicators`` with the tagger's values in the ``(index, field)`` cells it reads unambiguously."""
    out = list(indicators)
    requests = []
    for index, field in wanted:
        current = getattr(out[index], field)
        text = current.text if current else ""
        unit = expected_unit(out[index], field)
        requests.append(CellRequest(out[index].name, text, FIELD_LABELS[field], unit))
    for (index, field), tagged in zip(wanted, tag_cells(requests, tagger), strict=True):
        if tagged is not None:
            out[index] = with_tagged_value(out[index], field, tagged)
    return out
