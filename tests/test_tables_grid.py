"""Grid reconstruction from rulings and positioned text pieces (zhibiao.tables.grid)."""

from __future__ import annotations

import pytest

from zhibiao.model import Ruling
from zhibiao.tables.grid import (
    GridOptions,
    TextPiece,
    build_tables,
    find_grids,
    group_lines,
    is_cjk,
    join_line,
    split_at_borders,
    swallowed_share,
)

EM = 10.0


def rulings_for(
    xs: list[float], ys: list[float], missing: set[tuple[str, int, int]] = frozenset(), split: bool = True
) -> list[Ruling]:
    """Borders of a grid; ``("v", k, r)`` / ``("h", k, c)`` leave out one edge.

    With ``split`` every border is drawn cell edge by cell edge (as Calc/Word do), otherwise as
    one long line per position (only usable without missing edges).
    """
    out = []
    if not split:
        out += [Ruling(x0=xs[0], y0=y, x1=xs[-1], y1=y) for y in ys]
        out += [Ruling(x0=x, y0=ys[0], x1=x, y1=ys[-1]) for x in xs]
        return out
    for k, y in enumerate(ys):
        out += [
            Ruling(x0=xs[c], y0=y, x1=xs[c + 1], y1=y)
            for c in range(len(xs) - 1)
            if ("h", k, c) not in missing
        ]
    for k, x in enumerate(xs):
        out += [
            Ruling(x0=x, y0=ys[r], x1=x, y1=ys[r + 1])
            for r in range(len(ys) - 1)
            if ("v", k, r) not in missing
        ]
    return out


def piece(
    text: str, x: float, y: float, source: str = "", em: float = EM, advance: float | None = None
) -> TextPiece:
    """A left-aligned piece whose top is at ``y``; CJK characters one em wide, others half."""
    advances = tuple(advance if advance else (em if is_cjk(ch) else em / 2) for ch in text)
    return TextPiece(text, (x, y, x + sum(advances), y + em), source, em, advances)


def cells(table) -> dict[tuple[int, int], tuple[int, int, str]]:
    return {(c.row, c.col): (c.row_span, c.col_span, c.text) for c in table.cells}


def test_simple_grid_and_text_by_centre() -> None:
    xs, ys = [0, 100, 200], [0, 20, 40]
    pieces = [
        piece("甲", 5, 5, "1"),
        piece("乙", 105, 5, "2"),
        piece("丙", 5, 25, "3"),
        piece("丁", 105, 25, "4"),
    ]
    (table,) = build_tables(rulings_for(xs, ys), pieces, reader="test", source_prefix="t:", page=3)
    assert (table.n_rows, table.n_cols) == (2, 2)
    assert cells(table) == {
        (0, 0): (1, 1, "甲"),
        (0, 1): (1, 1, "乙"),
        (1, 0): (1, 1, "丙"),
        (1, 1): (1, 1, "丁"),
    }
    assert table.cells[0].source == "t:1" and table.cells[0].bbox == (0, 0, 100, 20)
    assert table.page == 3 and table.pages == [3] and table.index == 1 and table.reader == "test"
    assert table.bbox == (0, 0, 200, 40)


def test_missing_borders_make_spans() -> None:
    xs, ys = [0, 50, 100, 150], [0, 20, 40, 60]
    # header spans two columns (no border at xs[1] in row 0); first column spans rows 1-2
    missing = {("v", 1, 0), ("h", 2, 0)}
    (table,) = build_tables(rulings_for(xs, ys, missing), [piece("一级指标", 10, 25, "9")])
    assert cells(table) == {
        (0, 0): (1, 2, ""),
        (0, 2): (1, 1, ""),
        (1, 0): (2, 1, "一级指标"),
        (1, 1): (1, 1, ""),
        (1, 2): (1, 1, ""),
        (2, 1): (1, 1, ""),
        (2, 2): (1, 1, ""),
    }


def test_l_shaped_gap_grows_to_a_rectangle() -> None:
    xs, ys = [0, 50, 100, 150], [0, 20, 40, 60]
    # borders missing around (0,0)-(0,1) and (0,1)-(1,1): the L of three slots plus (1,0) is one cell
    missing = {("v", 1, 0), ("h", 1, 1)}
    (grid,) = find_grids(rulings_for(xs, ys, missing), GridOptions(max_swallowed=1.0))
    assert (0, 0, 2, 2) in grid.regions
    assert swallowed_share(grid) > 0  # the borders around (1, 0) were swallowed
    assert find_grids(rulings_for(xs, ys, missing)) == []  # ... too many of them for a table
    assert sum(rs * cs for _, _, rs, cs in grid.regions) == 9


def test_collinear_pieces_and_near_positions_snap() -> None:
    rulings = [
        Ruling(x0=0, y0=0, x1=60, y1=0),
        Ruling(x0=61, y0=0.4, x1=120, y1=0.4),  # same line, a small step and gap
        Ruling(x0=0, y0=30, x1=120, y1=30),
        Ruling(x0=0, y0=0, x1=0, y1=30),
        Ruling(x0=60.5, y0=0, x1=60.5, y1=30),
        Ruling(x0=120, y0=0, x1=120, y1=30),
        Ruling(x0=0, y0=15, x1=120, y1=15),
    ]
    (grid,) = find_grids(rulings)
    assert (grid.n_rows, grid.n_cols) == (2, 2)
    assert len(grid.regions) == 4


def test_open_sided_table_is_bounded_by_line_ends() -> None:
    # a three-line table: horizontal rules only, columns separated by inner verticals
    xs, ys = [0, 80, 160], [0, 20, 40]
    rulings = [Ruling(x0=0, y0=y, x1=160, y1=y) for y in ys] + [Ruling(x0=80, y0=0, x1=80, y1=40)]
    (grid,) = find_grids(rulings)
    assert grid.xs == (0, 80, 160) and grid.ys == (0, 20, 40)
    assert xs == list(grid.xs)


def test_diagram_boxes_are_not_tables() -> None:
    # two boxes joined by a connector and framed: lines inside merged "cells" -> no table
    rulings = rulings_for([0, 300], [0, 200], split=False)
    for x0, y0 in ((20, 20), (180, 120)):
        rulings += rulings_for([x0, x0 + 80], [y0, y0 + 40], split=False)
    rulings += [
        Ruling(x0=100, y0=40, x1=180, y1=40),
        Ruling(x0=100, y0=40, x1=100, y1=140),
        Ruling(x0=100, y0=140, x1=180, y1=140),
    ]
    assert find_grids(rulings) == [] and build_tables(rulings, [piece("类", 30, 30)]) == []
    (network,) = find_grids(rulings, GridOptions(max_swallowed=1.0))  # boxes + connector as a "grid"
    assert swallowed_share(network) > 0.5


def test_too_few_lines_or_slanted_lines_make_no_table() -> None:
    assert find_grids([Ruling(x0=0, y0=0, x1=100, y1=0), Ruling(x0=0, y0=0, x1=0, y1=100)]) == []
    slanted = [Ruling(x0=0, y0=i * 10, x1=100, y1=i * 10 + 30) for i in range(5)]
    assert find_grids(slanted + [Ruling(x0=i * 10, y0=0, x1=i * 10 + 30, y1=100) for i in range(5)]) == []


def test_two_separate_tables_in_reading_order() -> None:
    lower = rulings_for([0, 50, 100], [200, 220, 240])
    upper = rulings_for([0, 50, 100], [0, 20, 40])
    tables = build_tables(lower + upper, [piece("上", 5, 5), piece("下", 5, 205)])
    assert [t.index for t in tables] == [1, 2]
    assert tables[0].cells[0].text == "上" and tables[1].cells[0].text == "下"


def test_piece_crossing_a_border_is_split_at_its_space() -> None:
    grid_rulings = rulings_for([0, 50, 100], [0, 20, 40])
    both = piece("权重 得分", 25, 3, "7")  # 25 + 10 + 10 + 5: the space ends on the border at 50
    (table,) = build_tables(grid_rulings, [both])
    assert table.cells[0].text == "权重" and table.cells[1].text == "得分"
    assert table.cells[0].source == table.cells[1].source == "7"


def test_overflowing_text_without_space_is_not_split() -> None:
    (grid,) = find_grids(rulings_for([0, 50, 100], [0, 20, 40]))
    long = piece("评选出全市家", 0.5, 3)  # ends 10.5 past the border: renderer wider than layout
    assert split_at_borders(long, grid) == [long]


def test_line_tail_drawn_past_the_border_goes_back_to_its_cell() -> None:
    xs, ys = [0, 120, 240], [0, 40, 60]
    pieces = [
        piece("一二三四五六七八九十一二", 1, 2, "1"),
        piece("三", 121.5, 2, "2"),  # the tail of the first line, drawn just past the border
        piece("四五", 1, 14, "3"),
        piece("甲", 150, 26, "4"),  # the next cell's own text on another line
    ]
    (table,) = build_tables(rulings_for(xs, ys), pieces)
    assert table.cells[0].text == "一二三四五六七八九十一二三四五" and table.cells[0].source == "1,2,3"
    assert table.cells[1].text == "甲"


def test_same_line_pieces_join_without_spaces_between_cjk() -> None:
    line = group_lines([piece("完成", 0, 0), piece("2", 22.5, 0), piece("篇文章", 30, 0)])[0]
    assert join_line(line, GridOptions()) == "完成2篇文章"
    latin = group_lines([piece("Total", 0, 0), piece("score", 31, 0)])[0]
    assert join_line(latin, GridOptions()) == "Total score"


def test_wrapped_lines_join_and_hand_breaks_keep_newline() -> None:
    xs, ys = [0, 52, 104], [0, 60, 80]
    pieces = [
        # cell 1: five characters fill the 52-wide cell -> the break is a wrap
        piece("年度预算执", 1, 2),
        piece("行数", 1, 16),
        # cell 2: a short first line -> written by hand
        piece("绩效", 53, 2),
        piece("目标", 53, 16),
        piece("情况", 53, 30),
    ]
    (table,) = build_tables(rulings_for(xs, ys), pieces)
    assert table.cells[0].text == "年度预算执行数"
    assert table.cells[1].text == "绩效\n目标\n情况"
    assert table.cells[0].confidence == 1.0


def test_full_line_before_bracketed_unit_is_a_guessed_hand_break() -> None:
    rulings = rulings_for([0, 51, 100], [0, 40, 60])
    (table,) = build_tables(rulings, [piece("项目资金", 6, 2), piece("（万元）", 6, 16)])
    assert table.cells[0].text == "项目资金\n（万元）"
    assert table.cells[0].confidence < 1.0


def test_numbered_list_items_start_new_lines() -> None:
    xs, ys = [0, 101, 150], [0, 50, 70]
    pieces = [piece("1.开展家庭教育活动。", 1, 2), piece("2.推动家校合作共育。", 1, 16)]
    (table,) = build_tables(rulings_for(xs, ys), pieces)
    assert table.cells[0].text == "1.开展家庭教育活动。\n2.推动家校合作共育。"


def test_title_is_the_largest_line_just_above() -> None:
    xs, ys = [0, 100, 200], [50, 70, 90]
    title = piece("项目支出绩效自评表", 40, 10, em=16)
    unit = piece("单位：万元", 150, 36)
    far = piece("正文", 0, -200, em=20)
    (table,) = build_tables(rulings_for(xs, ys), [title, unit, far, piece("甲", 5, 55)])
    assert table.title == "项目支出绩效自评表"


def test_scaled_options_for_pixel_input() -> None:
    opts = GridOptions().scaled(200 / 72)
    assert opts.snap == pytest.approx(GridOptions().snap * 200 / 72)
    xs, ys = [0, 300, 600], [0, 60, 120]
    wobbly = [*rulings_for(xs, ys), Ruling(x0=0, y0=62.5, x1=600, y1=62.5)]  # a second stroke 2.5 px off
    (grid,) = find_grids(wobbly, opts)
    assert grid.n_rows == 2


def test_large_line_counts_are_refused_quickly() -> None:
    n = 1600
    rulings = [Ruling(x0=0, y0=i, x1=n, y1=i) for i in range(0, 2 * n, 2)]
    rulings += [Ruling(x0=i, y0=0, x1=i, y1=n) for i in range(0, 2 * n, 2)]
    assert find_grids(rulings) == []
