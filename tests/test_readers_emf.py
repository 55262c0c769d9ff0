"""EMF and WMF readers: synthetic pictures built here, the dev corpus against gold, real Windows
EMFs against their record survey, malformed and fuzzed input."""

from __future__ import annotations

import contextlib
import io
import re
import struct
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEV, GOLD, SHARED, require
from zhibiao.errors import ReaderError, UnsafeInputError
from zhibiao.model import Table
from zhibiao.readers import emf, get_reader, wmf
from zhibiao.tables.html import table_from_html

PX_PT = 0.75  # one 96 dpi device pixel in points

# ---------------------------------------------------------------------------------------------
# A small EMF writer (records as the spec lays them out)


def record(rtype: int, payload: bytes) -> bytes:
    payload += b"\0" * (-len(payload) % 4)
    return struct.pack("<II", rtype, 8 + len(payload)) + payload


def header(n_bytes: int, n_records: int, frame: tuple[int, int, int, int] = (0, 0, 21000, 29700)) -> bytes:
    """EMR_HEADER of a 96 dpi A4 reference device (1 px = 0.2646 mm)."""
    body = struct.pack("<4i4i", 0, 0, 793, 1122, *frame)
    body += b" EMF" + struct.pack("<IIIHHIII", 0x10000, n_bytes, n_records, 8, 0, 0, 0, 0)
    body += struct.pack("<2i2i", 794, 1123, 210, 297)
    body += struct.pack("<III", 0, 0, 0) + struct.pack("<2i", 210000, 297000)
    return struct.pack("<II", 1, 8 + len(body)) + body


def build_emf(*records: bytes, frame: tuple[int, int, int, int] = (0, 0, 21000, 29700)) -> bytes:
    body = b"".join(records) + record(emf.EMR_EOF, struct.pack("<III", 0, 16, 20))
    head = header(108 + len(body), len(records) + 2, frame)
    return head + body


def font_w(handle: int, height: int, charset: int = 134, face: str = "宋体", escapement: int = 0) -> bytes:
    logfont = struct.pack("<5i8B", height, 0, escapement, escapement, 400, 0, 0, 0, charset, 0, 0, 0, 0)
    logfont += face.encode("utf-16-le").ljust(64, b"\0")
    return record(82, struct.pack("<I", handle) + logfont)


def select(handle: int) -> bytes:
    return record(37, struct.pack("<I", handle))


def text_align(mode: int) -> bytes:
    return record(22, struct.pack("<I", mode))


def text_w(x: int, y: int, text: str, dx: list[int] | None = None, options: int = 0) -> bytes:
    """EMR_EXTTEXTOUTW with a dx array (16 px per character unless given)."""
    chars = text.encode("utf-16-le")
    n = len(text)
    dx = dx if dx is not None else [16] * n
    off_string = 8 + 28 + 40
    off_dx = off_string + len(chars) + (-len(chars) % 4)
    emrtext = struct.pack("<2iIII4iI", x, y, n, off_string, options, 0, 0, 0, 0, off_dx)
    body = struct.pack("<4iIff", 0, 0, 0, 0, 1, 1.0, 1.0) + emrtext
    body += chars + b"\0" * (-len(chars) % 4) + struct.pack(f"<{n}i", *dx)
    return record(84, body)


def text_a(x: int, y: int, raw: bytes, dx: list[int]) -> bytes:
    off_string = 8 + 28 + 40
    off_dx = off_string + len(raw) + (-len(raw) % 4)
    emrtext = struct.pack("<2iIII4iI", x, y, len(raw), off_string, 0, 0, 0, 0, 0, off_dx)
    body = struct.pack("<4iIff", 0, 0, 0, 0, 1, 1.0, 1.0) + emrtext
    body += raw + b"\0" * (-len(raw) % 4) + struct.pack(f"<{len(dx)}i", *dx)
    return record(83, body)


def move_to(x: int, y: int) -> bytes:
    return record(27, struct.pack("<2i", x, y))


def line_to(x: int, y: int) -> bytes:
    return record(54, struct.pack("<2i", x, y))


def polyline16(points: list[tuple[int, int]]) -> bytes:
    flat = [v for p in points for v in p]
    return record(87, struct.pack("<4iI", 0, 0, 0, 0, len(points)) + struct.pack(f"<{len(flat)}h", *flat))


def rectangle(left: int, top: int, right: int, bottom: int) -> bytes:
    return record(43, struct.pack("<4i", left, top, right, bottom))


def stock(index: int) -> bytes:
    return select(0x80000000 | index)


BLACK_BRUSH, NULL_BRUSH, NULL_PEN, BLACK_PEN = 4, 5, 8, 7


def grid_lines(xs: list[int], ys: list[int], skip: set[tuple[str, int, int]] = frozenset()) -> list[bytes]:
    """Cell borders as MOVETO/LINETO pairs; ``("v", k, r)`` leaves out the border at xs[k] in row r."""
    out = []
    for k, y in enumerate(ys):
        for c in range(len(xs) - 1):
            if ("h", k, c) not in skip:
                out += [move_to(xs[c], y), line_to(xs[c + 1], y)]
    for k, x in enumerate(xs):
        for r in range(len(ys) - 1):
            if ("v", k, r) not in skip:
                out += [move_to(x, ys[r]), line_to(x, ys[r + 1])]
    return out


TA_BASELINE = 24


def sample_table_emf() -> bytes:
    """A 3x3 table: a header cell merged over two columns (its middle border left out), a wrapped
    cell, a hand-broken cell, GBK text drawn by EXTTEXTOUTA, and a title above."""
    xs, ys = [20, 120, 220, 320], [60, 90, 150, 180]
    gbk = "合计".encode("gbk")
    return build_emf(
        stock(BLACK_PEN),
        *grid_lines(xs, ys, skip={("v", 1, 0)}),
        font_w(1, -16),
        select(1),
        text_align(TA_BASELINE),
        text_w(100, 40, "绩效自评表"),
        text_w(30, 80, "项目名称（一）"),
        # wrapped: six characters fill the 100 px cell, the rest continues below
        text_w(22, 110, "年度指标值完"),
        text_w(22, 128, "成情况"),
        # hand-broken: short first line
        text_w(130, 110, "数量"),
        text_w(130, 128, "指标"),
        text_w(230, 110, "100", dx=[8, 8, 8]),
        text_w(254, 110, "%", dx=[12]),
        text_a(30, 172, gbk, [16, 0, 16, 0]),
        text_w(130, 172, "98.5", dx=[8, 4, 8, 8]),
    )


def expected_cells(table: Table) -> dict[tuple[int, int], tuple[int, int, str]]:
    return {(c.row, c.col): (c.row_span, c.col_span, c.text) for c in table.cells}


def test_synthetic_table_cells_spans_and_text() -> None:
    doc = emf.read(sample_table_emf(), Path("sample.emf"))
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert (table.n_rows, table.n_cols) == (3, 3)
    assert expected_cells(table) == {
        (0, 0): (1, 2, "项目名称（一）"),
        (0, 2): (1, 1, ""),
        (1, 0): (1, 1, "年度指标值完成情况"),
        (1, 1): (1, 1, "数量\n指标"),
        (1, 2): (1, 1, "100%"),
        (2, 0): (1, 1, "合计"),
        (2, 1): (1, 1, "98.5"),
        (2, 2): (1, 1, ""),
    }
    assert table.title == "绩效自评表"
    assert table.reader == "emf" and table.page == 1 and table.index == 1
    page = doc.pages[0]
    assert not page.needs_ocr and not doc.warnings
    assert len(page.items) == 10 and all(it.bbox and it.reader == "emf" for it in page.items)
    assert len(page.rulings) >= 20


def test_cell_provenance_names_records_and_points_bbox() -> None:
    table = emf.tables_from_emf(sample_table_emf())[0]
    cell = next(c for c in table.cells if c.text == "年度指标值完成情况")
    # records: header 0, pen 1, 56 line records, font, select, align, title, first cell -> 63 ...
    indices = [int(i) for i in cell.source.removeprefix("emf:records ").split(",")]
    assert cell.source.startswith("emf:records ") and len(indices) == 2 and indices[1] == indices[0] + 1
    x0, y0, x1, y1 = cell.bbox
    assert (x0, x1) == pytest.approx((20 * PX_PT * 1.0003, 120 * PX_PT * 1.0003), rel=2e-3)
    assert (y0, y1) == pytest.approx((90 * PX_PT, 150 * PX_PT), rel=2e-3)
    merged = next(c for c in table.cells if c.col_span == 2)
    assert merged.source is not None and merged.bbox[2] == pytest.approx(220 * PX_PT, rel=2e-3)


def test_ta_updatecp_places_text_at_current_position() -> None:
    data = build_emf(
        font_w(1, -16),
        select(1),
        text_align(TA_BASELINE | 1),
        move_to(300, 200),
        text_w(0, 0, "甲乙"),
        text_w(0, 0, "丙"),
    )
    items = emf.read(data, Path("cp.emf")).pages[0].items
    first, second = sorted(items, key=lambda it: it.bbox[0])
    assert first.text == "甲乙" and first.bbox[0] == pytest.approx(300 * PX_PT, rel=1e-2)
    assert second.text == "丙" and second.bbox[0] == pytest.approx(332 * PX_PT, rel=1e-2)


def test_text_alignment_right_and_center() -> None:
    data = build_emf(
        font_w(1, -16),
        select(1),
        text_align(TA_BASELINE | 2),
        text_w(200, 100, "右"),
        text_align(TA_BASELINE | 6),
        text_w(200, 200, "中中"),
    )
    right, center = sorted(emf.read(data, Path("a.emf")).pages[0].items, key=lambda it: it.bbox[1])
    assert right.bbox[2] == pytest.approx(200 * PX_PT, rel=1e-2)
    assert (center.bbox[0] + center.bbox[2]) / 2 == pytest.approx(200 * PX_PT, rel=1e-2)


def xform(m11: float, m12: float, m21: float, m22: float, dx: float, dy: float) -> bytes:
    return struct.pack("<6f", m11, m12, m21, m22, dx, dy)


def test_world_transform_save_restore_and_map_mode() -> None:
    data = build_emf(
        stock(BLACK_PEN),
        record(33, b""),  # SaveDC
        record(35, xform(2, 0, 0, 2, 10, 0)),  # SetWorldTransform: scale 2, shift 10
        move_to(0, 0),
        line_to(100, 0),
        record(36, xform(1, 0, 0, 1, 0, 50) + struct.pack("<I", 2)),  # left-multiply: shift by 50 first
        move_to(0, 0),
        line_to(0, 10),
        record(34, struct.pack("<i", -1)),  # RestoreDC -> identity again
        move_to(0, 0),
        line_to(0, 100),
        record(17, struct.pack("<I", 8)),  # MM_ANISOTROPIC
        record(9, struct.pack("<2i", 1000, 1000)),  # window ext
        record(11, struct.pack("<2i", 500, 500)),  # viewport ext: half size
        move_to(0, 400),
        line_to(400, 400),
    )
    rulings = emf.read(data, Path("t.emf")).pages[0].rulings
    coords = [tuple(round(v / PX_PT, 1) for v in (r.x0, r.y0, r.x1, r.y1)) for r in rulings]
    assert coords[0] == pytest.approx((10, 0, 210, 0), abs=0.5)
    assert coords[1] == pytest.approx((10, 100, 10, 120), abs=0.5)
    assert coords[2] == pytest.approx((0, 0, 0, 100), abs=0.5)
    assert coords[3] == pytest.approx((0, 200, 200, 200), abs=0.5)


def test_y_up_fixed_map_mode_keeps_page_y_down() -> None:
    data = build_emf(
        stock(BLACK_PEN),
        record(17, struct.pack("<I", 3)),  # MM_HIMETRIC: 0.01 mm, y up
        move_to(0, -1000),
        line_to(2000, -1000),
        move_to(0, -3000),
        line_to(2000, -3000),
    )
    upper, lower = emf.read(data, Path("h.emf")).pages[0].rulings
    assert upper.y0 == pytest.approx(10 * 72 / 25.4, rel=1e-2)
    assert lower.y0 == pytest.approx(30 * 72 / 25.4, rel=1e-2)
    assert upper.x1 - upper.x0 == pytest.approx(20 * 72 / 25.4, rel=1e-2)


def path_rect(left: int, top: int, right: int, bottom: int) -> list[bytes]:
    return [
        record(59, b""),
        rectangle(left, top, right, bottom),
        record(60, b""),
        record(62, struct.pack("<4i", 0, 0, 0, 0)),
    ]


def fill_rgn(rects: list[tuple[int, int, int, int]], brush: int) -> bytes:
    rgn = struct.pack("<IIII4i", 32, 1, len(rects), 16 * len(rects), 0, 0, 0, 0)
    rgn += b"".join(struct.pack("<4i", *r) for r in rects)
    return record(71, struct.pack("<4iII", 0, 0, 0, 0, len(rgn), brush) + rgn)


def test_thin_filled_shapes_are_rulings() -> None:
    xs, ys = [10, 110, 210], [10, 40, 70]
    shapes = [
        *path_rect(xs[0], ys[0], xs[2], ys[0] + 1),  # top border as a filled path
        record(39, struct.pack("<IIII", 3, 0, 0, 0)),  # solid black brush, handle 3
        fill_rgn([(xs[0], ys[1], xs[2], ys[1] + 1), (xs[0], ys[2], xs[2], ys[2] + 1)], 3),
        *[rectangle(x, ys[0], x + 1, ys[2]) for x in xs],  # verticals as filled rectangles
    ]
    data = build_emf(
        stock(NULL_PEN),
        stock(BLACK_BRUSH),
        *shapes,
        font_w(1, -16),
        select(1),
        text_align(24),
        text_w(20, 32, "甲"),
        text_w(120, 32, "乙"),
        text_w(20, 62, "丙"),
        text_w(120, 62, "丁"),
    )
    tables = emf.tables_from_emf(data)
    assert len(tables) == 1 and [c.text for c in tables[0].cells] == ["甲", "乙", "丙", "丁"]


def test_null_pen_and_white_brush_draw_no_rulings() -> None:
    data = build_emf(stock(NULL_PEN), move_to(0, 0), line_to(100, 0), stock(0), rectangle(0, 0, 100, 1))
    assert emf.read(data, Path("n.emf")).pages[0].rulings == []


def test_glyph_index_text_needs_ocr() -> None:
    data = build_emf(font_w(1, -16), select(1), text_w(10, 10, "\x12\x34", options=0x10))
    doc = emf.read(data, Path("g.emf"))
    assert doc.pages[0].needs_ocr and doc.pages[0].items == []
    assert any("glyph index" in w for w in doc.warnings)


def test_picture_without_text_needs_ocr() -> None:
    doc = emf.read(build_emf(stock(BLACK_PEN), move_to(0, 0), line_to(10, 0)), Path("x.emf"))
    assert doc.pages[0].needs_ocr and any("no text" in w for w in doc.warnings)


def emf_plus_comment(*plus_records: bytes) -> bytes:
    data = b"EMF+" + b"".join(plus_records)
    return record(70, struct.pack("<I", len(data)) + data)


def plus_record(rtype: int, flags: int, data: bytes) -> bytes:
    return struct.pack("<HHII", rtype, flags, 12 + len(data), len(data)) + data


def test_emf_plus_only_draw_string_is_read_and_flagged() -> None:
    text = "绩效目标"
    plus_header = plus_record(0x4001, 0, struct.pack("<IIII", 0xDBC01002, 0, 96, 96))  # not dual
    draw = plus_record(
        0x401C,
        0x8000,
        struct.pack("<IIIffff", 0xFF000000, 0, len(text), 50, 60, 200, 20) + text.encode("utf-16-le"),
    )
    doc = emf.read(build_emf(emf_plus_comment(plus_header, draw)), Path("p.emf"))
    items = doc.pages[0].items
    assert [it.text for it in items] == [text]
    assert items[0].bbox[0] == pytest.approx(50 * PX_PT, rel=1e-2)
    assert doc.pages[0].needs_ocr and any("EMF+ only" in w for w in doc.warnings)


def test_emf_plus_driver_string_with_unicode_cmap() -> None:
    text = "得分"
    glyphs = text.encode("utf-16-le")
    positions = struct.pack("<4f", 10, 30, 26, 30)
    dual = plus_record(0x4001, 1, struct.pack("<IIII", 0xDBC01002, 0, 96, 96))
    driver = plus_record(0x4036, 0x8000, struct.pack("<IIII", 0, 1, 0, 2) + glyphs + positions)
    doc = emf.read(build_emf(emf_plus_comment(dual, driver)), Path("d.emf"))
    assert [it.text for it in doc.pages[0].items] == [text]  # dual picture without GDI text: EMF+ used


# ---------------------------------------------------------------------------------------------
# Malformed input: a ReaderError for the picture, never a crash or a hang


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda d: d[:-6], ReaderError),  # ends inside a record
        (lambda d: d[:112] + struct.pack("<I", 0) + d[116:], UnsafeInputError),  # record size 0
        (lambda d: d[:112] + struct.pack("<I", 13) + d[116:], UnsafeInputError),  # not a multiple of 4
        (lambda d: d[:112] + struct.pack("<I", 1 << 30) + d[116:], ReaderError),  # past the end
        (lambda d: b"\x02" + d[1:], ReaderError),  # no EMR_HEADER
        (lambda d: d[:40] + b"XEMF" + d[44:], ReaderError),  # no signature
    ],
)
def test_malformed_records_raise_reader_errors(mutate, error) -> None:
    data = build_emf(stock(BLACK_PEN), move_to(0, 0), line_to(10, 0))
    with pytest.raises(error):
        emf.read(mutate(data), Path("bad.emf"))


def test_missing_eof_record_is_a_warning() -> None:
    data = build_emf(font_w(1, -16), select(1), text_w(10, 10, "甲"))
    doc = emf.read(data[:-20], Path("cut.emf"))  # the EMR_EOF record (20 bytes) cut off
    assert [it.text for it in doc.pages[0].items] == ["甲"]
    assert any("EMR_EOF" in w for w in doc.warnings)


def test_huge_point_count_is_refused_without_allocating() -> None:
    lying = record(4, struct.pack("<4iI", 0, 0, 0, 0, 0x7FFFFFFF) + struct.pack("<4i", 0, 0, 5, 5))
    with pytest.raises(UnsafeInputError):
        emf.read(build_emf(lying), Path("huge.emf"))


def test_text_string_outside_record_is_an_error() -> None:
    bad = bytearray(text_w(10, 10, "甲乙"))
    struct.pack_into("<I", bad, 8 + 28 + 12, 4000)  # offString far past the record
    with pytest.raises(ReaderError):
        emf.read(build_emf(bytes(bad)), Path("s.emf"))


def _flip(data: bytes, positions: list[int]) -> bytes:
    out = bytearray(data)
    for pos in positions:
        out[pos % len(out)] ^= 1 << (pos % 8)
    return bytes(out)


FUZZ_BASE = sample_table_emf()


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(
    flips=st.lists(st.integers(min_value=0, max_value=len(FUZZ_BASE) * 8), max_size=8),
    cut=st.integers(min_value=0, max_value=len(FUZZ_BASE)),
    lie=st.tuples(st.integers(min_value=0, max_value=len(FUZZ_BASE) // 4), st.integers(0, 2**32 - 1)),
    mode=st.sampled_from(["flip", "cut", "lie", "all"]),
)
def test_fuzzed_emf_only_reader_errors(flips: list[int], cut: int, lie: tuple[int, int], mode: str) -> None:
    data = FUZZ_BASE
    if mode in ("flip", "all"):
        data = _flip(data, flips)
    if mode in ("lie", "all"):
        at = min(lie[0] * 4, len(data) - 4)
        data = data[:at] + struct.pack("<I", lie[1]) + data[at + 4 :]
    if mode in ("cut", "all"):
        data = data[:cut]
    started = time.perf_counter()
    try:
        doc = emf.read(data, Path("fuzz.emf"))
    except ReaderError:
        return
    assert time.perf_counter() - started < 2
    assert len(doc.pages) == 1


@settings(max_examples=60, deadline=2000)
@given(
    count=st.integers(min_value=0, max_value=2**31 - 1), n_polys=st.integers(min_value=0, max_value=2**31 - 1)
)
def test_fuzzed_poly_counts(count: int, n_polys: int) -> None:
    polyline = record(87, struct.pack("<4iI", 0, 0, 0, 0, count) + struct.pack("<4h", 0, 0, 9, 0))
    polypoly = record(
        90, struct.pack("<4iII", 0, 0, 0, 0, n_polys, count) + struct.pack("<I4h", 2, 0, 0, 9, 0)
    )
    for rec_bytes in (polyline, polypoly):
        with contextlib.suppress(ReaderError):
            emf.read(build_emf(stock(BLACK_PEN), rec_bytes), Path("p.emf"))


def test_reader_registry_finds_emf_and_wmf() -> None:
    assert get_reader("emf") is emf.read and get_reader("wmf") is wmf.read


# ---------------------------------------------------------------------------------------------
# Dev corpus: every table rebuilt exactly as the gold HTML

DEV_EMFS = sorted(DEV.glob("*_emf/table*.emf")) if DEV.exists() else []


@pytest.mark.parametrize("path", DEV_EMFS, ids=lambda p: f"{p.parent.name[:3]}-{p.stem}")
def test_dev_emf_matches_gold(path: Path) -> None:
    gold_path = require(GOLD / "tables" / path.parent.name.removesuffix("_emf") / f"{path.stem}.html")
    gold = table_from_html(gold_path.read_text(encoding="utf-8"))
    doc = emf.read(path.read_bytes(), path)
    assert len(doc.tables) == 1 and not doc.pages[0].needs_ocr
    table = doc.tables[0]
    assert (table.n_rows, table.n_cols) == (gold.n_rows, gold.n_cols)
    assert expected_cells(table) == expected_cells(gold)
    assert all(c.source and c.source.startswith("emf:records ") for c in table.cells if c.text)
    assert tables_equal_via_api(path)


def tables_equal_via_api(path: Path) -> bool:
    via_api = emf.tables_from_emf(path.read_bytes())
    return len(via_api) == 1 and expected_cells(via_api[0]) == expected_cells(
        emf.read(path.read_bytes(), path).tables[0]
    )


def test_dev_emf_wrapped_and_hand_broken_lines() -> None:
    path = require(DEV / "000_c9021f7b19f56ffc_emf" / "table1.emf")
    texts = {c.text for c in emf.tables_from_emf(path.read_bytes())[0].cells}
    assert {"项目资金\n（万元）", "绩\n效\n指\n标", "年度预算执行数", "分值（权重）"} <= texts


# ---------------------------------------------------------------------------------------------
# Real Windows EMFs: parse, within a time budget, with the text their records hold

WINDOWS = SHARED / "corpus" / "external" / "emf_windows"
SURVEY_ROW = re.compile(r"\| (\S+\.emf) \| (\d+) \| (\d+) \| (\d+) \| (True|False) \| (\d+) \| (\d+) \|")


def survey() -> dict[str, tuple[int, int, int, bool, int, int]]:
    path = WINDOWS / "SURVEY.md"
    if not path.exists():
        return {}
    rows = {}
    for m in SURVEY_ROW.finditer(path.read_text(encoding="utf-8")):
        rows[m[1]] = (int(m[2]), int(m[3]), int(m[4]), m[5] == "True", int(m[6]), int(m[7]))
    return rows


SURVEY = survey()


@pytest.mark.parametrize("name", sorted(SURVEY), ids=str)
def test_windows_emf_parses_with_its_text(name: str) -> None:
    wide, ansi, glyph, _plus, draw_string, driver_string = SURVEY[name]
    data = require(WINDOWS / name).read_bytes()
    started = time.perf_counter()
    doc = emf.read(data, WINDOWS / name)
    assert time.perf_counter() - started < 3.0
    canvas = emf.play_emf(data)
    assert canvas.text_records[84] == wide and canvas.text_records[83] == ansi
    assert canvas.glyph_records >= glyph
    page = doc.pages[0]
    gdi_text = canvas.text_records.total() - canvas.glyph_records - canvas.blank_text_records
    plus_text = len(canvas.extra_pieces) if not gdi_text or canvas.emf_plus_only else 0
    assert len(page.items) == gdi_text + plus_text
    assert len(canvas.extra_pieces) == draw_string + driver_string  # EMF+ strings read, GDI preferred
    if glyph or (not gdi_text and not plus_text):
        assert page.needs_ocr and doc.warnings
    if gdi_text and not glyph and not canvas.emf_plus_only:
        assert not page.needs_ocr
    assert page.width and page.height
    slack = 0.05 * max(page.width, page.height) + 5  # what the reader lets a drawing overhang its frame
    for item in page.items:
        x0, y0, x1, y1 = item.bbox
        assert -slack <= x0 <= x1 <= page.width + slack and -slack <= y0 <= y1 <= page.height + slack


def test_raster_only_emfs_in_external_docx_need_ocr() -> None:
    docx = require(SHARED / "corpus" / "external" / "docx" / "docling_test_emf_docx.docx")
    with zipfile.ZipFile(io.BytesIO(docx.read_bytes())) as zf:
        pictures = [zf.read(n) for n in zf.namelist() if n.endswith((".emf", ".wmf"))]
    assert pictures
    for data in pictures:
        reader = emf if data[40:44] == b" EMF" else wmf
        doc = reader.read(data, Path("picture"))
        assert doc.pages[0].needs_ocr and doc.tables == []


# ---------------------------------------------------------------------------------------------
# WMF


def wmf_record(function: int, *params: int, raw: bytes = b"") -> bytes:
    body = struct.pack(f"<{len(params)}h", *params) + raw
    body += b"\0" * (len(body) & 1)
    return struct.pack("<IH", 3 + len(body) // 2, function) + body


def build_wmf(
    *records: bytes, placeable: tuple[int, int, int, int, int] | None = (0, 0, 4000, 3000, 1440)
) -> bytes:
    body = b"".join(records) + wmf_record(0x0000)
    meta = struct.pack("<HHHIHIH", 1, 9, 0x0300, (18 + len(body)) // 2, 4, 16, 0)
    if placeable is None:
        return meta + body
    head = struct.pack("<IH4hHI", wmf.PLACEABLE_KEY, 0, *placeable, 0)
    checksum = 0
    for (word,) in struct.iter_unpack("<H", head):
        checksum ^= word
    return head + struct.pack("<H", checksum) + meta + body


def wmf_font(height: int, charset: int = 134) -> bytes:
    face = "宋体".encode("gbk").ljust(32, b"\0")
    raw = struct.pack("<5h8B", height, 0, 0, 0, 400, 0, 0, 0, charset, 0, 0, 0, 0) + face
    return wmf_record(0x02FB, raw=raw)


def wmf_text_out(x: int, y: int, raw: bytes) -> bytes:
    padded = raw + b"\0" * (len(raw) & 1)
    return wmf_record(0x0521, len(raw), raw=padded + struct.pack("<2h", y, x))


def wmf_ext_text_out(x: int, y: int, raw: bytes, dx: list[int]) -> bytes:
    padded = raw + b"\0" * (len(raw) & 1)
    return wmf_record(0x0A32, y, x, len(raw), 0, raw=padded + struct.pack(f"<{len(dx)}h", *dx))


def sample_wmf(placeable: tuple[int, int, int, int, int] | None = (0, 0, 4000, 3000, 1440)) -> bytes:
    """A 2x2 table in twips: MoveTo/LineTo and a Polyline for borders, TEXTOUT and EXTTEXTOUT (GBK)."""
    xs, ys = [200, 2000, 3800], [200, 1000, 1800]
    lines = [wmf_record(0x0325, 3, xs[0], ys[0], xs[2], ys[0], xs[2], ys[2])]  # top and right border
    lines += [b for y in ys[1:] for b in (wmf_record(0x0214, y, xs[0]), wmf_record(0x0213, y, xs[2]))]
    lines += [b for x in xs[:2] for b in (wmf_record(0x0214, ys[0], x), wmf_record(0x0213, ys[2], x))]
    return build_wmf(
        wmf_record(0x020B, 0, 0),  # SetWindowOrg (y, x)
        wmf_record(0x020C, 3000, 4000),  # SetWindowExt (y, x)
        wmf_record(0x02FA, 0, 15, 0, 0, 0),  # CreatePenIndirect: solid black -> slot 0
        wmf_record(0x012D, 0),
        *lines,
        wmf_font(-240),  # slot 1
        wmf_record(0x012D, 1),
        wmf_record(0x012E, TA_BASELINE),
        wmf_text_out(300, 700, "指标名称".encode("gbk")),
        wmf_ext_text_out(2100, 700, "完成值".encode("gbk"), [240, 0, 240, 0, 240, 0]),
        wmf_text_out(300, 1500, "得分".encode("gbk")),
        wmf_ext_text_out(2100, 1500, b"95", [120, 120]),
        placeable=placeable,
    )


def test_wmf_table_from_lines_and_text() -> None:
    doc = wmf.read(sample_wmf(), Path("sample.wmf"))
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.reader == "wmf"
    assert [c.text for c in table.cells] == ["指标名称", "完成值", "得分", "95"]
    assert table.cells[0].source.startswith("wmf:records ")
    # twips -> points: 1440 per inch; the placeable box starts at 0
    assert table.bbox == pytest.approx((10.0, 10.0, 190.0, 90.0), abs=0.05)
    page = doc.pages[0]
    assert (page.width, page.height) == pytest.approx((200.0, 150.0))
    assert not page.needs_ocr and len(page.items) == 4


def test_wmf_without_placeable_header_and_api() -> None:
    tables = wmf.tables_from_wmf(sample_wmf(placeable=None))
    assert len(tables) == 1 and tables[0].cells[3].text == "95"


def test_wmf_malformed_is_an_error() -> None:
    data = sample_wmf()
    with pytest.raises(ReaderError):
        wmf.read(data[:-10], Path("t.wmf"))
    zero = bytearray(data)
    struct.pack_into("<I", zero, 22 + 18, 0)
    with pytest.raises(UnsafeInputError):
        wmf.read(bytes(zero), Path("z.wmf"))
    lying = build_wmf(wmf_record(0x0325, 30000, 0, 0, 10, 10))
    with pytest.raises(UnsafeInputError):
        wmf.read(lying, Path("l.wmf"))
    with pytest.raises(ReaderError):
        wmf.read(b"\x05" * 40, Path("n.wmf"))


WMF_BASE = sample_wmf()


@settings(max_examples=100, deadline=2000)
@given(
    flips=st.lists(st.integers(min_value=0, max_value=len(WMF_BASE) * 8), max_size=8),
    cut=st.integers(0, len(WMF_BASE)),
)
def test_fuzzed_wmf_only_reader_errors(flips: list[int], cut: int) -> None:
    data = _flip(WMF_BASE, flips)
    with contextlib.suppress(ReaderError):
        doc = wmf.read(data[:cut] if cut > 30 else data, Path("f.wmf"))
        assert len(doc.pages) == 1
