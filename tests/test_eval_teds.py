"""TEDS / TEDS-S on hand-made tables whose answer is known, and against the reference implementation."""

from __future__ import annotations

import random

import pytest

from zhibiao.eval.teds import table_tree, teds, teds_pair
from zhibiao.tables.html import table_from_html, table_to_html

GRID = (
    "<table><tr><td>a1</td><td>b1</td><td>c1</td></tr><tr><td>a2</td><td>b2</td><td>c2</td></tr>"
    "<tr><td>a3</td><td>b3</td><td>c3</td></tr></table>"
)
# 1 table + 3 tr + 9 td = 13 nodes


def t(markup: str):
    return table_from_html(markup)


def test_identical_tables_score_one():
    assert teds_pair(t(GRID), t(GRID)) == (1.0, 1.0)


def test_tree_has_one_node_per_table_row_and_cell():
    assert table_tree(t(GRID)).size() == 13


def test_one_wrong_cell_costs_its_normalised_levenshtein():
    pred = t(GRID.replace("b2", "bX"))
    # rename td "b2" -> "bX": Levenshtein 1 / max len 2 = 0.5; 13 nodes
    assert teds(pred, t(GRID)) == pytest.approx(1 - 0.5 / 13)
    assert teds(pred, t(GRID), structure_only=True) == 1.0


def test_completely_different_cell_text_costs_one():
    pred = t(GRID.replace("b2", "zz"))
    assert teds(pred, t(GRID)) == pytest.approx(1 - 1 / 13)


def test_row_shift_costs_the_inserted_row():
    shifted = t(GRID.replace("<table>", "<table><tr><td>x</td><td>y</td><td>z</td></tr>"))
    # insert 1 tr + 3 td = 4 edits; the larger tree has 17 nodes
    assert teds(shifted, t(GRID)) == pytest.approx(1 - 4 / 17)
    assert teds(shifted, t(GRID), structure_only=True) == pytest.approx(1 - 4 / 17)


def test_merged_cell_split_costs_span_rename_and_insert():
    gold = t(
        '<table><tr><td rowspan="2">A</td><td>B</td><td>C</td></tr><tr><td>D</td><td>E</td></tr></table>'
    )
    split = t("<table><tr><td>A</td><td>B</td><td>C</td></tr><tr><td></td><td>D</td><td>E</td></tr></table>")
    # gold 1+2+5 = 8 nodes, prediction 1+2+6 = 9; rename A's rowspan (1) + insert the empty td (1)
    assert teds(split, gold) == pytest.approx(1 - 2 / 9)
    assert teds(split, gold, structure_only=True) == pytest.approx(1 - 2 / 9)


def test_missing_prediction_scores_zero():
    assert teds(None, t(GRID)) == 0.0


def test_line_breaks_inside_a_cell_are_layout_by_default():
    pred = t(GRID.replace("b2", "b\n2"))
    assert teds(pred, t(GRID)) == 1.0
    assert teds(pred, t(GRID), normalize=False) < 1.0


def _perturb(markup: str, rng: random.Random) -> str:
    table = t(markup)
    for cell in rng.sample(table.cells, 3):
        cell.text = cell.text[: len(cell.text) // 2] + "错"
    table.cells = [c for i, c in enumerate(table.cells) if i % 5 != 2]
    return table_to_html(table)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agrees_with_table_recognition_metric(seed):
    """Same numbers as the IBM reference code packaged as ``table-recognition-metric`` (raw text)."""
    reference = pytest.importorskip("table_recognition_metric")
    gold_markup = (
        '<table><tr><td colspan="2">项目名称</td><td>预算</td></tr>'
        '<tr><td rowspan="2">产出指标</td><td>数量</td><td>100</td></tr>'
        "<tr><td>质量\n合格</td><td>优</td></tr><tr><td>合计</td><td>满意度≥95%</td><td>98</td></tr></table>"
    )
    pred_markup = _perturb(gold_markup, random.Random(seed))

    def wrap(markup: str) -> str:
        return f"<html><body>{markup}</body></html>"

    for structure_only in (False, True):
        expected = reference.TEDS(structure_only=structure_only)(wrap(pred_markup), wrap(gold_markup))
        ours = teds(t(pred_markup), t(gold_markup), structure_only=structure_only, normalize=False)
        assert 0.0 < expected < 1.0
        assert ours == pytest.approx(expected, abs=1e-9)
