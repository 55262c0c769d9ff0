"""Page OCR end to end: image reader, tables from scans, orientation, merging, real table pictures."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import DEV, require
from zhibiao.errors import ReaderError
from zhibiao.eval.cells import score_cells
from zhibiao.eval.teds import teds
from zhibiao.model import Document, Page, SourceInfo
from zhibiao.ocr.pages import ocr_document
from zhibiao.readers.image import read as read_image
from zhibiao.tables.html import table_from_html

DOC3 = "003_4840a7d78a699b0b"


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


def turned(gray: np.ndarray, degrees: float) -> np.ndarray:
    """The image turned counter-clockwise by a few degrees on a larger white sheet (a skewed scan)."""
    import cv2

    h, w = gray.shape
    sheet = np.full((h + 200, w + 100), 250, np.uint8)
    sheet[100 : 100 + h, 50 : 50 + w] = gray
    matrix = cv2.getRotationMatrix2D((sheet.shape[1] / 2, sheet.shape[0] / 2), degrees, 1.0)
    return cv2.warpAffine(sheet, matrix, sheet.shape[::-1], borderValue=250)


@pytest.mark.slow
@pytest.mark.parametrize("degrees", [-2.5, 3.0])
def test_a_page_scanned_a_few_degrees_askew_is_straightened(degrees: float) -> None:
    from zhibiao.ocr.engines import get_engine
    from zhibiao.ocr.pages import ocr_page
    from zhibiao.ocr.raster import PageImage

    block = np.ascontiguousarray(budget_block()[:, :1400])
    result = ocr_page(PageImage(1, turned(block, degrees), 200.0), get_engine())
    assert result.skew == pytest.approx(-degrees, abs=0.3)  # skew > 0: turned clockwise
    (table,) = result.tables
    texts = {c.text for c in table.cells}
    assert {"项目名称", "主管部门", "自贡市妇女联合会部门"} <= texts
    name = next(c for c in table.cells if c.text == "项目名称")
    dept = next(c for c in table.cells if c.text == "主管部门")
    assert (name.row, name.col) == (0, 0) and (dept.row, dept.col) == (1, 0)


@pytest.mark.slow
def test_multi_page_tiff_pages_are_read_each_with_its_own_orientation() -> None:
    block = np.ascontiguousarray(budget_block()[:, :1400])
    frames = [Image.fromarray(block), Image.fromarray(np.ascontiguousarray(np.rot90(block, 2)))]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:], dpi=(200, 200))
    doc = read_and_ocr(buf.getvalue(), "scan.tif")
    assert [p.number for p in doc.pages] == [1, 2]
    assert sorted(t.page for t in doc.tables) == [1, 2]
    for table in doc.tables:
        assert "项目名称" in {c.text for c in table.cells}, table.page


@pytest.mark.slow
def test_emf_picture_with_only_a_bitmap_is_read_by_ocr_and_flagged(tmp_path: Path) -> None:
    from test_ocr_raster import emf_with_bitmap

    from zhibiao.pipeline import extract

    path = tmp_path / "table.emf"
    path.write_bytes(emf_with_bitmap(np.ascontiguousarray(budget_block()[:, :1400])))
    result = extract(path)
    assert not result.errors
    assert any("needs OCR" in w for w in result.warnings)
    assert any("bitmap drawn by the picture" in w for w in result.warnings)
    (table,) = result.tables
    assert table.reader == "ocr" and {"项目名称", "主管部门"} <= {c.text for c in table.cells}
    # geometry in the picture's points: 1400 px at 200 dpi is 504 pt wide
    assert table.bbox is not None and 0 <= table.bbox[0] < table.bbox[2] <= 505
