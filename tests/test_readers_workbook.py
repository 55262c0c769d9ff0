"""Workbook reader: gold tables from the dev XLSX, numbers as printed, safe on hostile packages."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest
from fixtures.office.builders import (
    cfb_bytes,
    replace_member,
    streamed_zeros_zip,
    with_entity_bomb,
    xlsx_bytes,
    zip_bomb,
    zip_bytes,
)

from conftest import DEV, GOLD, SHARED, require
from zhibiao.errors import ReaderError, UnsafeInputError
from zhibiao.model import Table
from zhibiao.readers.workbook import (
    format_value,
    parse_range,
    pick_title,
    read_xls,
    read_xlsx,
    tables_from_workbook_bytes,
)
from zhibiao.tables.html import table_from_html

GOV_XLS = SHARED / "corpus" / "external" / "gov_xls"
DEV_WORKBOOKS = ["000_c9021f7b19f56ffc", "003_4840a7d78a699b0b"]


def cell_set(table: Table) -> set[tuple[int, int, int, int, str]]:
    return {(c.row, c.col, c.row_span, c.col_span, c.text) for c in table.cells}


def gold_tables(stem: str) -> list[Table]:
    folder = require(GOLD / "tables" / stem)
    count = len(list(folder.glob("table[0-9].html"))) + len(list(folder.glob("table[0-9][0-9].html")))
    return [table_from_html((folder / f"table{k}.html").read_text("utf-8")) for k in range(1, count + 1)]


# --------------------------------------------------------------------------- acceptance on the dev corpus


@pytest.mark.parametrize("stem", DEV_WORKBOOKS)
def test_every_sheet_is_exactly_the_gold_table(stem: str) -> None:
    path = require(DEV / f"{stem}.xlsx")
    doc = read_xlsx(path.read_bytes(), path)
    gold = gold_tables(stem)
    assert len(doc.tables) == len(gold)
    for ours, expected in zip(doc.tables, gold, strict=True):
        assert (ours.n_rows, ours.n_cols) == (expected.n_rows, expected.n_cols), ours.sheet
        assert cell_set(ours) == cell_set(expected), ours.sheet
        assert ours.reader == "xlsx" and ours.source == ours.sheet


def test_dev_workbook_titles_numbers_and_lines() -> None:
    path = require(DEV / "000_c9021f7b19f56ffc.xlsx")
    doc = read_xlsx(path.read_bytes(), path)
    table = doc.tables[0]
    assert table.title == "项目支出绩效自评表（2021年度）"
    by_text = {c.text: c for c in table.cells}
    assert by_text["99.96%"].number == pytest.approx(99.96)
    assert by_text["130.76"].number == pytest.approx(130.76)
    assert by_text["130.76"].source is not None and by_text["130.76"].source[0].isalpha()
    texts = [item.text for item in doc.items()]
    assert "单位：万元" in texts and "注：" in texts
    assert [x.order for x in doc.body()] == sorted(x.order for x in doc.body())


# --------------------------------------------------------------------------- numbers as printed


@pytest.mark.parametrize(
    ("value", "fmt", "text", "number"),
    [
        (16, "0.00", "16.00", 16.0),
        (1, "0.00%", "100.00%", 100.0),
        (0.9996, "0.00%", "99.96%", 99.96),
        (0.5, "0%", "50%", 50.0),
        (100, "General", "100", 100.0),
        (100.0, None, "100", 100.0),
        (0.1 + 0.2, "General", "0.3", 0.1 + 0.2),
        (3.14159, "General", "3.14159", 3.14159),
        (1234.5, "#,##0.00", "1,234.50", 1234.5),
        (2.5, "0", "3", 2.5),
        (-5, "0.0;(0.0)", "(5.0)", -5.0),
        (-5, "0.0", "-5.0", -5.0),
        (-0.001, "0.00", "0.00", -0.001),
        (0, '0.00;-0.00;"-"', "-", 0.0),
        (12, '0"元"', "12元", 12.0),
        (1234, "[$¥-804]#,##0", "¥1,234", 1234.0),
        (0.25, "#.00", ".25", 0.25),
        (42, "@", "42", 42.0),
        (12345678, "0.00E+00", "1.23E+07", 12345678.0),
    ],
)
def test_numbers_render_as_printed(value: float, fmt: str | None, text: str, number: float) -> None:
    assert format_value(value, fmt) == (text, pytest.approx(number))


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        (dt.datetime(2022, 3, 5), "yyyy-mm-dd", "2022-03-05"),
        (dt.datetime(2022, 3, 5), 'yyyy"年"m"月"d"日"', "2022年3月5日"),
        (dt.datetime(2022, 3, 5), "mm-dd-yy", "2022-03-05"),
        (dt.datetime(2022, 3, 5, 9, 5), "yyyy/m/d h:mm", "2022/3/5 9:05"),
        (dt.time(14, 30), "h:mm AM/PM", "2:30 PM"),
        (True, "General", "TRUE"),
        ("  两行\r\n文本 ", "@", "两行\n文本"),
    ],
)
def test_dates_booleans_and_text(value: object, fmt: str, text: str) -> None:
    assert format_value(value, fmt) == (text, None)


def test_pick_title_skips_labels_and_joins_the_year_line() -> None:
    lines = ["项目支出绩效自评表", "（2021年度）", "单位：万元"]
    assert pick_title(lines) == "项目支出绩效自评表（2021年度）"
    assert pick_title(["报表编号：510000_0013zp", "部门预算项目支出绩效自评表（2022年度）"]) == (
        "部门预算项目支出绩效自评表（2022年度）"
    )
    assert pick_title(["单位：万元"]) is None
    assert pick_title([]) is None


def test_parse_range_reads_print_areas() -> None:
    assert parse_range("'项目支出绩效自评表'!$A$1:$I$29") == (0, 0, 28, 8)
    assert parse_range("B2") == (1, 1, 1, 1)
    assert parse_range("#REF!") is None


# --------------------------------------------------------------------------- built workbooks


def _form(ws: object, *, note: bool = True) -> None:
    """A small bordered form with a title line above and a note below, as the dev corpus writes."""
    from openpyxl.styles import Border, Side

    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws["A1"] = "项目支出绩效自评表"
    ws.merge_cells("A1:D1")
    ws["A2"] = "单位：万元"
    rows = [["指标", "指标值", "完成值", "得分"], ["数量指标", 16, 1, 0.9996], ["", None, None, None]]
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=value if value != "" else None)
            cell.border = box
    ws["B4"].number_format = "0.00"
    ws["C4"].number_format = "0.00%"
    ws["D4"].number_format = "0.0%"
    ws["A4"] = "数量指标"
    ws.merge_cells("A4:A5")
    if note:
        ws["A7"] = "注：本表由系统导出"


def test_built_form_table_title_lines_and_spans() -> None:
    data = xlsx_bytes(lambda wb: _form(wb.active))
    doc = read_xlsx(data, Path("form.xlsx"))
    (table,) = doc.tables
    assert (table.n_rows, table.n_cols) == (3, 4)
    assert table.title == "项目支出绩效自评表"
    merged = next(c for c in table.cells if c.text == "数量指标")
    assert (merged.row, merged.col, merged.row_span, merged.col_span) == (1, 0, 2, 1)
    assert merged.source == "A4"
    printed = {c.text: c.number for c in table.cells if c.number is not None}
    assert printed == {"16.00": 16.0, "100.00%": 100.0, "100.0%": pytest.approx(99.96)}
    assert [it.text for it in doc.items()] == ["项目支出绩效自评表", "单位：万元", "注：本表由系统导出"]
    # the interior empty row under the merge is kept: every grid slot is covered once
    grid = table.grid()
    assert all(slot is not None for row in grid for slot in row)


def test_print_area_limits_the_table() -> None:
    def build(wb: object) -> None:
        ws = wb.active
        _form(ws, note=False)
        ws["H20"] = "打印区域以外"
        ws.print_area = "A1:D5"

    (table,) = tables_from_workbook_bytes(xlsx_bytes(build), "xlsx", "xlsx")
    assert table.n_cols == 4 and "打印区域以外" not in {c.text for c in table.cells}


def test_sheet_without_borders_is_one_table_and_empty_sheets_are_skipped() -> None:
    def build(wb: object) -> None:
        wb.active.append(["a", "b"])
        wb.active.append([1, 2])
        wb.create_sheet("空")

    tables = tables_from_workbook_bytes(xlsx_bytes(build), "xlsx", "t")
    assert len(tables) == 1 and tables[0].text_rows() == [["a", "b"], ["1", "2"]]
    assert tables[0].reader == "t"


def test_lying_dimension_costs_nothing() -> None:
    def build(wb: object) -> None:
        wb.active.append(["x", 1])

    data = replace_member(
        xlsx_bytes(build),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<dimension ref="A1:B1"/>', b'<dimension ref="A1:XFD1048576"/>'),
    )
    assert b"XFD1048576" in zip_bytes_member(data, "xl/worksheets/sheet1.xml")
    start = time.perf_counter()
    (table,) = tables_from_workbook_bytes(data, "xlsx", "xlsx")
    assert time.perf_counter() - start < 2
    assert (table.n_rows, table.n_cols) == (1, 2)


def test_far_apart_cells_are_skipped_with_a_warning_not_a_hang() -> None:
    def build(wb: object) -> None:
        wb.active["A1"] = "左上"
        wb.active["XFD1048576"] = "右下"

    start = time.perf_counter()
    doc = read_xlsx(xlsx_bytes(build), Path("sparse.xlsx"))
    assert time.perf_counter() - start < 2
    assert doc.tables == [] and any("too" in w or "beyond" in w for w in doc.warnings)


def test_overlapping_merged_ranges_first_one_wins() -> None:
    def build(wb: object) -> None:
        ws = wb.active
        for row in ws.iter_rows(min_row=1, max_row=4, max_col=4):
            for c in row:
                c.value = c.coordinate

    refs = b"".join(b'<mergeCell ref="%s"/>' % ref for ref in (b"B2:C3", b"A1:D4", b"C3:D4"))
    merges = b"<mergeCells>" + refs + b"</mergeCells>"
    data = replace_member(
        xlsx_bytes(build),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</sheetData>", b"</sheetData>" + merges),
    )
    (table,) = tables_from_workbook_bytes(data, "xlsx", "xlsx")
    merged = [c for c in table.cells if c.row_span > 1]
    assert [(c.text, c.row, c.col, c.row_span, c.col_span) for c in merged] == [("B2", 1, 1, 2, 2)]
    assert len(table.cells) == 16 - 3


def zip_bytes_member(data: bytes, name: str) -> bytes:
    import io
    import zipfile

    return zipfile.ZipFile(io.BytesIO(data)).read(name)


def test_openpyxl_parses_with_defusedxml() -> None:
    import openpyxl
    from openpyxl.xml import functions

    assert openpyxl.DEFUSEDXML is True
    assert functions.iterparse.__module__.startswith("defusedxml")


def test_entity_bomb_late_in_a_sheet_is_refused_by_openpyxls_defused_parser() -> None:
    """A DTD after 5 KB of comment passes the cheap probe; openpyxl's defused iterparse must stop it."""
    data = xlsx_bytes(lambda wb: wb.active.append(["字符串"]))
    hostile = replace_member(
        data, "xl/worksheets/sheet1.xml", lambda xml: with_entity_bomb(xml, padding=5000)
    )
    with pytest.raises(UnsafeInputError):
        read_xlsx(hostile, Path("bomb.xlsx"))


def test_entity_bomb_in_a_sheet_is_refused() -> None:
    data = xlsx_bytes(lambda wb: wb.active.append(["x"]))
    hostile = replace_member(data, "xl/worksheets/sheet1.xml", with_entity_bomb)
    with pytest.raises(UnsafeInputError):
        read_xlsx(hostile, Path("bomb.xlsx"))


# --------------------------------------------------------------------------- real files


def test_government_xlsx_files_read() -> None:
    folder = require(GOV_XLS)
    for path in sorted(folder.glob("*.xlsx")):
        doc = read_xlsx(path.read_bytes(), path)
        assert doc.tables, path.name
        assert all(t.n_rows > 0 and t.n_cols > 0 for t in doc.tables)


def test_government_xls_template_reads_with_merges() -> None:
    folder = require(GOV_XLS)
    (path,) = folder.glob("*.xls")
    doc = read_xls(path.read_bytes(), path)
    assert len(doc.tables) == 16
    assert {t.reader for t in doc.tables} == {"xls"}
    assert any(c.col_span > 1 or c.row_span > 1 for t in doc.tables for c in t.cells)
    titled = [t.title for t in doc.tables if t.title]
    assert any("预算" in title for title in titled)


# --------------------------------------------------------------------------- bad input


def _real_xlsx() -> bytes:
    return require(DEV / "000_c9021f7b19f56ffc.xlsx").read_bytes()


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: b"", "empty"),
        (lambda: b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF", "unsupported"),
        (lambda: os.urandom(4096), "unsupported"),
        (lambda: b"PK\x03\x04" + os.urandom(2000), "corrupt"),
        (lambda: zip_bomb(), "unsafe"),
        (lambda: streamed_zeros_zip("xl/worksheets/sheet1.xml", 50 << 20), "unsafe"),
        (lambda: zip_bytes({"hello.txt": "not a workbook"}), "corrupt"),
        (lambda: cfb_bytes({"EncryptionInfo": b"\x04" * 4096, "EncryptedPackage": bytes(4096)}), "encrypted"),
        (lambda: cfb_bytes({"Something": b"\x00" * 4096}), "unsupported"),
    ],
)
def test_bad_xlsx_bytes_raise_reader_errors(make: object, code: str) -> None:
    with pytest.raises(ReaderError) as info:
        read_xlsx(make(), Path("bad.xlsx"))
    assert info.value.code == code
    assert str(info.value)


def test_truncated_real_xlsx_is_a_reader_error() -> None:
    data = _real_xlsx()
    with pytest.raises(ReaderError) as info:
        read_xlsx(data[: len(data) // 2], Path("cut.xlsx"))
    assert info.value.code == "corrupt"


def test_damaged_member_is_a_reader_error_not_a_crash() -> None:
    data = replace_member(_real_xlsx(), "xl/styles.xml", lambda xml: xml[: len(xml) // 2])
    with pytest.raises(ReaderError):
        read_xlsx(data, Path("styles.xlsx"))


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: b"", "empty"),
        (lambda: os.urandom(3000), "unsupported"),
        (lambda: cfb_bytes({"Workbook": os.urandom(5000)}), "corrupt"),
    ],
)
def test_bad_xls_bytes_raise_reader_errors(make: object, code: str) -> None:
    with pytest.raises(ReaderError) as info:
        read_xls(make(), Path("bad.xls"))
    assert info.value.code == code


def test_truncated_real_xls_is_a_reader_error() -> None:
    (path,) = require(GOV_XLS).glob("*.xls")
    data = path.read_bytes()
    with pytest.raises(ReaderError):
        read_xls(data[: len(data) // 2], path)
