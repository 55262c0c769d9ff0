"""Tagged spans -> facts: an indicator name linked to its target / actual Value (number, unit, operator).

Within one text (a sentence, or a name cell and a value cell read as a pair) each INDICATOR opens a
fact; TARGET / ACTUAL spans attach to the nearest indicator before them (values printed before the
first indicator, as in ``不少于20场线上线下各类活动``, attach to it). An OP span right before
a value gives its operator, a UNIT span its unit (``（单位：场）`` applies to every value of the fact
that prints none). Numbers, units and suffix operators are read by ``zhibiao.records.values``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zhibiao.models.align import Span
from zhibiao.records.values import normalize_operator, parse_value
from zhibiao.result import Value

VALUE_LABELS = ("TARGET", "ACTUAL")
OP_GAP = 2
"""At most this many characters (spaces, 为, ：) between an OP span and the value it qualifies."""
REACH_OPERATORS = {"达到": "≥"}
MIN_NAME_CHARS = 2
"""An INDICATOR span shorter than this (a stray first character of a sentence) names nothing."""


@dataclass(frozen=True)
class TaggedValue:
    label: str
    value: Value
    operator: str | None
    span: tuple[int, int]


@dataclass(frozen=True)
class TaggedFact:
    """An indicator and its values as the tagger read them in one text."""

    name: str
    name_span: tuple[int, int]
    target: TaggedValue | None = None
    actual: TaggedValue | None = None

    @property
    def operator(self) -> str | None:
        return next((v.operator for v in (self.target, self.actual) if v is not None and v.operator), None)


def operator_of(op_text: str | None, value_text: str) -> str | None:
    """Canonical operator of an OP span (``不低于`` -> ``≥``), else one the value states (``100名以上``)."""
    if op_text:
        found = normalize_operator(op_text) or REACH_OPERATORS.get(op_text.strip())
        if found:
            return found
    return parse_value(value_text)[1]


def tagged_value(text: str, span: Span, op: Span | None, unit: Span | None) -> TaggedValue:
    """The Value of a TARGET/ACTUAL span, with an OP and a UNIT span that belong to it."""
    start, end, label = span
    printed = text[start:end]
    value, _ = parse_value(printed, text[unit[0] : unit[1]] if unit else None)
    assert value is not None  # printed is non-empty: spans have start < end
    return TaggedValue(label, value, operator_of(text[op[0] : op[1]] if op else None, printed), (start, end))


def _op_before(text: str, spans: Sequence[Span], value: Span) -> Span | None:
    for span in spans:
        if span[2] == "OP" and span[1] <= value[0] and value[0] - span[1] <= OP_GAP:
            between = text[span[1] : value[0]]
            if all(ch in " 　为：:是" for ch in between):
                return span
    return None


def _unit_near(text: str, spans: Sequence[Span], value: Span, fact_units: Sequence[Span]) -> Span | None:
    """A UNIT span right after the value, else a unit printed apart within the fact."""
    for span in spans:
        if span[2] == "UNIT" and 0 <= span[0] - value[1] <= 1:
            return span
    return fact_units[0] if fact_units else None


def link_spans(text: str, spans: Sequence[Span]) -> list[TaggedFact]:
    """Facts of one text from its tagged spans (see the module docstring for the linking rules)."""
    ordered = sorted(spans)
    indicators = [s for s in ordered if s[2] == "INDICATOR" and s[1] - s[0] >= MIN_NAME_CHARS]
    if not indicators:
        return []
    owned: list[list[Span]] = [[] for _ in indicators]
    for span in ordered:
        if span[2] in (*VALUE_LABELS, "UNIT"):
            owner = max((i for i, name in enumerate(indicators) if name[0] < span[0]), default=0)
            owned[owner].append(span)
    facts: list[TaggedFact] = []
    for name, region in zip(indicators, owned, strict=True):
        values: dict[str, TaggedValue] = {}
        units = [s for s in region if s[2] == "UNIT"]
        for span in region:
            if span[2] in VALUE_LABELS and span[2] not in values:
                values[span[2]] = tagged_value(
                    text, span, _op_before(text, ordered, span), _unit_near(text, ordered, span, units)
                )
        facts.append(
            TaggedFact(
                text[name[0] : name[1]], (name[0], name[1]), values.get("TARGET"), values.get("ACTUAL")
            )
        )
    return facts


def link_cell_pair(
    name_text: str, value_text: str, value_spans: Sequence[Span], label: str = "ACTUAL"
) -> TaggedFact | None:
    """A name cell and a value cell (``开展线上线下活动351场次``) read as one fact.

    An INDICATOR tagged inside the value cell wins over the name cell (the cell restates it).
    """
    inner = link_spans(value_text, value_spans)
    if inner:
        return inner[0]
    value = next((s for s in sorted(value_spans) if s[2] in VALUE_LABELS), None)
    if value is None or not name_text.strip():
        return None
    tagged = tagged_value(
        value_text, (value[0], value[1], label), _op_before(value_text, value_spans, value), None
    )
    name = name_text.strip()
    return TaggedFact(name, (0, len(name)), *((tagged, None) if label == "TARGET" else (None, tagged)))
