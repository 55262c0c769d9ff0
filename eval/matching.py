"""One-to-one matching of gold and predicted items by a similarity (greedy on the best pairs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from rapidfuzz import fuzz

from zhibiao.eval.normalize import norm_text

G = TypeVar("G")
P = TypeVar("P")


def name_similarity(a: object, b: object) -> float:
    """Similarity in [0, 1] of two names after normalisation (Indel ratio; 0 when either is empty)."""
    na, nb = norm_text(a), norm_text(b)
    if not na or not nb:
        return 0.0
    return fuzz.ratio(na, nb) / 100.0


def match_one_to_one(
    gold: Sequence[G], pred: Sequence[P], similarity: Callable[[G, P], float], threshold: float
) -> list[tuple[int, int, float]]:
    """Pairs ``(gold index, pred index, similarity)`` with similarity >= ``threshold``, each item used once.

    Pairs are taken best first; ties go to the pair closest in relative order, then to the earliest,
    so repeated names (two 满意度 rows) pair up in document order. Deterministic.
    """
    n, m = len(gold), len(pred)
    candidates = []
    for i, g in enumerate(gold):
        for j, p in enumerate(pred):
            sim = similarity(g, p)
            if sim >= threshold:
                order_gap = abs(i / max(n, 1) - j / max(m, 1))
                candidates.append((-sim, order_gap, i, j))
    candidates.sort()
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    pairs = []
    for neg_sim, _gap, i, j in candidates:
        if i in used_gold or j in used_pred:
            continue
        used_gold.add(i)
        used_pred.add(j)
        pairs.append((i, j, -neg_sim))
    return sorted(pairs)
