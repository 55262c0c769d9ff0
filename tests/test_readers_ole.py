"""Embedded objects in DOCX: workbooks at their body position, EMF previews as fallback and cross-check."""

from __future__ import annotations

import struct
import sys
import types
from pathlib import Path

import pytest
from fixtures.office.builders import (
    cfb_bytes,
    docx_bytes,
    ole10_native,
    ole_object,
    para,
    picture,
    replace_member,
    xlsx_bytes,
)

from conftest import DEV, GOLD, SHARED, require
from zhibiao.errors import ReaderError
from zhibiao.model import Cell, Document, Table
from zhibiao.readers.docx import read
from zhibiao.readers.ole import emf_reader, ole10_native_payloads, workbook_payload
from zhibiao.readers.workbook import read_xlsx
from zhibiao.tables.html import table_from_html

OLE_DOCS = {"000_c9021f7b19f56ffc": 1, "003_4840a7d78a699b0b": 8}
EMBEDDED = "word/embeddings/Microsoft_Excel_Worksheet3.xlsx"
PREVIEW = "word/media/image1.emf"
FAKE_EMF = struct.pack("<II", 1, 88) + bytes(32) + b" EMF" + bytes(44)
"""Just enough of an EMF header for format detection; the fake EMF module below does the reading."""


def spans(t: Table) -> set[tuple[int, int, int, int, str]]:
    return {(c.row, c.col, c.row_span, c.col_span, c.text) for c in t.cells}


@pytest.fixture
def no_emf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the EMF reader is not installed (importing it raises ImportError)."""
    monkeypatch.setitem(sys.modules, "zhibiao.readers.emf", None)


def install_fake_emf(monkeypatch: pytest.MonkeyPatch, tables: list[Table] | Exception) -> list[bytes]:
    """A stand-in ``zhibiao.readers.emf`` returning these tables (or raising); records what it was given."""
    seen: list[bytes] = []

    def tables_from_emf(data: bytes) -> list[Table]:
        seen.append(data)
        if isinstance(tables, Exception):
            raise tables
        return [t.model_copy(deep=True) for t in tables]

    module = types.ModuleType("zhibiao.readers.emf")
    module.tables_from_emf = tables_from_emf  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "zhibiao.readers.emf", module)
    return seen


# --------------------------------------------------------------------------- built workbooks


def _build_sheet(wb: object) -> None:
    from openpyxl.styles import Border, Side

    thin = Side(style="thin")
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = "嵌入表标题"
    for r, row in enumerate([["指标", "值"], ["数量", 16]], start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws["B3"].number_format = "0.00"
    ws["F9"] = "显示范围以外"


def embedded_xlsx(ole_size: str | None = "A1:C4") -> bytes:
    data = xlsx_bytes(_build_sheet)
    if ole_size is None:
        return data
    tag = f'<oleSize ref="{ole_size}"/></workbook>'.encode()
    return replace_member(data, "xl/workbook.xml", lambda xml: xml.replace(b"</workbook>", tag))


def object_docx(
    payload: bytes, kind: str = "package", target: str = EMBEDDED, preview: bytes = FAKE_EMF
) -> bytes:
    rels = {"rId1": ("image", PREVIEW.removeprefix("word/")), "rId2": (kind, target.removeprefix("word/"))}
    body = para("前文") + ole_object("rId1", "rId2") + para("后文")
    return docx_bytes(body, rels=rels, parts={PREVIEW: preview, target: payload})


def read_docx(data: bytes) -> Document:
    return read(data, Path("objects.docx"))


# --------------------------------------------------------------------------- acceptance on the dev corpus


@pytest.mark.parametrize(("stem", "objects"), OLE_DOCS.items())
def test_ole_docx_tables_equal_gold_and_the_xlsx_rendition(stem: str, objects: int) -> None:
    path = require(DEV / f"{stem}_ole.docx")
    doc = read(path.read_bytes(), path)
    workbook = require(DEV / f"{stem}.xlsx")
    sheets = read_xlsx(workbook.read_bytes(), workbook).tables
    assert len(doc.tables) == objects == len(sheets)
    for k, (ours, sheet) in enumerate(zip(doc.tables, sheets, strict=True), start=1):
        gold = table_from_html((require(GOLD / "tables" / stem) / f"table{k}.html").read_text("utf-8"))
        assert spans(ours) == spans(gold), f"table {k}"
        assert ours.reader == "ole-xlsx"
        assert ours.source == f"word/embeddings/Microsoft_Excel_Worksheet{k - 1 or ''}.xlsx#{sheet.sheet}"
        assert [c.model_dump(exclude={"source"}) for c in ours.cells] == [
            c.model_dump(exclude={"source"}) for c in sheet.cells
        ]
        assert ours.title == sheet.title


def test_ole_tables_sit_where_the_objects_are() -> None:
    path = require(DEV / "003_4840a7d78a699b0b_ole.docx")
    doc = read(path.read_bytes(), path)
    body = list(doc.body())
    first = body.index(doc.tables[0])
    assert [x.text for x in body[first - 2 : first]] == [
        "报表编号：510000_0013zp",
        "部门预算项目支出绩效自评表（2022年度）",
    ]
    assert body[first + 1].text.startswith("项目负责人")
    assert all(x.reader in ("docx", "ole-xlsx") for x in doc.items())


def test_real_emf_previews_agree_with_the_workbooks() -> None:
    if emf_reader() is None:
        pytest.skip("zhibiao.readers.emf is not installed")
    path = require(DEV / "003_4840a7d78a699b0b_ole.docx")
    doc = read(path.read_bytes(), path)
    assert not [w for w in doc.warnings if "EMF preview" in w]


# --------------------------------------------------------------------------- embedded workbooks


def test_embedded_xlsx_limited_to_its_displayed_range(no_emf: None) -> None:
    doc = read_docx(object_docx(embedded_xlsx()))
    (table,) = doc.tables
    assert table.reader == "ole-xlsx" and table.source == f"{EMBEDDED}#Sheet1"
    assert table.text_rows() == [["指标", "值"], ["数量", "16.00"]]
    assert table.title == "嵌入表标题"
    assert next(c for c in table.cells if c.text == "16.00").source == "B3"
    assert "显示范围以外" not in doc.text()
    kinds = [(type(x).__name__, getattr(x, "text", None)) for x in doc.body()]
    assert kinds == [
        ("TextItem", "前文"),
        ("TextItem", "嵌入表标题"),
        ("Table", None),
        ("TextItem", "后文"),
    ]
    assert doc.warnings == []


def test_without_ole_size_the_whole_active_sheet_is_shown(no_emf: None) -> None:
    def build(wb: object) -> None:
        _build_sheet(wb)
        other = wb.create_sheet("第二页")
        other["A1"] = "不显示"

    doc = read_docx(object_docx(xlsx_bytes(build)))
    (table,) = doc.tables
    assert table.sheet == "Sheet1" and "不显示" not in doc.text()
    assert "显示范围以外" in doc.text()  # the unbordered line below the table, outside any range limit


def test_cfb_bin_with_a_package_stream(no_emf: None) -> None:
    payload = cfb_bytes({"Package": embedded_xlsx()})
    doc = read_docx(object_docx(payload, kind="oleObject", target="word/embeddings/oleObject1.bin"))
    (table,) = doc.tables
    assert table.reader == "ole-xlsx" and table.source == "word/embeddings/oleObject1.bin#Sheet1"


def test_cfb_bin_with_an_ole10native_stream(no_emf: None) -> None:
    stream = ole10_native(embedded_xlsx())
    assert embedded_xlsx() in ole10_native_payloads(stream)
    payload = cfb_bytes({"\x01Ole10Native": stream})
    doc = read_docx(object_docx(payload, kind="oleObject", target="word/embeddings/oleObject2.bin"))
    assert len(doc.tables) == 1 and doc.tables[0].text_rows()[1] == ["数量", "16.00"]


def test_legacy_xls_object(no_emf: None) -> None:
    (xls,) = require(SHARED / "corpus" / "external" / "gov_xls").glob("*.xls")
    assert workbook_payload(xls.read_bytes())[1] == "xls"
    doc = read_docx(object_docx(xls.read_bytes(), kind="oleObject", target="word/embeddings/oleObject1.bin"))
    (table,) = doc.tables
    assert table.reader == "ole-xls" and table.source.startswith("word/embeddings/oleObject1.bin#")


# --------------------------------------------------------------------------- EMF previews


def test_unreadable_workbook_falls_back_to_the_emf_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    preview_table = Table(n_rows=1, n_cols=1, cells=[Cell(row=0, col=0, text="预览")])
    seen = install_fake_emf(monkeypatch, [preview_table])
    doc = read_docx(object_docx(b"PK\x03\x04 damaged"))
    (table,) = doc.tables
    assert seen == [FAKE_EMF]
    assert table.reader == "emf" and table.source == PREVIEW and table.cells[0].text == "预览"
    assert any("unreadable" in w and PREVIEW in w for w in doc.warnings)


def test_emf_preview_disagreeing_with_the_workbook_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    other = Table(
        n_rows=1, n_cols=2, cells=[Cell(row=0, col=0, text="别的"), Cell(row=0, col=1, text="内容")]
    )
    install_fake_emf(monkeypatch, [other])
    doc = read_docx(object_docx(embedded_xlsx()))
    assert doc.tables[0].reader == "ole-xlsx"
    assert any("EMF preview" in w and "shows only" in w for w in doc.warnings)


def test_emf_preview_agreeing_with_the_workbook_is_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    (workbook_table,) = read_docx(object_docx(embedded_xlsx(), preview=b"\x89PNG\r\n\x1a\n")).tables
    install_fake_emf(monkeypatch, [workbook_table])
    doc = read_docx(object_docx(embedded_xlsx()))
    assert doc.warnings == []


@pytest.mark.parametrize("error", [ReaderError("bad records", "corrupt"), ZeroDivisionError("bad records")])
def test_emf_reader_failure_is_a_warning(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    install_fake_emf(monkeypatch, error)
    doc = read_docx(object_docx(b"garbage"))
    assert doc.tables == [] and any("bad records" in w for w in doc.warnings)
    doc = read_docx(object_docx(embedded_xlsx()))
    assert len(doc.tables) == 1 and any("bad records" in w for w in doc.warnings)


def test_pictures_read_through_the_emf_module_or_flagged_for_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    rels = {"rId5": ("image", "media/image5.emf"), "rId6": ("image", "media/photo.png")}
    parts = {"word/media/image5.emf": FAKE_EMF, "word/media/photo.png": b"\x89PNG\r\n\x1a\n" + bytes(50)}
    data = docx_bytes(para("图") + picture("rId5") + picture("rId6"), rels=rels, parts=parts)
    install_fake_emf(monkeypatch, [Table(n_rows=1, n_cols=1, cells=[Cell(row=0, col=0, text="图表")])])
    doc = read_docx(data)
    assert [t.reader for t in doc.tables] == ["emf"] and doc.tables[0].source == "word/media/image5.emf"
    assert doc.warnings == ["picture word/media/photo.png not read (needs OCR)"]

    monkeypatch.setitem(sys.modules, "zhibiao.readers.emf", None)
    doc = read_docx(data)
    assert doc.tables == [] and len(doc.warnings) == 2
    assert all("needs OCR" in w for w in doc.warnings)


# --------------------------------------------------------------------------- objects that give no table


def test_encrypted_embedded_workbook_is_a_warning(no_emf: None) -> None:
    payload = cfb_bytes({"EncryptionInfo": bytes(4096), "EncryptedPackage": bytes(4096)})
    doc = read_docx(object_docx(payload, kind="oleObject", target="word/embeddings/oleObject1.bin"))
    assert doc.tables == [] and any("password" in w for w in doc.warnings)


def test_missing_and_foreign_objects_are_warnings(no_emf: None) -> None:
    missing = docx_bytes(ole_object(None, "rId2"), rels={"rId2": ("package", "embeddings/gone.xlsx")})
    doc = read_docx(missing)
    assert doc.tables == [] and any("missing" in w for w in doc.warnings)

    word = docx_bytes(para("嵌入的文档"))
    doc = read_docx(object_docx(word, target="word/embeddings/Microsoft_Word_Document.docx"))
    assert doc.tables == [] and any("holds no workbook" in w for w in doc.warnings)

    linked = docx_bytes(
        ole_object(None, "rId3"),
        rels={"rId3": ("oleObject", "file:///C:/book.xlsx")},
        external=frozenset({"rId3"}),
    )
    doc = read_docx(linked)
    assert doc.tables == [] and any("linked object" in w for w in doc.warnings)


def test_damaged_cfb_object_is_a_warning_not_a_crash(no_emf: None) -> None:
    payload = cfb_bytes({"Package": embedded_xlsx()})
    damaged = payload[:1024] + b"\xff" * 512 + payload[1536:]  # the directory sector
    doc = read_docx(object_docx(damaged, kind="oleObject", target="word/embeddings/oleObject1.bin"))
    assert isinstance(doc, Document) and doc.tables == [] and doc.warnings
