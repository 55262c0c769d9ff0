"""Span sources: functions ``text -> [(start, end, label), ...]`` that pre-annotate text-span tasks.

A span source takes one text (a narrative sentence or a sentence-like table cell) and returns entity
spans in code points (end exclusive) with labels from ``labels.ALL_SPAN_LABELS``. It may carry a
``model_version`` attribute (the name its predictions are filed under in Label Studio).

``rule_spans`` is the default: the narrative rules of ``zhibiao.records.narrative`` (``match_facts``)
tag the indicator's name (INDICATOR) and each value as printed (TARGET / ACTUAL, with its attached
unit), a leading operator apart (OP), following ``annotations/GUIDELINES.md``. The token classifier
(``models/``) plugs in the same way (``zhibiao annotate push --span-predictor module:function``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from zhibiao import __version__
from zhibiao.records.narrative import _OPERATOR_PREFIX, NUMBER, Phrase, match_facts

Span = tuple[int, int, str]
"""start, end (code points, end exclusive), label."""
SpanSource = Callable[[str], Iterable[Span]]

RULES_VERSION = f"zhibiao-rules-{__version__}"
OPERATOR_FIRST_RE = re.compile(rf"(?P<op>{_OPERATOR_PREFIX})\s*(?={NUMBER})")
"""An operator printed before the number of a value phrase (``≥95%``, ``不低于 50%``)."""


def value_spans(phrase: Phrase, label: str) -> list[Span]:
    """A value phrase -> OP on a leading operator, ``label`` on the rest (number, attached unit, suffix).

    As ``annotations/GUIDELINES.md`` has it: ``≥95%`` -> OP ``≥`` + TARGET ``95%``; ``100名以上`` and
    ``10公里以内`` stay one value span. Offsets are the phrase's.
    """
    match = OPERATOR_FIRST_RE.match(phrase.text)
    if match is None:
        return [(phrase.start, phrase.end, label)]
    op_start, op_end = match.span("op")
    return [
        (phrase.start + op_start, phrase.start + op_end, "OP"),
        (phrase.start + match.end(), phrase.end, label),
    ]


def rule_spans(text: str) -> list[Span]:
    """INDICATOR / OP / TARGET / ACTUAL spans of the narrative rules' facts in ``text``."""
    spans: set[Span] = set()
    for fact in match_facts(text):
        spans.add((fact.name.start, fact.name.end, "INDICATOR"))
        for phrase, label in ((fact.target, "TARGET"), (fact.actual, "ACTUAL")):
            if phrase is not None:
                spans.update(value_spans(phrase, label))
    return without_overlaps(spans, len(text))


rule_spans.model_version = RULES_VERSION  # type: ignore[attr-defined]


def without_overlaps(spans: Iterable[Span], length: int) -> list[Span]:
    """Spans inside ``[0, length)``, sorted; a span overlapping an earlier (longer-first) one is dropped."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]), s[2])):
        start, end, _ = span
        if 0 <= start < end <= length and all(end <= k[0] or start >= k[1] for k in kept):
            kept.append(span)
    return sorted(kept)


@lru_cache(maxsize=4)
def load_tagger(model_dir: str | None = None) -> tuple[Any, str]:
    """The exported token classifier and its ``model_version``: the folder extraction uses
    (``$ZHIBIAO_TAGGER``, else the packaged one) unless ``model_dir`` names another; loaded once."""
    from zhibiao.models.narrative_source import TAGGER_ENV, loaded_tagger
    from zhibiao.models.narrative_source import model_dir as configured_dir
    from zhibiao.models.tagger import read_meta

    folder = Path(model_dir) if model_dir else configured_dir()
    if folder is None:
        raise ValueError(f"the token classifier is turned off ({TAGGER_ENV}=off)")
    meta = read_meta(folder)
    version = str(meta.get("model_version") or str(meta.get("sha256", ""))[:12] or folder.name)
    return loaded_tagger(str(folder)), f"zhibiao-tagger-{version}"


def tagger_spans(text: str) -> list[Span]:
    """Span source backed by the token classifier, model folder from ``$ZHIBIAO_TAGGER``; its spans are
    cleaned like the rules'. Use: ``--span-predictor zhibiao.annotations.spans:tagger_spans``."""
    tagger, _ = load_tagger()
    spans = tagger.predict([text])[0]
    return without_overlaps(((int(s), int(e), str(label)) for s, e, label in spans), len(text))


def source_version(source: SpanSource) -> str:
    """The ``model_version`` a span source's predictions are filed under."""
    return str(getattr(source, "model_version", None) or getattr(source, "__qualname__", "spans"))
