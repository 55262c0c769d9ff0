"""Page OCR end to end: image reader, tables from scans, orientation, merging, real table pictures."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import DEV, SHARED, require
from zhibiao.errors import ReaderError
from zhibiao.eval.cells import score_cells
from zhibiao.eval.teds import teds
from zhibiao.model import Document, Page, SourceInfo
from zhibiao.ocr.pages import ocr_document
from zhibiao.readers.image import read as read_image
from zhibiao.tables.html import table_from_html

DOC3 = "003_4840a7d78a699b0b"
TABLE_IMAGES = SHARED / "corpus" / "external" / "table_images"


def scan_page(doc: str, page: int) -> np.ndarray:
    return np.asarray(Image.open(require(DEV / f"{doc}_scan" / f"page{page}.png")).convert("L"))


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def read_and_ocr(data: bytes, name: str = "page.png") -> Document:
    doc = read_image(data, Path(name))
    ocr_document(doc, data)
    return doc


def budget_block() -> np.ndarray:
    """Title and the first table rows of a scanned self-evaluation form (page 20 of seed 003)."""
    return np.ascontiguousarray(scan_page(DOC3, 20)[400:720, 150:2180])


def test_image_reader_pages_and_errors() -> None:
    frames = [Image.fromarray(np.full((30, 40), 255, np.uint8)) for _ in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    doc = read_image(buf.getvalue(), Path("scan.tif"))
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert all(p.needs_ocr and p.width == 40 and p.height == 30 for p in doc.pages)
    assert doc.source.format == "tiff" and doc.source.pages == 3
    with pytest.raises(ReaderError):
        read_image(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, Path("broken.png"))


def test_blank_page_yields_nothing_and_no_error() -> None:
    doc = read_and_ocr(png(np.full((400, 300), 250, np.uint8)))
    assert doc.tables == [] and doc.pages[0].items == [] and doc.warnings == []
    assert "ocr.recognize" in doc.timings or "ocr.detect" in doc.timings


def test_scanned_form_block_becomes_a_table_with_cells_and_provenance() -> None:
    doc = read_and_ocr(png(budget_block()))
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.reader == "ocr" and table.page == 1 and table.pages == [1] and table.index == 1
    texts = {c.text for c in table.cells}
    assert {"项目名称", "主管部门", "自贡市妇女联合会部门", "项目年度目标", "年度目标完成情况"} <= texts
    assert "51030022Y000000325498-市妇联幸福家庭再提升行动" in texts
    name = next(c for c in table.cells if c.text == "项目名称")
    value = next(c for c in table.cells if c.text.startswith("51030022Y"))
    assert name.row == value.row and value.col > name.col and value.col_span > 1
    assert name.bbox is not None and name.source and name.source.startswith("ocr:")
    assert 0.5 < name.confidence <= 1.0
    # the page's title is a text item above the table, in pixels (an image file)
    page = doc.pages[0]
    title = next(it for it in page.items if "自评表" in it.text)
    assert title.reader == "ocr-rapidocr" and title.bbox is not None and title.bbox[3] <= table.bbox[1]
    assert title.order < table.order
    assert page.rulings and page.width == budget_block().shape[1]


def test_upside_down_and_sideways_pages_are_turned() -> None:
    block = budget_block()[:, :1400]
    for turns in (1, 2):
        doc = read_and_ocr(png(np.ascontiguousarray(np.rot90(block, turns))))
        texts = {c.text for t in doc.tables for c in t.cells}
        assert "项目名称" in texts, turns


def gold_part(doc: str, page: int) -> tuple[dict, str]:
    index = json.loads(require(DEV / "gold" / "tables" / doc / "index.json").read_text(encoding="utf-8"))
    for table in index["tables"]:
        for part in table["parts"]:
            if part["page"] == page:
                return part, (DEV / "gold" / "tables" / doc / part["html"]).read_text(encoding="utf-8")
    raise AssertionError("no gold part")


@pytest.mark.slow
def test_scanned_page_cells_match_the_gold() -> None:
    doc = read_and_ocr(png(scan_page(DOC3, 30)))
    _part, html = gold_part(DOC3, 30)
    gold = table_from_html(html)
    score = score_cells(doc.tables[0], gold)
    assert score.text_accuracy >= 0.95
    operators = [c.text for c in doc.tables[0].cells if c.text in ("≥", "≤", "=", "＝", "定性")]
    assert len(operators) >= 4


@pytest.mark.slow
def test_scanned_pdf_table_is_merged_across_its_three_pages() -> None:
    from zhibiao.readers.pdf_text import read as read_pdf

    path = require(DEV / "000_c9021f7b19f56ffc_scan.pdf")
    data = path.read_bytes()
    doc = read_pdf(data, path)
    assert all(p.needs_ocr for p in doc.pages)
    ocr_document(doc, data)
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.pages == [1, 2, 3]
    gold = table_from_html(
        (DEV / "gold" / "tables" / "000_c9021f7b19f56ffc" / "table1.html").read_text(encoding="utf-8")
    )
    assert score_cells(table, gold).text_accuracy >= 0.97
    assert teds(table, gold) >= 0.95
    # geometry in PDF points: inside the A4 page
    assert all(c.bbox and 0 <= c.bbox[0] < c.bbox[2] <= 596 for c in table.cells)
    numbers = [it for p in doc.pages for it in p.items if it.style == "page-number"]
    assert len(numbers) == 3


def test_document_without_pages_needing_ocr_is_left_alone() -> None:
    doc = Document(source=SourceInfo(path="x.pdf", format="pdf"), pages=[Page(number=1)])
    ocr_document(doc, b"")
    assert doc.tables == [] and doc.timings == {}


# Real table pictures (RapidAI test files): they must go through, and what was checked by eye stays true.


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", sorted(p.name for p in TABLE_IMAGES.glob("*")) if TABLE_IMAGES.exists() else []
)
def test_real_table_images_go_through(name: str) -> None:
    data = (TABLE_IMAGES / name).read_bytes()
    doc = read_and_ocr(data, name)
    assert doc.warnings == []
    for table in doc.tables:
        assert table.n_rows >= 2 and table.n_cols >= 2
        assert all(c.bbox is not None for c in table.cells)


def table_texts(name: str) -> list[list[str]]:
    data = require(TABLE_IMAGES / name).read_bytes()
    doc = read_and_ocr(data, name)
    assert len(doc.tables) == 1
    return doc.tables[0].text_rows()


def test_empty_grid_picture_with_heavy_gray_lines() -> None:
    rows = table_texts("rapidtable_table_without_txt.jpg")
    assert len(rows) == 4 and all(len(r) == 4 and not any(r) for r in rows)


@pytest.mark.slow
def test_resume_form_picture() -> None:
    rows = table_texts("wired__table4.jpg")
    flat = {t for row in rows for t in row}
    assert {"姓名", "求职意向", "园林设计师", "wenyaword@qq.com", "环境与艺术设计"} <= flat
    phone = next(r for r in rows if r[0] == "联系电话")
    assert "E-mail" in phone and "wenyaword@qq.com" in phone


@pytest.mark.slow
def test_squad_table_picture_keeps_numerals() -> None:
    rows = table_texts("table_cls__wired_table.png")
    column = [r[1] for r in rows[1:5]]
    assert column == ["一", "二", "一", "二"]
    assert rows[0][0] == rows[0][1]  # 方案 spans two columns


@pytest.mark.slow
def test_big_merged_box_picture() -> None:
    rows = table_texts("wired__wired_big_box.png")
    assert rows[0][:2] == ["项目", "项目"] and "索道" in rows[0]
    assert len(rows) == 5 and len(rows[0]) == 10
