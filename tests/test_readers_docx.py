"""DOCX reader: gold native tables, body order, spans of every kind, and hostile packages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixtures.office.builders import (
    cell,
    docx_bytes,
    para,
    replace_member,
    streamed_zeros_zip,
    table,
    with_entity_bomb,
    zip_bomb,
    zip_bytes,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEV, GOLD, SHARED, require
from zhibiao.errors import ReaderError, UnsafeInputError
from zhibiao.model import Document, Table
from zhibiao.readers.docx import MAX_DEPTH, read
from zhibiao.tables.html import table_from_html

EXTERNAL_DOCX = SHARED / "corpus" / "external" / "docx"
NATIVE = ["000_c9021f7b19f56ffc", "003_4840a7d78a699b0b"]


def read_body(body: str, **kwargs: object) -> Document:
    return read(docx_bytes(body, **kwargs), Path("test.docx"))


def spans(t: Table) -> set[tuple[int, int, int, int, str]]:
    return {(c.row, c.col, c.row_span, c.col_span, c.text) for c in t.cells}


# --------------------------------------------------------------------------- acceptance on the dev corpus


@pytest.mark.parametrize("stem", NATIVE)
def test_native_tables_equal_the_gold_tables(stem: str) -> None:
    path = require(DEV / f"{stem}.docx")
    doc = read(path.read_bytes(), path)
    folder = require(GOLD / "tables" / stem)
    assert len(doc.tables) == len(list(folder.glob("table*.html"))) - len(
        list(folder.glob("table*_page*.html"))
    )
    for k, ours in enumerate(doc.tables, start=1):
        gold = table_from_html((folder / f"table{k}.html").read_text("utf-8"))
        assert (ours.n_rows, ours.n_cols) == (gold.n_rows, gold.n_cols)
        assert spans(ours) == spans(gold), f"table {k}"
        assert ours.reader == "docx-table" and ours.index == k


def test_tables_sit_in_body_order_with_their_titles() -> None:
    path = require(DEV / "003_4840a7d78a699b0b.docx")
    doc = read(path.read_bytes(), path)
    body = list(doc.body())
    first = doc.tables[0]
    before = body[body.index(first) - 1]
    assert before.text == "部门预算项目支出绩效自评表（2022年度）"
    assert first.title == "部门预算项目支出绩效自评表（2022年度）"
    orders = [x.order for x in body]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


def test_narrative_paragraphs_of_001() -> None:
    path = require(DEV / "001_def97523c2bc9572.docx")
    doc = read(path.read_bytes(), path)
    text = doc.text()
    assert doc.tables == []
    assert "全年预算数 675.58 万元，执行数 674.99 万元" in text
    assert "信访案件办结率" in text
    seed = require(DEV / "001_def97523c2bc9572.txt").read_text("utf-8")
    assert sum(line.strip() in text for line in seed.splitlines() if line.strip()) > 20
    assert all(it.page == 1 and it.reader == "docx" for it in doc.items())


def test_real_external_docx_files() -> None:
    mineru = require(EXTERNAL_DOCX / "mineru_demo_docx_01_中文多表格.docx")
    doc = read(mineru.read_bytes(), mineru)
    nested = [t for t in doc.tables if t.title is None or "nested" in (t.title or "")]
    assert len(doc.tables) == 11  # 8 tables in the body + 3 nested in their cells
    assert nested
    form = next(t for t in doc.tables if any(c.text == "主申请人-基本情况" for c in t.cells))
    assert any(c.row_span > 1 for c in form.cells) and any(c.col_span > 1 for c in form.cells)
    assert form.title == "Complex table"
    assert doc.source.pages == 15
    covered = [slot for row in form.grid() for slot in row if slot is not None]
    assert len(covered) == sum(c.row_span * c.col_span for c in form.cells)  # no overlaps

    emf_docx = require(EXTERNAL_DOCX / "docling_test_emf_docx.docx")
    doc = read(emf_docx.read_bytes(), emf_docx)
    assert "Test with three images" in doc.text()
    assert any("image3.png" in w for w in doc.warnings)


# --------------------------------------------------------------------------- spans and structure


def test_grid_span_and_vertical_merges() -> None:
    rows = [
        cell("一级", '<w:vMerge w:val="restart"/>') + cell("标题", '<w:gridSpan w:val="2"/>'),
        cell("", "<w:vMerge/>") + cell("a") + cell("b"),
        cell("", '<w:vMerge w:val="continue"/>') + cell("c") + cell("d"),
    ]
    doc = read_body(table(rows, grid=3))
    (t,) = doc.tables
    assert spans(t) == {
        (0, 0, 3, 1, "一级"),
        (0, 1, 1, 2, "标题"),
        (1, 1, 1, 1, "a"),
        (1, 2, 1, 1, "b"),
        (2, 1, 1, 1, "c"),
        (2, 2, 1, 1, "d"),
    }


def test_vertical_merge_with_a_different_width_starts_a_new_cell() -> None:
    rows = [
        cell("宽", '<w:gridSpan w:val="2"/><w:vMerge w:val="restart"/>'),
        cell("窄", "<w:vMerge/>") + cell("右"),
    ]
    (t,) = read_body(table(rows, grid=2)).tables
    assert spans(t) == {(0, 0, 1, 2, "宽"), (1, 0, 1, 1, "窄"), (1, 1, 1, 1, "右")}


def test_grid_before_and_after_leave_slots_empty() -> None:
    rows = [cell("A") + cell("B") + cell("C"), cell("x")]
    props = ["", '<w:gridBefore w:val="1"/><w:gridAfter w:val="1"/>']
    (t,) = read_body(table(rows, grid=3, row_props=props)).tables
    assert (1, 1, 1, 1, "x") in spans(t) and t.n_cols == 3
    assert t.grid()[1][0] is None and t.grid()[1][2] is None


def test_nested_table_follows_its_parent_and_stays_in_the_cell() -> None:
    inner = table([cell("内1") + cell("内2")], grid=2)
    outer = table([cell("外") + f"<w:tc>{para('前言')}{inner}</w:tc>"], grid=2)
    doc = read_body(para("表一 嵌套") + outer + para("正文"))
    parent, child = doc.tables
    assert parent.order < child.order
    assert "内1\t内2" in next(c.text for c in parent.cells if c.col == 1)
    assert spans(child) == {(0, 0, 1, 1, "内1"), (0, 1, 1, 1, "内2")}
    assert child.title == "前言" and parent.title == "表一 嵌套"
    assert [it.text for it in doc.items()] == ["表一 嵌套", "正文"]


def test_content_controls_around_paragraphs_rows_and_cells() -> None:
    sdt_cell = f"<w:sdt><w:sdtPr/><w:sdtContent>{cell('控件单元格')}</w:sdtContent></w:sdt>"
    rows = f"<w:tr>{cell('甲')}{sdt_cell}</w:tr>"
    sdt_row = f"<w:sdt><w:sdtContent><w:tr>{cell('乙')}{cell('丙')}</w:tr></w:sdtContent></w:sdt>"
    tbl = f"<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>{rows}{sdt_row}</w:tbl>"
    body = f"<w:sdt><w:sdtContent>{para('控件里的段落')}</w:sdtContent></w:sdt>{tbl}"
    doc = read_body(body)
    assert [it.text for it in doc.items()] == ["控件里的段落"]
    (t,) = doc.tables
    assert t.text_rows() == [["甲", "控件单元格"], ["乙", "丙"]]


def test_header_rows_runs_breaks_and_revisions() -> None:
    runs = (
        '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr>'
        '<w:hyperlink r:id="rIdX"><w:r><w:t>链接</w:t></w:r></w:hyperlink>'
        "<w:smartTag><w:r><w:t>标签</w:t></w:r></w:smartTag>"
        "<w:ins><w:r><w:t>插入</w:t></w:r></w:ins>"
        "<w:del><w:r><w:delText>删除</w:delText></w:r></w:del>"
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>'
        "<w:r><w:br/><w:t>下一行</w:t><w:tab/><w:t>尾</w:t></w:r></w:p>"
    )
    header = table([cell("表头"), cell("数据")], grid=1, row_props=["<w:tblHeader/>", ""])
    doc = read_body(runs + header)
    (item,) = doc.items()
    assert item.text == "链接标签插入\n下一行\t尾" and item.style == "Heading1"
    assert doc.tables[0].text_rows() == [["表头"], ["数据"]]


def test_alternate_content_is_read_once() -> None:
    choice = '<mc:Choice Requires="wps"><w:r><w:t>选一</w:t></w:r></mc:Choice>'
    second = '<mc:Choice Requires="w14"><w:r><w:t>选二</w:t></w:r></mc:Choice>'
    fallback = "<mc:Fallback><w:r><w:t>后备</w:t></w:r></mc:Fallback>"
    doc = read_body(f"<w:p><mc:AlternateContent>{choice}{second}{fallback}</mc:AlternateContent></w:p>")
    assert [it.text for it in doc.items()] == ["选一"]


def test_multi_paragraph_cell_keeps_line_breaks() -> None:
    two = f"<w:tc>{para('项目资金')}{para('（万元）')}</w:tc>"
    (t,) = read_body(table([two], grid=1)).tables
    assert t.cells[0].text == "项目资金\n（万元）"


def test_page_count_only_when_statistics_were_computed() -> None:
    app = (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Pages>{pages}</Pages><Words>{words}</Words><Characters>{words}</Characters></Properties>"
    )
    real = read_body(para("x"), parts={"docProps/app.xml": app.format(pages=7, words=120)})
    template = read_body(para("x"), parts={"docProps/app.xml": app.format(pages=1, words=0)})
    assert real.source.pages == 7 and template.source.pages is None


def test_too_deep_nesting_is_refused() -> None:
    body = "x"
    for _ in range(MAX_DEPTH + 2):
        body = f"<w:tbl><w:tr><w:tc>{body if body != 'x' else para('x')}</w:tc></w:tr></w:tbl>"
    with pytest.raises(UnsafeInputError):
        read_body(body)


def test_deep_run_wrappers_do_not_exhaust_recursion() -> None:
    depth = 5000
    runs = "<w:hyperlink>" * depth + "<w:r><w:t>深</w:t></w:r>" + "</w:hyperlink>" * depth
    doc = read_body(f"<w:p>{runs}</w:p>")
    assert [it.text for it in doc.items()] == ["深"]


# --------------------------------------------------------------------------- bad input


def _small_docx() -> bytes:
    rows = [cell("一", '<w:vMerge w:val="restart"/>') + cell("二"), cell("", "<w:vMerge/>") + cell("三")]
    return docx_bytes(para("标题") + table(rows, grid=2) + para("结尾"))


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: b"", "empty"),
        (lambda: b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "unsupported"),
        (lambda: os.urandom(5000), "unsupported"),
        (lambda: b"PK\x03\x04" + os.urandom(3000), "corrupt"),
        (lambda: zip_bomb(), "unsafe"),
        (lambda: streamed_zeros_zip("word/document.xml", 50 << 20), "unsafe"),
        (lambda: zip_bytes({"word/styles.xml": "<x/>"}), "corrupt"),
        (lambda: replace_member(_small_docx(), "word/document.xml", with_entity_bomb), "unsafe"),
        (lambda: _small_docx()[: len(_small_docx()) // 2], "corrupt"),
    ],
    ids=["empty", "pdf", "random", "zip-junk", "bomb-header", "bomb-stream", "no-document", "laughs", "cut"],
)
def test_bad_docx_bytes_raise_reader_errors(make: object, code: str) -> None:
    with pytest.raises(ReaderError) as info:
        read(make(), Path("bad.docx"))
    assert info.value.code == code
    assert str(info.value)


def test_entity_bomb_after_the_probe_window_is_refused_by_defusedxml() -> None:
    data = replace_member(_small_docx(), "word/document.xml", lambda xml: with_entity_bomb(xml, padding=5000))
    with pytest.raises(UnsafeInputError):
        read(data, Path("late.docx"))


def test_truncated_real_docx() -> None:
    data = require(DEV / "003_4840a7d78a699b0b.docx").read_bytes()
    with pytest.raises(ReaderError) as info:
        read(data[: len(data) // 2], Path("cut.docx"))
    assert info.value.code == "corrupt"


def test_malformed_document_xml() -> None:
    data = replace_member(_small_docx(), "word/document.xml", lambda x: x[: len(x) // 2])
    with pytest.raises(ReaderError) as info:
        read(data, Path("half.docx"))
    assert info.value.code == "corrupt"


SEED_DOCX = _small_docx()


@settings(
    max_examples=120,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    st.lists(st.tuples(st.integers(0, len(SEED_DOCX) - 1), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(len(SEED_DOCX) // 2, len(SEED_DOCX)),
)
def test_fuzzed_docx_reads_or_raises_reader_error(mutations: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(SEED_DOCX)
    for position, value in mutations:
        data[position] = value
    try:
        doc = read(bytes(data[:cut]), Path("fuzz.docx"))
    except ReaderError as exc:
        assert exc.code
    else:
        assert isinstance(doc, Document)


# --------------------------------------------------------------------------- structure fuzz

NUMBERS = st.sampled_from([None, "0", "1", "2", "3", "x", "99999999999", "²"])
MERGES = st.sampled_from([None, "restart", "continue", ""])


def _cell_xml(props: tuple[str | None, str | None, str | None], content: str) -> str:
    span, v_merge, h_merge = props
    tcpr = ""
    if span is not None:
        tcpr += f'<w:gridSpan w:val="{span}"/>'
    for name, value in (("vMerge", v_merge), ("hMerge", h_merge)):
        if value is not None:
            tcpr += f'<w:{name} w:val="{value}"/>' if value else f"<w:{name}/>"
    return f"<w:tc><w:tcPr>{tcpr}</w:tcPr>{content}</w:tc>"


def _table_xml(rows: list[tuple[str | None, str | None, list[str]]]) -> str:
    trs = ""
    for before, after, cells in rows:
        props = "".join(
            f'<w:{name} w:val="{value}"/>'
            for name, value in (("gridBefore", before), ("gridAfter", after))
            if value
        )
        trs += f"<w:tr><w:trPr>{props}</w:trPr>{''.join(cells)}</w:tr>"
    return f"<w:tbl><w:tblGrid><w:gridCol/></w:tblGrid>{trs}</w:tbl>"


def _tables(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    cells = st.lists(st.builds(_cell_xml, st.tuples(NUMBERS, MERGES, MERGES), inner), max_size=4)
    rows = st.lists(st.tuples(NUMBERS, NUMBERS, cells), min_size=1, max_size=4)
    return rows.map(_table_xml)


BLOCKS = st.recursive(
    st.sampled_from(
        [
            para("字"),
            "<w:p/>",
            f"<w:sdt><w:sdtContent>{para('控')}</w:sdtContent></w:sdt>",
            "<w:p><w:r><w:t>甲</w:t><w:br/><w:t>乙</w:t></w:r></w:p>",
        ]
    ),
    _tables,
    max_leaves=10,
)


@settings(max_examples=150, deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(BLOCKS, min_size=1, max_size=3))
def test_any_table_structure_gives_a_consistent_grid(blocks: list[str]) -> None:
    doc = read_body("".join(blocks))
    for t in doc.tables:
        slots: set[tuple[int, int]] = set()
        for c in t.cells:
            assert c.row >= 0 and c.row + c.row_span <= t.n_rows
            assert c.col >= 0 and c.col + c.col_span <= t.n_cols
            covered = {(c.row + i, c.col + j) for i in range(c.row_span) for j in range(c.col_span)}
            assert not covered & slots, "cells overlap"
            slots |= covered
    assert [t.index for t in doc.tables] == list(range(1, len(doc.tables) + 1))
