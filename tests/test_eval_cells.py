"""Cell-level text accuracy with row/column alignment, on hand-made tables."""

from __future__ import annotations

import pytest

from zhibiao.eval.cells import CellScore, align, bag_similarity, score_cells
from zhibiao.tables.html import table_from_html

GRID = (
    "<table><tr><td>a1</td><td>b1</td><td>c1</td></tr><tr><td>a2</td><td>b2</td><td>c2</td></tr>"
    "<tr><td>a3</td><td>b3</td><td>c3</td></tr></table>"
)


def t(markup: str):
    return table_from_html(markup)


def test_identical():
    score = score_cells(t(GRID), t(GRID))
    assert (score.text_accuracy, score.precision, score.f1, score.structure_accuracy) == (1.0, 1.0, 1.0, 1.0)


def test_one_wrong_cell():
    score = score_cells(t(GRID.replace("b2", "bX")), t(GRID))
    assert score == CellScore(gold_cells=9, pred_cells=9, text_correct=8, structure_correct=8)
    assert score.text_accuracy == pytest.approx(8 / 9)


def test_row_shift_does_not_make_later_cells_wrong():
    shifted = t(GRID.replace("<table>", "<table><tr><td>title</td><td></td><td></td></tr>"))
    score = score_cells(shifted, t(GRID))
    assert score.text_accuracy == 1.0
    assert score.precision == pytest.approx(9 / 12)
    assert score.structure_accuracy == 1.0


def test_column_shift_is_aligned_too():
    shifted = t(GRID.replace("<tr>", "<tr><td>#</td>"))
    score = score_cells(shifted, t(GRID))
    assert score.text_accuracy == 1.0
    assert score.precision == pytest.approx(9 / 12)


def test_lost_row_counts_only_its_cells():
    dropped = t(GRID.replace("<tr><td>a2</td><td>b2</td><td>c2</td></tr>", ""))
    score = score_cells(dropped, t(GRID))
    assert score.text_correct == 6
    assert score.text_accuracy == pytest.approx(6 / 9)
    assert score.precision == 1.0


def test_merged_cell_split():
    gold = t(
        '<table><tr><td rowspan="2">A</td><td>B</td><td>C</td></tr><tr><td>D</td><td>E</td></tr></table>'
    )
    split = t("<table><tr><td>A</td><td>B</td><td>C</td></tr><tr><td></td><td>D</td><td>E</td></tr></table>")
    score = score_cells(split, gold)
    # every gold text is found; the split adds one cell; A has the wrong span
    assert score == CellScore(gold_cells=5, pred_cells=6, text_correct=5, structure_correct=4)
    assert score.precision == pytest.approx(5 / 6)
    assert score.structure_accuracy == pytest.approx(4 / 5)


def test_each_predicted_cell_is_used_once():
    gold = t("<table><tr><td>A</td><td>A</td></tr></table>")
    merged = t('<table><tr><td colspan="2">A</td></tr></table>')
    assert score_cells(merged, gold).text_correct == 1


def test_missing_prediction():
    score = score_cells(None, t(GRID))
    assert score.text_accuracy == 0.0 and score.gold_cells == 9


def test_text_compared_without_whitespace_and_width():
    assert score_cells(t(GRID.replace("b2", "ｂ 2")), t(GRID)).text_correct == 9


def test_alignment_is_monotone_and_skips_unmatched():
    rows_a = [["x"], ["y"], ["z"]]
    rows_b = [["y"], ["q"], ["z"]]
    assert align(rows_a, rows_b, bag_similarity) == {1: 0, 2: 2}
