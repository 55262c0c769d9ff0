"""Precision, recall and F1 from true-positive, false-positive and false-negative counts."""

from __future__ import annotations


class PRF:
    """Mixin for counters with ``tp``, ``fp`` and ``fn`` fields."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0
