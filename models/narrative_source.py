"""The token classifier as an extra source of narrative facts, for marked sentences the rules miss.

``zhibiao.records.narrative`` reads facts with its rules first (exact on the dev corpus); sentences in
an indicator section or stating ``完成年度绩效指标`` where the rules find nothing are passed to
``fallback_facts``, which tags them and links the spans into ``FactMatch`` objects the rules' record
builder understands. The tagger is the exported ONNX model under ``models/indicator-tagger/`` (or the
folder ``$ZHIBIAO_TAGGER`` names; ``ZHIBIAO_TAGGER=off`` turns it off). Without it (or without
onnxruntime) the rules alone run and ``unavailable_reason`` says why, for the result's warnings.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from zhibiao.models.facts import TaggedFact, TaggedValue, link_spans
from zhibiao.records.narrative import FactMatch, Phrase

TAGGER_ENV = "ZHIBIAO_TAGGER"
TAGGER_CONFIDENCE = 0.6
"""Confidence of a fact only the classifier read (below the rules' 0.75 / 0.85)."""


def model_dir() -> Path | None:
    """The tagger folder to use: ``$ZHIBIAO_TAGGER``, else the packaged one; None when turned off."""
    from zhibiao.models.tagger import DEFAULT_MODEL_DIR

    setting = os.environ.get(TAGGER_ENV, "").strip()
    if setting.lower() in ("off", "0", "none", "rules"):
        return None
    return Path(setting) if setting else DEFAULT_MODEL_DIR


def unavailable_reason() -> str | None:
    """Why the classifier cannot run (a warning for the result), or None when it can."""
    from zhibiao.models.tagger import tagger_available

    folder = model_dir()
    if folder is None:
        return f"narrative facts: token classifier turned off ({TAGGER_ENV}=off), rules only"
    if not tagger_available(folder):
        return f"narrative facts: token classifier not found in {folder} (or onnxruntime missing), rules only"
    return None


@lru_cache(maxsize=2)
def loaded_tagger(folder: str) -> Any:
    """The ONNX tagger of a model folder, loaded once per process (extraction and annotation share it)."""
    from zhibiao.models.tagger import load_onnx_tagger

    return load_onnx_tagger(Path(folder))


def shared_tagger() -> Any | None:
    """The process-wide ONNX tagger, loaded once; None when unavailable."""
    folder = model_dir()
    if folder is None or unavailable_reason() is not None:
        return None
    return loaded_tagger(str(folder))


def _phrase(text: str, value: TaggedValue | None, spans: Sequence[tuple[int, int, str]]) -> Phrase | None:
    """The printed value phrase: the value span, with an OP span printed right before it."""
    if value is None:
        return None
    start, end = value.span
    for s, e, label in spans:
        if label == "OP" and e == start and text[s:e] != "达到":
            start = s
    return Phrase(text[start:end], start)


def fact_match(text: str, fact: TaggedFact, spans: Sequence[tuple[int, int, str]]) -> FactMatch | None:
    """A linked fact as the rules' ``FactMatch`` (a fact needs a value to be one)."""
    actual, target = _phrase(text, fact.actual, spans), _phrase(text, fact.target, spans)
    if actual is None and target is None:
        return None
    return FactMatch(name=Phrase(fact.name, fact.name_span[0]), actual=actual, target=target)


def fallback_facts(texts: Sequence[str], tagger: Any | None = None) -> list[list[FactMatch]]:
    """Facts the classifier reads in each sentence (empty lists when it is unavailable)."""
    tagger = tagger if tagger is not None else shared_tagger()
    if tagger is None or not texts:
        return [[] for _ in texts]
    out = []
    for text, spans in zip(texts, tagger.predict(list(texts)), strict=True):
        matches = [fact_match(text, fact, spans) for fact in link_spans(text, spans)]
        out.append([m for m in matches if m is not None])
    return out
