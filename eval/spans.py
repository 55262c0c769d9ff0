"""Token-span scoring: entity-level strict precision/recall/F1 per label (as seqeval's strict IOB2 mode).

An entity is ``(start, end, label)``; a predicted entity is right only when a gold entity has the
same label and the same boundaries. ``bio_to_spans`` turns IOB2 tag sequences into entities the
strict way: an entity opens with ``B-X`` and continues with ``I-X``; an ``I-X`` that does not
continue an ``X`` entity opens nothing (seqeval ``mode="strict", scheme=IOB2``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from zhibiao.eval.prf import PRF

Span = tuple[int, int, str]
"""start, end (exclusive), label."""


def bio_to_spans(tags: Sequence[str]) -> list[Span]:
    """Strict IOB2 decoding of one tag sequence into token-index entities."""
    spans: list[Span] = []
    start: int | None = None
    label = ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, kind = tag.partition("-")
        if start is not None and not (prefix == "I" and kind == label):
            spans.append((start, i, label))
            start = None
        if prefix == "B":
            start, label = i, kind
    return spans


@dataclass
class SpanCounts(PRF):
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "support": self.tp + self.fn,
            "predicted": self.tp + self.fp,
            "tp": self.tp,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def score_spans(gold: Iterable[Span], pred: Iterable[Span]) -> dict[str, SpanCounts]:
    """Per-label strict counts plus ``"micro"`` over all labels, for one text."""
    gold_set, pred_set = set(gold), set(pred)
    counts: dict[str, SpanCounts] = {}
    for span in gold_set | pred_set:
        c = counts.setdefault(span[2], SpanCounts())
        if span in gold_set and span in pred_set:
            c.tp += 1
        elif span in gold_set:
            c.fn += 1
        else:
            c.fp += 1
    micro = SpanCounts()
    for c in counts.values():
        micro.tp, micro.fp, micro.fn = micro.tp + c.tp, micro.fp + c.fp, micro.fn + c.fn
    return {**dict(sorted(counts.items())), "micro": micro}


def add_counts(into: dict[str, SpanCounts], part: dict[str, SpanCounts]) -> dict[str, SpanCounts]:
    """Sum per-label counts of several texts (micro-average across texts)."""
    for label, c in part.items():
        total = into.setdefault(label, SpanCounts())
        total.tp, total.fp, total.fn = total.tp + c.tp, total.fp + c.fp, total.fn + c.fn
    return into


def score_tag_sequences(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]
) -> dict[str, SpanCounts]:
    """Entity-level strict scores of IOB2 sequences (one per sentence), like ``seqeval`` strict mode."""
    total: dict[str, SpanCounts] = {}
    for n, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sequence {n}: {len(g)} gold tags but {len(p)} predicted")
        add_counts(total, score_spans(bio_to_spans(g), bio_to_spans(p)))
    return total


FACT_WINDOW = 80
"""How far after a name its value may be, when a fact has no sentence to search in."""


def _locate(fact: dict[str, Any], text: str, cursor: int) -> tuple[int, int, int] | None:
    """``(offset, search start, search end)``: the fact's sentence in ``text``, or the name and a window."""
    sentence = fact.get("sentence") or ""
    if sentence:
        at = text.find(sentence, cursor)
        return (at, at, at + len(sentence)) if at >= 0 else None
    name = fact.get("name") or ""
    at = text.find(name, cursor) if name else -1
    return (at, at, at + len(name) + FACT_WINDOW) if at >= 0 else None


def spans_from_prediction(pred: dict[str, Any], text: str) -> list[Span]:
    """Entity spans a prediction states over ``text``: its ``token_spans`` if given, else located facts.

    Facts: for each narrative indicator, in order, its ``sentence`` is found in the text (or, without
    one, its name and the ``FACT_WINDOW`` characters after it), then its name (NAME), ``target.text``
    (TARGET) and ``actual.text`` (ACTUAL) in that stretch, left to right.
    """
    if isinstance(pred.get("token_spans"), list):
        return [(int(s["start"]), int(s["end"]), str(s["label"])) for s in pred["token_spans"]]
    spans: list[Span] = []
    cursor = 0
    for fact in pred.get("narrative_indicators") or []:
        found = _locate(fact, text, cursor)
        if found is None:
            continue
        cursor, local, stop = found[0] + 1, found[1], found[2]
        for label, key in (("NAME", "name"), ("TARGET", "target"), ("ACTUAL", "actual")):
            value = fact.get(key)
            printed = value.get("text") if isinstance(value, dict) else value
            at = text.find(printed, local, stop) if printed else -1
            if at >= 0:
                spans.append((at, at + len(printed), label))
                local = at + len(printed)
    return spans
