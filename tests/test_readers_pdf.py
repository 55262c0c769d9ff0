"""Text-layer PDF reader: line joining, grids, cross-page merging, bad input, and the dev corpus."""

from __future__ import annotations

import io
import json
import random
import time
import zlib
from pathlib import Path

import pytest

from conftest import DEV, GOLD, SHARED, require
from zhibiao.errors import ReaderError
from zhibiao.model import Table
from zhibiao.readers import get_reader, pdf_text
from zhibiao.readers.pdf_text import (
    Glyph,
    TablePart,
    break_allowed,
    build_lines,
    build_paragraphs,
    fill_part_text,
    join_lines,
    leading_unit_width,
    merge_parts,
    page_parts,
    part_from_boxes,
    read,
    text_layer_problem,
)
from zhibiao.tables.html import table_from_html

GOV = SHARED / "corpus" / "external" / "gov_pdfs"

# ---------------------------------------------------------------------------------------------
# Helpers: synthetic glyphs and a minimal PDF writer (Helvetica text, stroked lines)


def glyphs(text: str, x0: float, top: float, size: float = 10.0, width: float | None = None) -> list[Glyph]:
    """Glyphs of ``text`` laid left to right, each ``width`` wide (default: the font size)."""
    width = size if width is None else width
    return [
        Glyph(ch, x0 + i * width, x0 + (i + 1) * width, top, top + size, size) for i, ch in enumerate(text)
    ]


def line(text: str, x0: float = 0.0, top: float = 0.0, size: float = 10.0):
    (only,) = build_lines(glyphs(text, x0, top, size))
    return only


IDENTITY_FONT = (
    b"<< /Type /Font /Subtype /Type0 /BaseFont /NoMap /Encoding /Identity-H /DescendantFonts "
    b"[<< /Type /Font /Subtype /CIDFontType2 /BaseFont /NoMap /DW 1000 "
    b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
    b"/FontDescriptor << /Type /FontDescriptor /FontName /NoMap /Flags 4 /FontBBox [0 -200 1000 800] "
    b"/ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >> >>] >>"
)
"""/F2: a CID font without a ToUnicode map, as glyph-index text layers have: text comes out as (cid:N)."""


def make_pdf(pages: list[str | bytes], width: int = 595, height: int = 842) -> bytes:
    """A valid PDF with one content stream per page and the Helvetica font as /F1 (bytes content:
    already Flate-compressed)."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        IDENTITY_FONT,
    ]
    kids = []
    for content in pages:
        stream = content if isinstance(content, bytes) else content.encode("latin-1")
        flate = b" /Filter /FlateDecode" if isinstance(content, bytes) else b""
        objects.append(b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(stream), flate, stream))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (width, height, len(objects))
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_op(x: float, top: float, text: str, size: int = 10, height: int = 842) -> str:
    """Draw text whose top is about ``top`` (top-left origin)."""
    return f"BT /F1 {size} Tf {x} {height - top - size} Td ({text}) Tj ET\n"


def grid_ops(xs: list[float], ys: list[float], height: int = 842) -> str:
    """Stroke a full grid: horizontal lines at ``ys`` and vertical lines at ``xs`` (top-left origin)."""
    ops = ["0.5 w"]
    ops += [f"{xs[0]} {height - y} m {xs[-1]} {height - y} l S" for y in ys]
    ops += [f"{x} {height - ys[0]} m {x} {height - ys[-1]} l S" for x in xs]
    return "\n".join(ops) + "\n"


def table_ops(xs: list[float], top: float, rows: list[tuple[str, ...]], row_h: float = 20) -> str:
    ys = [top + i * row_h for i in range(len(rows) + 1)]
    ops = grid_ops(xs, ys)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            ops += text_op(xs[c] + 4, ys[r] + 5, text)
    return ops


def cells_of(table: Table) -> dict[tuple[int, int], tuple[int, int, str]]:
    return {(c.row, c.col): (c.row_span, c.col_span, c.text) for c in table.cells}


# ---------------------------------------------------------------------------------------------
# Line breaking and joining


def test_break_rules_follow_the_line_breaking_of_cjk_layout() -> None:
    assert break_allowed("作", "（")  # before an opening bracket
    assert not break_allowed("（", "二")  # never after an opening bracket
    assert not break_allowed("工", "。")  # never before a closing mark
    assert not break_allowed("享", "”") and not break_allowed("“", "每")  # quotes glue both ways
    assert not break_allowed("1", "0")  # inside a number
    assert break_allowed("-", "a")
    assert not break_allowed("+", "律")  # numeric prefix stays with an ideograph
    assert not break_allowed("。", "2")  # "。2、" list numbers stay together
    assert break_allowed("字", "字")


def test_leading_unit_is_what_had_to_fit_on_the_line_before() -> None:
    assert leading_unit_width(line("（二）主动")) == 30
    assert leading_unit_width(line("合、“每周")) == 40
    assert leading_unit_width(line("12.5万元")) == 40  # a number is one unit; a break may follow it
    assert leading_unit_width(line("字")) == 10


def test_wrapped_cjk_lines_join_without_spaces_and_explicit_breaks_stay() -> None:
    full = line("一二三四五六七八九十", 0, 0)
    assert join_lines([full, line("十一", 0, 14)], (0, 100)) == "一二三四五六七八九十十一"
    short = line("一二三", 0, 0)
    assert join_lines([short, line("四五", 0, 14)], (0, 100)) == "一二三\n四五"
    # a line ending early because "（二）" could not be split still wrapped
    early = line("一二三四五六七八", 0, 0)
    assert join_lines([early, line("（二）", 0, 14)], (0, 100)) == "一二三四五六七八（二）"
    # first-line indent: the line reaches the right edge although it is narrower than the cell
    indented = line("一二三四五六", 40, 0)
    assert join_lines([indented, line("七八", 0, 14)], (0, 100)) == "一二三四五六七八"


def test_wrapped_latin_words_join_with_a_space() -> None:
    first = build_lines(glyphs("total of it", 0, 0, width=9))[0]
    assert join_lines([first, line("again", 0, 14)], (0, 100)) == "total of it again"


def test_autospace_between_ideographs_and_digits_counts_when_a_line_is_full() -> None:
    prev = line("一二三四五六七八", 0, 0)  # 80 wide; "5" needs 10 more of 91, plus the auto-space
    nxt = line("5万", 0, 14)
    assert join_lines([prev, nxt], (0, 91)) == "一二三四五六七八\n5万"
    assert join_lines([prev, nxt], (0, 91), autospace=1.8) == "一二三四五六七八5万"


# ---------------------------------------------------------------------------------------------
# Grids, cells and merging parts


def test_part_grid_gives_merged_cells_spans_and_fills_holes() -> None:
    boxes = [(0, 0, 100, 20), (100, 0, 200, 10), (100, 10, 150, 20)]  # (150..200, 10..20) is missing
    part = part_from_boxes(boxes, page=1)
    assert part is not None and (part.n_rows, part.n_cols) == (2, 3)
    spans = {(c.r0, c.c0): (c.r1 - c.r0, c.c1 - c.c0) for c in part.cells}
    assert spans == {(0, 0): (2, 1), (0, 1): (1, 2), (1, 1): (1, 1), (1, 2): (1, 1)}
    assert part_from_boxes([(0, 0, 100, 20)], page=1) is None  # a lone box is not a table


def build_part(
    page: int, xs: list[float], ys: list[float], merged: list[tuple[float, ...]], texts
) -> TablePart:
    """A part with full grid cells except ``merged`` boxes, and text placed at given points."""
    boxes = list(merged)
    for r in range(len(ys) - 1):
        for c in range(len(xs) - 1):
            cx, cy = (xs[c] + xs[c + 1]) / 2, (ys[r] + ys[r + 1]) / 2
            if not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in merged):
                boxes.append((xs[c], ys[r], xs[c + 1], ys[r + 1]))
    part = part_from_boxes(boxes, page)
    assert part is not None
    placed = [g for text, x0, top in texts for g in glyphs(text, x0, top)]
    fill_part_text(part, placed)
    part.open_above = part.open_below = True
    return part


def test_parts_on_consecutive_pages_merge_dropping_repeated_headers() -> None:
    xs = [0, 60, 200]
    first = build_part(
        1, xs, [700, 720, 740], [], [("名称", 2, 705), ("金额", 62, 705), ("甲", 2, 725), ("1", 62, 725)]
    )
    second = build_part(
        2, xs, [70, 90, 110], [], [("名称", 2, 75), ("金额", 62, 75), ("乙", 2, 95), ("2", 62, 95)]
    )
    (table,) = merge_parts([first, second])
    assert table.pages == [1, 2] and table.page == 1
    assert table.text_rows() == [["名称", "金额"], ["甲", "1"], ["乙", "2"]]
    assert [c.source for c in table.cells] == ["p1", "p1", "p1", "p1", "p2", "p2"]


def test_merged_cell_cut_by_a_page_break_is_joined_again() -> None:
    xs = [0, 40, 200]
    # page 1: a label column merged over two rows, its text running to the bottom ("项目基本" + "情况")
    first = build_part(
        1,
        xs,
        [700, 720, 744],
        [(0, 720, 40, 744)],
        [("标题", 2, 705), ("说明", 42, 705), ("项目基本", 0, 731), ("甲", 42, 725)],
    )
    # page 2: the rest of the label ("情况"), and an empty continuation of it in the next row
    second = build_part(
        2, xs, [70, 90, 110], [(0, 70, 40, 110)], [("情况", 2, 75), ("乙", 42, 75), ("丙", 42, 95)]
    )
    (table,) = merge_parts([first, second])
    assert cells_of(table)[(1, 0)] == (3, 1, "项目基本情况")
    assert table.n_rows == 4 and cells_of(table)[(2, 1)] == (1, 1, "乙")


def test_row_split_by_a_page_break_becomes_one_row() -> None:
    xs = [0, 40, 200]
    # the cut text is centred in its part of the row (not at the bottom): the row's other cells
    # being empty after the break is what shows the row was split
    first = build_part(1, xs, [700, 720, 744], [], [("名", 2, 705), ("值", 42, 705), ("一二三四", 0, 727)])
    second = build_part(2, xs, [70, 90, 110], [], [("五六", 2, 75), ("甲", 2, 95), ("1", 42, 95)])
    (table,) = merge_parts([first, second])
    assert table.text_rows() == [["名", "值"], ["一二三四五六", ""], ["甲", "1"]]


def test_parts_do_not_merge_when_text_separates_them() -> None:
    xs = [0, 60, 200]
    first = build_part(1, xs, [700, 720, 740], [], [("甲", 2, 705)])
    second = build_part(2, xs, [70, 90, 110], [], [("乙", 2, 75)])
    second.open_above = False  # a title stood above it
    assert len(merge_parts([first, second])) == 2


def test_page_parts_cut_a_merged_table_back_into_pages() -> None:
    xs = [0, 60, 200]
    first = build_part(
        1, xs, [700, 720, 740], [(0, 700, 60, 740)], [("合并", 2, 710), ("甲", 62, 705), ("乙", 62, 725)]
    )
    second = build_part(2, xs, [70, 90], [], [("丙", 62, 75)])
    (table,) = merge_parts([first, second])
    assert cells_of(table)[(0, 0)] == (3, 1, "合并")
    one, two = page_parts(table)
    assert (one.page, one.n_rows, two.page, two.n_rows) == (1, 2, 2, 1)
    assert cells_of(two) == {(0, 0): (1, 1, ""), (0, 1): (1, 1, "丙")}


# ---------------------------------------------------------------------------------------------
# Page text and unusable text layers


def test_paragraphs_join_wrapped_lines_and_split_at_indents_and_short_lines() -> None:
    page = [
        *glyphs("一二三四五六七八", 20, 100),  # indented first line, full to the right edge (100)
        *glyphs("九十一二三四五六七八", 0, 114),
        *glyphs("九十", 0, 128),  # short: the paragraph ends
        *glyphs("新段落一二三四五六", 20, 142),
        *glyphs("8", 50, 810),  # page number in the bottom margin
    ]
    paragraphs = build_paragraphs(build_lines(page), page_height=842)
    assert [p.text for p in paragraphs] == [
        "一二三四五六七八九十一二三四五六七八九十",
        "新段落一二三四五六",
        "8",
    ]
    assert [p.furniture for p in paragraphs] == [False, False, True]


def test_text_layer_problems_are_named() -> None:
    assert text_layer_problem([], [], 1000.0) == "no text layer (no characters)"
    cid = [Glyph("(cid:12)", 0, 1, 0, 1, 1)] * 8 + glyphs("ab", 0, 0)
    assert "unmapped" in (text_layer_problem(cid, [], 1000.0) or "")
    pua = glyphs("\ue001\ue002\ue003好", 0, 0)
    assert "unmapped" in (text_layer_problem(pua, [], 1000.0) or "")
    scan = text_layer_problem(glyphs("12", 0, 0), [{"width": 500, "height": 800}], 595.0 * 842)
    assert scan == "page is an image with almost no text layer"
    assert text_layer_problem(glyphs("正常的文字" * 5, 0, 0), [], 1000.0) is None


# ---------------------------------------------------------------------------------------------
# Whole synthetic PDFs


def two_page_table_pdf() -> bytes:
    xs = [100.0, 250.0, 400.0]
    page1 = text_op(215, 560, "Budget Table", size=12)
    page1 += table_ops(xs, 600, [("Name", "Value"), ("alpha", "1"), ("beta", "2")])
    page1 += text_op(295, 800, "1")
    page2 = table_ops(xs, 72, [("Name", "Value"), ("gamma", "3"), ("delta", "4")])
    page2 += text_op(100, 200, "End of report.")
    page2 += text_op(295, 800, "2")
    return make_pdf([page1, page2])


def test_table_continued_on_next_page_is_merged_in_a_real_pdf() -> None:
    doc = read(two_page_table_pdf(), Path("synthetic.pdf"))
    assert doc.source.pages == 2 and doc.source.format == "pdf" and len(doc.source.sha256) == 64
    (table,) = doc.tables
    assert table.reader == "pdf-text" and table.pages == [1, 2] and table.title == "Budget Table"
    assert table.text_rows() == [
        ["Name", "Value"],
        ["alpha", "1"],
        ["beta", "2"],
        ["gamma", "3"],
        ["delta", "4"],
    ]
    x0, top, x1, bottom = table.cells[0].bbox or (0, 0, 0, 0)
    assert (round(x0), round(top), round(x1), round(bottom)) == (
        100,
        600,
        250,
        620,
    )  # points, top-left origin
    texts = [(it.page, it.text, it.style) for it in doc.items()]
    assert texts == [
        (1, "Budget Table", None),
        (1, "1", "page-number"),
        (2, "End of report.", None),
        (2, "2", "page-number"),
    ]
    assert [x.order for x in doc.body()] == sorted(x.order for x in doc.body())
    assert doc.pages[0].rulings and not any(p.needs_ocr for p in doc.pages)


def test_registry_finds_the_reader() -> None:
    assert get_reader("pdf") is read


def test_page_without_text_needs_ocr_with_a_warning() -> None:
    doc = read(make_pdf([grid_ops([100, 200], [100, 200]), text_op(100, 100, "text")]), Path("x.pdf"))
    assert [p.needs_ocr for p in doc.pages] == [True, False]
    assert doc.warnings == ["page 1: no text layer (no characters); needs OCR"]


def test_page_pdfplumber_cannot_parse_is_kept_as_needing_ocr() -> None:
    data = two_page_table_pdf().replace(b"/MediaBox", b"/MediaBax", 1)  # same length: offsets stay valid
    doc = read(data, Path("damaged.pdf"))
    assert [p.needs_ocr for p in doc.pages] == [True, False]
    assert doc.warnings[0].startswith("page 1: content could not be parsed")
    assert doc.tables and doc.tables[0].pages == [2]


def test_broken_page_tree_keeps_the_pages_before_it() -> None:
    data = two_page_table_pdf()
    second = data.index(b"/MediaBox [0 0 595 842]", data.index(b"/MediaBox") + 1)
    damaged = data[:second] + b"/MediaBox [0 0 /XY 842]" + data[second + 23 :]
    doc = read(damaged, Path("damaged.pdf"))
    assert len(doc.pages) == doc.source.pages == 1 and doc.tables[0].pages == [1]
    assert doc.warnings[0].startswith("pages after 1 could not be read")
    with pytest.raises(ReaderError) as info:  # nothing readable at all
        read(data.replace(b"/MediaBox [0 0 595 842]", b"/MediaBox [0 0 /XY 842]"), Path("dead.pdf"))
    assert info.value.code == "corrupt"


def test_randomly_damaged_pdfs_read_or_raise_reader_errors() -> None:
    rng = random.Random(20240521)
    base = two_page_table_pdf()
    outcomes = set()
    for _ in range(40):
        data = bytearray(base)
        for _ in range(rng.randint(1, 12)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            read(bytes(data), Path("fuzz.pdf"))
            outcomes.add("read")
        except ReaderError as exc:
            outcomes.add(exc.code)
    assert "read" in outcomes and outcomes <= {"read", "corrupt", "encrypted"}


def test_compression_bomb_page_is_not_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_text, "MAX_CONTENT_BYTES", 1 << 20)
    bomb = zlib.compress(text_op(100, 100, "x").encode() + b" " * (2 << 20))
    ok = zlib.compress(text_op(100, 100, "fine").encode())
    doc = read(make_pdf([bomb, ok]), Path("bomb.pdf"))
    assert [p.needs_ocr for p in doc.pages] == [True, False]
    assert "larger than 1 MiB" in doc.warnings[0]
    assert [it.text for it in doc.items()] == ["fine"]


def test_page_with_a_huge_grid_is_not_searched_for_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_text, "MAX_GRID_SLOTS", 10)
    doc = read(two_page_table_pdf(), Path("grid.pdf"))
    assert doc.tables == [] and "too many ruling lines" in doc.warnings[0]
    assert "alpha" in [it.text for it in doc.items()][1]  # the cells' text is kept as page text


def test_glyph_index_text_layer_needs_ocr() -> None:
    unmapped = "BT /F2 12 Tf 100 700 Td <0041004200430044004500460047> Tj ET\n"
    doc = read(make_pdf([unmapped, text_op(100, 100, "fine")]), Path("cid.pdf"))
    assert [p.needs_ocr for p in doc.pages] == [True, False]
    assert doc.warnings == [
        "page 1: unusable text layer (unmapped glyphs: (cid:…) or private-use); needs OCR"
    ]
    assert [it.text for it in doc.items()] == ["fine"]


def test_max_pages_bounds_the_pages_read() -> None:
    data = make_pdf([text_op(100, 100, f"page {n}") for n in range(1, 13)])
    doc = read(data, Path("long.pdf"), max_pages=5)
    assert len(doc.pages) == 5 and doc.source.pages == 12
    assert any("only the first 5 pages" in w for w in doc.warnings)
    assert len(read(data, Path("long.pdf")).pages) == 12


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 20, "corrupt"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog", "corrupt"),
    ],
    ids=["empty", "garbage-after-header", "header-only"],
)
def test_unreadable_pdfs_raise_reader_errors(data: bytes, code: str) -> None:
    with pytest.raises(ReaderError) as info:
        read(data, Path("bad.pdf"))
    assert info.value.code == code


def test_truncated_pdf_is_corrupt() -> None:
    data = two_page_table_pdf()
    for cut in (len(data) // 2, len(data) - 60):
        with pytest.raises(ReaderError) as info:
            read(data[:cut], Path("cut.pdf"))
        assert info.value.code == "corrupt"


def test_encrypted_pdf_is_reported_as_encrypted() -> None:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(two_page_table_pdf()))
    writer.encrypt("secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ReaderError) as info:
        read(out.getvalue(), Path("locked.pdf"))
    assert info.value.code == "encrypted"


def test_pdf_with_only_an_owner_password_is_read() -> None:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(two_page_table_pdf()))
    writer.encrypt("", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    assert len(read(out.getvalue(), Path("owner.pdf")).tables) == 1


# ---------------------------------------------------------------------------------------------
# The dev corpus against its gold tables


def gold_tables(stem: str) -> list[tuple[dict, Table]]:
    folder = GOLD / "tables" / stem
    index = json.loads(require(folder / "index.json").read_text())
    return [(entry, table_from_html((folder / entry["html"]).read_text())) for entry in index["tables"]]


@pytest.fixture(scope="module")
def doc_003():
    return read(require(DEV / "003_4840a7d78a699b0b.pdf").read_bytes(), Path("003.pdf"))


@pytest.fixture(scope="module")
def doc_000():
    return read(require(DEV / "000_c9021f7b19f56ffc.pdf").read_bytes(), Path("000.pdf"))


def test_003_every_merged_table_equals_its_gold_table(doc_003) -> None:
    gold = gold_tables("003_4840a7d78a699b0b")
    assert doc_003.source.pages == 33 and len(doc_003.tables) == len(gold) == 8
    for table, (entry, expected) in zip(doc_003.tables, gold, strict=True):
        assert table.pages == entry["pages"]
        assert (table.n_rows, table.n_cols) == (expected.n_rows, expected.n_cols)
        assert cells_of(table) == cells_of(expected), f"table {entry['table']}"
    assert [t.title for t in doc_003.tables[:7]] == ["部门预算项目支出绩效自评表（2022年度）"] * 7


def test_003_per_page_parts_equal_the_gold_page_tables(doc_003) -> None:
    folder = GOLD / "tables" / "003_4840a7d78a699b0b"
    for table, (entry, _) in zip(doc_003.tables, gold_tables("003_4840a7d78a699b0b"), strict=True):
        parts = {p.page: p for p in page_parts(table)}
        for expected in entry["parts"]:
            gold = table_from_html((folder / (expected.get("html") or entry["html"])).read_text())
            assert cells_of(parts[expected["page"]]) == cells_of(gold), (
                f"table {entry['table']} p{expected['page']}"
            )


def test_000_merged_table_matches_gold_structure_and_text(doc_000) -> None:
    ((_, expected),) = gold_tables("000_c9021f7b19f56ffc")
    (table,) = doc_000.tables
    assert table.pages == [1, 2, 3] and table.title == "项目支出绩效自评表（2021年度）"
    assert (table.n_rows, table.n_cols) == (expected.n_rows, expected.n_cols) == (25, 9)
    mine, gold = cells_of(table), cells_of(expected)
    assert {k: v[:2] for k, v in mine.items()} == {k: v[:2] for k, v in gold.items()}  # every span
    same = sum(mine[k] == v for k, v in gold.items())
    # measured 93/95: "项目资金\n（万元）" and "绩效目标\n情况\n（概述）" end lines exactly full, so their
    # explicit breaks look like wraps in the PDF (the layout cannot tell them apart)
    assert same >= 93
    parts = {p.page: p for p in page_parts(table)}
    folder = GOLD / "tables" / "000_c9021f7b19f56ffc"
    for page in (2, 3):
        assert cells_of(parts[page]) == cells_of(
            table_from_html((folder / f"table1_page{page}.html").read_text())
        )


def test_001_narrative_has_no_tables_and_paragraph_text() -> None:
    doc = read(require(DEV / "001_def97523c2bc9572.pdf").read_bytes(), Path("001.pdf"))
    assert doc.tables == [] and doc.source.pages == 6 and not any(p.needs_ocr for p in doc.pages)
    body = [it for it in doc.items() if it.style is None]
    text = "\n".join(it.text for it in body)
    assert text.count("信访案件办结率100%") == 1
    assert "支出完成情况：年度支出预算数 91.91 万元，预算完成数 91.91 万元，执行率100%。" in text
    assert all(it.reader == "pdf-text" and it.bbox is not None for it in body)
    assert [it.text for it in doc.items() if it.style == "page-number"][:2] == ["— 1 —", "— 2 —"]


@pytest.mark.parametrize("stem", ["000_c9021f7b19f56ffc", "001_def97523c2bc9572", "003_4840a7d78a699b0b"])
def test_scanned_pdfs_come_back_as_pages_needing_ocr(stem: str) -> None:
    data = require(DEV / f"{stem}_scan.pdf").read_bytes()
    started = time.perf_counter()
    doc = read(data, Path(f"{stem}_scan.pdf"))
    assert time.perf_counter() - started < 5
    assert doc.pages and all(p.needs_ocr for p in doc.pages) and doc.tables == []
    assert doc.source.pages == len(doc.pages)
    assert doc.warnings == [f"pages 1-{len(doc.pages)}: no text layer (no characters); needs OCR"]


# ---------------------------------------------------------------------------------------------
# Real government PDFs (spot-checked against rendered pages)


def gov_pdf(prefix: str) -> Path:
    matches = sorted(require(GOV).glob(f"{prefix}*.pdf"))
    if not matches:
        pytest.skip(f"no {prefix}* PDF in {GOV}")
    return matches[0]


def test_jiangsu_npc_budget_table_spans_three_pages_with_a_split_row() -> None:
    path = gov_pdf("jiangsu_江苏省人大办公厅")
    doc = read(path.read_bytes(), path)
    table = doc.tables[0]
    assert table.pages == [7, 8, 9] and table.title == "收支预算总表"
    assert (table.n_rows, table.n_cols) == (26, 6)
    rows = table.text_rows()
    assert rows[0] == ["收入", "收入", "支出", "支出", "支出", "支出"]
    assert rows[3] == [
        "一、财政拨款",
        "13,649.07",
        "一、一般公共服务支出",
        "10,528.33",
        "一、基本支出",
        "7,666.68",
    ]
    # "八、社会保障和就" / "业支出" is one row cut by the break between pages 7 and 8
    assert ["", "", "八、社会保障和就业支出", "1,608.51", "", ""] in rows
    assert rows[-1] == ["收入合\n计", "13,649.07", "支出合计", "支出合计", "支出合计", "13,649.07"]
    # white background rectangles and content drawn outside the page do not make tables
    page11 = [t for t in doc.tables if t.page == 11]
    assert [(t.n_rows, t.n_cols, t.title) for t in page11] == [(20, 3, "财政拨款支出预算表")]


def test_putuo_finance_three_public_expenses_table_has_its_header_spans() -> None:
    path = gov_pdf("上海市普陀区财政局")
    doc = read(path.read_bytes(), path)
    (table,) = [t for t in doc.tables if t.page == 18]
    assert table.title == "财政拨款“三公”经费支出决算表" and (table.n_rows, table.n_cols) == (6, 12)
    cells = cells_of(table)
    assert cells[(0, 0)] == (1, 12, "财政拨款“三公”经费")
    assert cells[(1, 0)] == (2, 2, "合计")
    assert cells[(1, 4)] == (1, 6, "公务用车购置及运行费")
    assert cells[(1, 10)] == (3, 2, "公务接待费")
    assert cells[(2, 6)] == (2, 2, "公务用车购置费")
    assert table.text_rows()[5][0] == table.text_rows()[5][10] == "0.95"
    assert doc.pages[13].needs_ocr  # page 14 has a grid but no characters


@pytest.mark.slow
def test_all_government_pdfs_read_without_error() -> None:
    paths = sorted(require(GOV).glob("*.pdf"))
    assert paths
    for path in paths:
        doc = read(path.read_bytes(), path)
        assert doc.tables and doc.source.pages == len(doc.pages) >= 14, path.name
        for table in doc.tables:
            grid = table.grid()
            assert all(slot is not None for row in grid for slot in row), (path.name, table.index)
