"""Table-structure scoring of one prediction: match predicted tables to gold, then TEDS/TEDS-S and cells.

Predicted tables are matched to gold tables one-to-one by content (Dice overlap of their non-empty
cell texts), ties going to the pair closest in document order. A gold table without a match
scores 0 (TEDS, TEDS-S and cells); predicted tables without a match are counted as extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zhibiao.eval.cells import CellScore, bag_similarity, score_cells
from zhibiao.eval.matching import match_one_to_one
from zhibiao.eval.normalize import compact
from zhibiao.eval.teds import teds_pair
from zhibiao.model import Cell, Table

TABLE_MATCH = 0.2
"""Least content overlap for a predicted table to stand for a gold table."""


@dataclass
class TablePair:
    """Scores of one gold table against the predicted table matched to it (if any)."""

    gold: str
    pred: int | None
    teds: float
    teds_s: float
    cells: CellScore
    gold_shape: tuple[int, int]
    pred_shape: tuple[int, int] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "gold": self.gold,
            "pred": self.pred,
            "teds": self.teds,
            "teds_s": self.teds_s,
            "gold_shape": list(self.gold_shape),
            "pred_shape": list(self.pred_shape) if self.pred_shape else None,
            **self.cells.as_dict(),
        }


@dataclass
class TableScore:
    pairs: list[TablePair] = field(default_factory=list)
    extra: int = 0
    """Predicted tables that matched no gold table."""

    def __iadd__(self, other: TableScore) -> TableScore:
        self.pairs += other.pairs
        self.extra += other.extra
        return self

    @property
    def cells(self) -> CellScore:
        return sum((p.cells for p in self.pairs), CellScore())

    def summary(self) -> dict[str, Any] | None:
        """Means over gold tables (unmatched ones count 0); ``None`` when there is no gold table."""
        if not self.pairs:
            return None
        n = len(self.pairs)
        cells = self.cells
        return {
            "tables": n,
            "tables_matched": sum(p.pred is not None for p in self.pairs),
            "tables_extra": self.extra,
            "teds": sum(p.teds for p in self.pairs) / n,
            "teds_s": sum(p.teds_s for p in self.pairs) / n,
            "cell_text_accuracy": cells.text_accuracy,
            "cell_precision": cells.precision,
            "cell_f1": cells.f1,
            "cell_structure_accuracy": cells.structure_accuracy,
        }


def table_from_dict(data: dict[str, Any]) -> Table:
    """A predicted table from contract JSON, reading only the keys the metrics need (extra keys ignored)."""
    cells = [
        Cell(
            row=int(c.get("row", 0)),
            col=int(c.get("col", 0)),
            row_span=max(1, int(c.get("row_span") or 1)),
            col_span=max(1, int(c.get("col_span") or 1)),
            text=str(c.get("text") or ""),
        )
        for c in data.get("cells") or []
    ]
    n_rows = max([int(data.get("n_rows") or 0), *(c.row + c.row_span for c in cells)])
    n_cols = max([int(data.get("n_cols") or 0), *(c.col + c.col_span for c in cells)])
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, reader=str(data.get("reader") or ""))


def content_similarity(gold: Table, pred: Table) -> float:
    """Dice overlap of the non-empty cell texts of two tables."""
    texts = [[compact(c.text) for c in t.cells if compact(c.text)] for t in (gold, pred)]
    return bag_similarity(texts[0], texts[1])


def score_pair(label: str, gold: Table, pred: Table | None, pred_index: int | None) -> TablePair:
    teds_value, teds_s_value = teds_pair(pred, gold)
    return TablePair(
        gold=label,
        pred=pred_index,
        teds=teds_value,
        teds_s=teds_s_value,
        cells=score_cells(pred, gold),
        gold_shape=(gold.n_rows, gold.n_cols),
        pred_shape=(pred.n_rows, pred.n_cols) if pred is not None else None,
    )


def score_tables(gold: list[tuple[str, Table]], pred: list[Table]) -> TableScore:
    """Match ``pred`` to the labelled gold tables by content and score every gold table."""
    pairs = match_one_to_one([t for _, t in gold], pred, content_similarity, TABLE_MATCH)
    matched = {i: j for i, j, _ in pairs}
    score = TableScore(extra=len(pred) - len(pairs))
    for i, (label, table) in enumerate(gold):
        j = matched.get(i)
        score.pairs.append(score_pair(label, table, pred[j] if j is not None else None, j))
    return score


def score_aligned(gold: list[tuple[str, Table]], pred: list[Table | None]) -> TableScore:
    """Score tables already paired by position (a peer run on each gold table's own page region)."""
    score = TableScore()
    for (label, table), candidate in zip(gold, pred, strict=True):
        score.pairs.append(score_pair(label, table, candidate, 0 if candidate is not None else None))
    return score
