"""Tables from pixels: rulings, grids, cutting lines at borders, glyph checks, page merging."""

from __future__ import annotations

import numpy as np
import pytest

from zhibiao.model import Cell, Table
from zhibiao.ocr.pages import (
    PageOcr,
    Piece,
    checked_piece,
    cut_at_borders,
    estimate_px_per_pt,
    ink_in_empty_cells,
    lone_stroke,
    merge_continued,
    operator_shape,
)
from zhibiao.ocr.table_grid import detect_rulings, erase_lines, find_table_grids, longest_run
from zhibiao.tables.grid import Grid

PX_PER_PT = 200 / 72


def form_image() -> np.ndarray:
    """A 4 x 4 ruled form at 200 dpi whose top-left cell spans two columns and whose last column
    spans rows 1-2; row 2 is only 0.55 cm high (its borders are short pieces)."""
    import cv2

    img = np.full((700, 1000), 240, np.uint8)
    xs, ys = [80, 300, 520, 700, 920], [100, 200, 300, 343, 500]
    for k, y in enumerate(ys):
        cv2.line(img, (xs[0], y), (xs[-1] if k != 2 else xs[3], y), 25, 2)
    for k, x in enumerate(xs):
        for r in range(4):
            if k == 1 and r == 0:
                continue  # merged cell (0,0)-(0,1)
            cv2.line(img, (x, ys[r]), (x, ys[r + 1]), 25, 2)
    return img


def test_form_grid_has_rows_columns_and_merged_cells() -> None:
    rulings, masks = detect_rulings(form_image(), PX_PER_PT)
    (grid,) = find_table_grids(rulings, PX_PER_PT)
    assert grid.n_rows == 4 and grid.n_cols == 4
    spans = {(r, c): (rs, cs) for r, c, rs, cs in grid.regions}
    assert spans[(0, 0)] == (1, 2)  # no border between the first two columns of row 0
    assert spans[(1, 3)] == (2, 1)  # the last column has no border between rows 1 and 2
    assert spans[(2, 0)] == spans[(2, 1)] == spans[(2, 2)] == (1, 1)  # the low row keeps its short borders
    assert masks.horizontal.any() and masks.vertical.any()


def test_text_strokes_do_not_become_rulings() -> None:
    import cv2

    img = form_image()
    for k in range(8):  # dense strokes inside a cell: letters of a small font
        x = 110 + 12 * k
        cv2.line(img, (x, 130), (x + 6, 130), 25, 2)
        cv2.line(img, (x, 125), (x, 170), 25, 2)
    rulings, _ = detect_rulings(img, PX_PER_PT)
    inside = [r for r in rulings if 105 < min(r.x0, r.x1) < 280 and 110 < min(r.y0, r.y1) < 190]
    assert inside == []


def test_erasing_lines_keeps_the_text() -> None:
    import cv2

    img = form_image()
    cv2.putText(img, "16.00", (120, 160), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 20, 3)
    _, masks = detect_rulings(img, PX_PER_PT)
    clean = erase_lines(img, masks)
    assert clean[100, 200] > 200  # a border pixel is now paper
    assert (clean[125:175, 115:260] < 100).sum() == (img[125:175, 115:260] < 100).sum()


def test_longest_run() -> None:
    assert longest_run(np.array([1, 1, 0, 1, 1, 1, 0], bool)) == 3
    assert longest_run(np.zeros(4, bool)) == 0


def simple_grid() -> Grid:
    xs, ys = (0.0, 100.0, 200.0, 300.0), (0.0, 20.0, 40.0)
    regions = ((0, 0, 1, 1), (0, 1, 1, 1), (0, 2, 1, 1), (1, 0, 1, 3))
    v_borders = frozenset({(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 3)})
    return Grid(xs, ys, regions, v_borders, frozenset())


def test_a_line_crossing_cell_borders_is_cut_there() -> None:
    grid = simple_grid()
    parts = cut_at_borders((60.0, 5.0, 260.0, 15.0), [grid], pad=1.0)
    assert parts == [(60.0, 5.0, 99.0, 15.0), (101.0, 5.0, 199.0, 15.0), (201.0, 5.0, 260.0, 15.0)]
    # the second row is one merged cell: nothing to cut
    assert cut_at_borders((60.0, 25.0, 260.0, 35.0), [grid], pad=1.0) == [(60.0, 25.0, 260.0, 35.0)]
    # a sliver next to a border (the border's own ink) is dropped
    assert cut_at_borders((97.0, 5.0, 150.0, 15.0), [grid], pad=1.0) == [(101.0, 5.0, 150.0, 15.0)]


def test_ink_in_an_empty_cell_is_boxed_for_reading() -> None:
    import cv2

    grid = simple_grid()
    page = np.full((40, 300), 250, np.uint8)
    cv2.line(page, (150, 6), (146, 16), 20, 2)  # a lone '/' in cell (0, 1)
    page[30, 20] = 0  # a speck of dust in the merged row
    boxes = ink_in_empty_cells([grid], [(10.0, 5.0, 60.0, 15.0)], page, 1.0, 1.0)
    assert len(boxes) == 1
    x0, y0, x1, y1 = boxes[0]
    assert 100 <= x0 < 146 and 150 < x1 <= 200 and y0 < 6 and y1 > 16


def glyph(kind: str) -> np.ndarray:
    """A 40 x 40 crop with an operator drawn in black on white."""
    import cv2

    img = np.full((40, 40), 250, np.uint8)
    if kind in (">", "≥"):
        cv2.polylines(img, [np.array([[8, 5], [30, 15], [8, 25]])], False, 10, 2)
    if kind in ("<", "≤"):
        cv2.polylines(img, [np.array([[30, 5], [8, 15], [30, 25]])], False, 10, 2)
    if kind in ("≥", "≤"):
        cv2.line(img, (8, 33), (30, 33), 10, 2)
    if kind == "=":
        cv2.line(img, (6, 14), (32, 14), 10, 2)
        cv2.line(img, (6, 24), (32, 24), 10, 2)
    return img


@pytest.mark.parametrize("kind", [">", "<", "≥", "≤", "="])
def test_operator_shapes(kind: str) -> None:
    assert operator_shape(glyph(kind)) == kind


def test_operator_reading_is_corrected_with_evidence() -> None:
    piece = checked_piece(3, ">", 0.6, (0, 0, 10, 10), glyph("≥"), recovered=False)
    assert piece is not None and piece.text == "≥" and "shape" in piece.note
    assert piece.confidence >= 0.85
    unchanged = checked_piece(4, "产出指标", 0.99, (0, 0, 10, 10), glyph("≥"), recovered=False)
    assert unchanged is not None and unchanged.text == "产出指标" and unchanged.note == ""
    # an empty cell's ink read as nothing still yields its operator
    recovered = checked_piece(5, "", 0.1, (0, 0, 10, 10), glyph("="), recovered=True)
    assert recovered is not None and recovered.text == "="
    assert checked_piece(6, "", 0.1, (0, 0, 10, 10), glyph("="), recovered=False) is None


def test_a_slanted_lone_stroke_is_a_slash_not_a_one() -> None:
    import cv2

    slash = np.full((40, 24), 250, np.uint8)
    cv2.line(slash, (16, 4), (8, 34), 10, 2)
    one = np.full((40, 24), 250, np.uint8)
    cv2.line(one, (12, 4), (12, 34), 10, 2)
    cv2.line(one, (12, 4), (8, 9), 10, 2)  # the flag of a serif '1'
    assert lone_stroke("1", slash)[0] == "/"
    assert lone_stroke("1", one) == ("1", "")
    assert lone_stroke("10", slash) == ("10", "")


def test_density_of_an_unlabelled_image_from_line_heights() -> None:
    assert estimate_px_per_pt([40, 41, 39, 42]) == pytest.approx(40.5 / 14.5, rel=0.01)
    assert estimate_px_per_pt([40]) is None


def part(
    page: int, x_shift: float, rows: list[list[str]], confidence: float = 0.9
) -> tuple[Table, Grid, bool, bool]:
    xs = tuple(x + x_shift for x in (100.0, 200.0, 300.0))
    ys = tuple(50.0 + 20 * r for r in range(len(rows) + 1))
    cells = [
        Cell(
            row=r,
            col=c,
            text=text,
            bbox=(xs[c], ys[r], xs[c + 1], ys[r + 1]),
            confidence=confidence,
            source=f"ocr:{r}",
        )
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
    ]
    table = Table(
        page=page,
        pages=[page],
        bbox=(xs[0], ys[0], xs[-1], ys[-1]),
        reader="ocr",
        n_rows=len(rows),
        n_cols=2,
        cells=cells,
    )
    regions = tuple((r, c, 1, 1) for r in range(len(rows)) for c in range(2))
    return table, Grid(xs, ys, regions), True, True


def test_tables_continued_on_the_next_scan_page_are_merged_despite_the_shift() -> None:
    first = part(1, 0.0, [["一级指标", "权重"], ["产出指标", "20"]])
    second = part(2, 3.5, [["效益指标", "10"]], confidence=0.7)
    (merged,) = merge_continued([first, second], tolerance=12.0)
    assert merged.pages == [1, 2] and merged.n_rows == 3 and merged.n_cols == 2
    assert merged.reader == "ocr"
    assert merged.text_rows()[2] == ["效益指标", "10"]
    low = next(c for c in merged.cells if c.text == "效益指标")
    assert low.confidence == pytest.approx(0.7) and low.source and low.source.startswith("p2")


def test_tables_on_far_apart_pages_or_different_widths_stay_apart() -> None:
    first = part(1, 0.0, [["a", "b"]])
    third = part(3, 0.0, [["c", "d"]])
    assert len(merge_continued([first, third], tolerance=12.0)) == 2
    narrow = part(2, 0.0, [["c", "d"]])
    narrow[0].bbox = (100.0, 50.0, 250.0, 70.0)
    assert len(merge_continued([first, narrow], tolerance=12.0)) == 2


def test_page_result_type_is_exported() -> None:
    assert {"tables", "grids", "paragraphs"} <= set(PageOcr.__dataclass_fields__)


Line = tuple[str, float, float]


def cut_part(page: int, rows: list[list[Line]]) -> tuple[tuple[Table, Grid, bool, bool], dict[str, Piece]]:
    """A two-column table part whose cells hold one recognised line each: (text, line width, gap
    below the line) in points; columns 40 and 120 pt wide, rows 20 pt high."""
    xs = (100.0, 140.0, 260.0)
    ys = tuple(60.0 + 20 * r for r in range(len(rows) + 1))
    cells, pieces = [], {}
    for r, row in enumerate(rows):
        for c, (text, width, gap) in enumerate(row):
            pid = f"{r}{c}"
            bottom = ys[r + 1] - gap
            if text:  # a detected box reaches ~15 % of its height beyond the ink on each side
                box = (xs[c] + 1.0, bottom - 14.5, xs[c] + 5.5 + width, bottom + 2.2)
                pieces[pid] = Piece(int(pid), text, box, 0.95)
            cell_box = (xs[c], ys[r], xs[c + 1], ys[r + 1])
            cells.append(Cell(row=r, col=c, text=text, bbox=cell_box, source=f"ocr:{pid}" if text else None))
    frame = (xs[0], ys[0], xs[-1], ys[-1])
    table = Table(page=page, pages=[page], bbox=frame, reader="ocr", n_rows=len(rows), n_cols=2, cells=cells)
    grid = Grid(xs, ys, tuple((r, c, 1, 1) for r in range(len(rows)) for c in range(2)))
    return (table, grid, True, True), pieces


def test_text_cut_by_the_page_break_runs_on_into_the_cell_above() -> None:
    # '项目基本' fills its 40 pt cell down to the bottom: the break cut it; '年度目标' has room left
    top = [("项目名称", 36.0, 3.0), ("家庭", 18.0, 3.0)]
    cut = [("项目基本", 36.0, 0.0), ("年度目标", 36.0, 0.0)]
    rest = [("情况", 18.0, 3.0), ("完成情况良好", 54.0, 3.0)]
    first, p1 = cut_part(1, [top, cut])
    second, p2 = cut_part(2, [rest])
    (merged,) = merge_continued([first, second], tolerance=12.0, pieces={1: p1, 2: p2})
    rows = merged.text_rows()  # a merged cell's text repeats in every row it spans
    assert rows == [["项目名称", "家庭"], ["项目基本情况", "年度目标"], ["项目基本情况", "完成情况良好"]]
    joined = next(c for c in merged.cells if c.text == "项目基本情况")
    assert joined.row_span == 2 and joined.source and joined.source.startswith("p1-p2:")
    # without the recognised lines nothing runs on (the old behaviour)
    (plain,) = merge_continued([cut_part(1, [cut])[0], cut_part(2, [rest])[0]], tolerance=12.0)
    assert plain.text_rows() == [["项目基本", "年度目标"], ["情况", "完成情况良好"]]
