"""Peers: pdfplumber's plain tables and RapidOCR+RapidTable, scored with the same metrics."""

from __future__ import annotations

import pytest

from conftest import DEV, GOLD, require
from zhibiao.annotations.gold import load_gold_file
from zhibiao.eval.peers import grid_to_table, rapid_available, run_pdfplumber, run_rapidtable, stack_tables


def test_plain_grid_has_no_spans_and_empty_merged_slots():
    table = grid_to_table([["a", None, "b"], ["c", "d"]], "pdfplumber")
    assert (table.n_rows, table.n_cols, len(table.cells)) == (2, 3, 6)
    assert all(c.row_span == c.col_span == 1 for c in table.cells)
    assert table.text_rows() == [["a", "", "b"], ["c", "d", ""]]


def test_stack_tables_puts_parts_below_each_other():
    top, bottom = grid_to_table([["a"]], "p"), grid_to_table([["b", "c"], ["d", "e"]], "p")
    stacked = stack_tables([top, None, bottom])
    assert stacked.n_rows == 3 and stacked.n_cols == 2
    assert stacked.text_rows() == [["a", ""], ["b", "c"], ["d", "e"]]
    assert stack_tables([None]) is None


def test_pdfplumber_peer_on_a_dev_pdf():
    require(DEV / "000_c9021f7b19f56ffc.pdf")
    gold = load_gold_file(GOLD / "000.json")
    report = run_pdfplumber(DEV, [gold]).report()
    assert report["merged"]["tables"] == 1 and report["pages"]["tables"] == 3
    pair = report["merged_pairs"][0]
    assert pair["gold_shape"] == [25, 9]
    assert 0.0 < pair["teds"] < 1.0  # plain grids lose every merged cell
    assert pair["cell_text_accuracy"] > 0.5


@pytest.mark.slow
def test_rapidtable_peer_on_a_dev_scan():
    if not rapid_available():
        pytest.skip("rapid-table / rapidocr not installed")
    require(DEV / "000_c9021f7b19f56ffc_scan")
    gold = load_gold_file(GOLD / "000.json")
    report = run_rapidtable(DEV, [gold]).report()
    assert report["pages"]["tables"] == 3
    assert report["merged"]["tables_matched"] == 1
    assert 0.0 < report["merged"]["teds"] <= 1.0
