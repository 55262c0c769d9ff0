"""Cell-level exact text accuracy of a predicted table against the gold, after aligning rows and columns.

A shifted row (an extra title row, a lost header) must not make every later cell wrong, so rows are
aligned first and columns second, each by a monotone weighted alignment (the weighted longest common
subsequence) on the bag of texts each row/column covers; gold cells are then compared with the
predicted cell covering the aligned slot, one-to-one.

- ``text_accuracy``: gold cells whose aligned predicted cell has the same text (NFKC, whitespace
  removed) / gold cells — the recall of cell texts;
- ``precision``: the same matches / predicted cells; ``f1`` their harmonic mean;
- ``structure_accuracy``: gold cells matched with the same text *and* the same anchor and spans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from zhibiao.eval.normalize import compact
from zhibiao.model import Cell, Table


@dataclass(frozen=True)
class CellScore:
    """Counts of one table pair (or a sum of pairs)."""

    gold_cells: int = 0
    pred_cells: int = 0
    text_correct: int = 0
    structure_correct: int = 0

    def __add__(self, other: CellScore) -> CellScore:
        return CellScore(
            self.gold_cells + other.gold_cells,
            self.pred_cells + other.pred_cells,
            self.text_correct + other.text_correct,
            self.structure_correct + other.structure_correct,
        )

    @property
    def text_accuracy(self) -> float:
        return _ratio(self.text_correct, self.gold_cells)

    @property
    def precision(self) -> float:
        return _ratio(self.text_correct, self.pred_cells)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.text_accuracy
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def structure_accuracy(self) -> float:
        return _ratio(self.structure_correct, self.gold_cells)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "gold_cells": self.gold_cells,
            "pred_cells": self.pred_cells,
            "text_correct": self.text_correct,
            "cell_text_accuracy": self.text_accuracy,
            "cell_precision": self.precision,
            "cell_f1": self.f1,
            "cell_structure_accuracy": self.structure_accuracy,
        }


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def bag_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Dice overlap of two multisets of texts (0 when both are empty)."""
    if not a and not b:
        return 0.0
    common = sum((Counter(a) & Counter(b)).values())
    return 2 * common / (len(a) + len(b))


def align(
    a: Sequence[Sequence[str]],
    b: Sequence[Sequence[str]],
    sim: Callable[[Sequence[str], Sequence[str]], float],
) -> dict[int, int]:
    """Monotone alignment ``i -> j`` of two sequences maximising the summed similarity of aligned pairs."""
    n, m = len(a), len(b)
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    sims = [[sim(a[i], b[j]) for j in range(m)] for i in range(n)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            if sims[i][j] > 0:
                best = max(best, sims[i][j] + score[i + 1][j + 1])
            score[i][j] = best
    mapping: dict[int, int] = {}
    i = j = 0
    while i < n and j < m:
        if sims[i][j] > 0 and score[i][j] == sims[i][j] + score[i + 1][j + 1]:
            mapping[i] = j
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            i += 1
        else:
            j += 1
    return mapping


def _text_grid(table: Table) -> list[list[str]]:
    return [[compact(t) for t in row] for row in table.text_rows()]


def _columns(grid: list[list[str]], n_cols: int) -> list[list[str]]:
    return [[row[c] for row in grid] for c in range(n_cols)]


def score_cells(pred: Table | None, gold: Table) -> CellScore:
    """Cell text/structure counts of one predicted table against its gold table."""
    if pred is None or not pred.cells:
        return CellScore(gold_cells=len(gold.cells), pred_cells=len(pred.cells) if pred else 0)
    gold_grid, pred_grid = _text_grid(gold), _text_grid(pred)
    row_map = align(gold_grid, pred_grid, bag_similarity)
    col_map = align(_columns(gold_grid, gold.n_cols), _columns(pred_grid, pred.n_cols), bag_similarity)
    covering = pred.grid()
    used: set[int] = set()
    text_ok = structure_ok = 0
    for cell in sorted(gold.cells, key=lambda c: (c.row, c.col)):
        slot = (row_map.get(cell.row), col_map.get(cell.col))
        if slot[0] is None or slot[1] is None:
            continue
        match = covering[slot[0]][slot[1]]
        if match is None or id(match) in used or compact(match.text) != compact(cell.text):
            continue
        used.add(id(match))
        text_ok += 1
        structure_ok += _same_structure(cell, match, slot, row_map, col_map)
    return CellScore(len(gold.cells), len(pred.cells), text_ok, structure_ok)


def _same_structure(
    gold: Cell, pred: Cell, slot: tuple[int, int], row_map: dict[int, int], col_map: dict[int, int]
) -> bool:
    """Anchored at the aligned slot and covering the aligned extent of the gold cell's spans."""
    if (pred.row, pred.col) != slot or pred.row_span != gold.row_span or pred.col_span != gold.col_span:
        return False
    last_row = row_map.get(gold.row + gold.row_span - 1)
    last_col = col_map.get(gold.col + gold.col_span - 1)
    return last_row == pred.row + pred.row_span - 1 and last_col == pred.col + pred.col_span - 1
