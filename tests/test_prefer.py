"""The ``--prefer`` switch: forcing a less exact source gives the same records, from that source."""

from __future__ import annotations

import pytest

from conftest import DEV, require
from zhibiao.export.writers import record_rows
from zhibiao.pipeline import ExtractOptions, extract
from zhibiao.readers.preference import prefer, preferred_source

OLE_DOCX = DEV / "003_4840a7d78a699b0b_ole.docx"
TEXT_PDF = DEV / "000_c9021f7b19f56ffc.pdf"


PROVENANCE = ("reader", "page", "bbox", "cell", "source", "confidence")


def _rows(result) -> list[dict]:
    """Record rows without provenance (which rightly differs between sources)."""
    return [{k: v for k, v in row.items() if k not in PROVENANCE} for row in record_rows(result)]


def test_prefer_is_scoped_and_checked() -> None:
    assert preferred_source() == "exact"
    with prefer("preview"):
        assert preferred_source() == "preview"
    assert preferred_source() == "exact"
    with pytest.raises(ValueError, match="unknown source"), prefer("magic"):
        pass


def test_prefer_preview_reads_the_emf_pictures_and_agrees_with_the_workbook() -> None:
    path = require(OLE_DOCX)
    exact = extract(path)
    preview = extract(path, ExtractOptions(prefer="preview"))
    assert {t.reader for t in exact.tables} == {"ole-xlsx"}
    assert {t.reader for t in preview.tables} == {"emf"}
    assert any("--prefer preview" in w for w in preview.warnings)
    assert _rows(preview) == _rows(exact) and _rows(exact)


def test_prefer_ocr_on_a_format_without_page_images_says_so(tmp_path) -> None:
    path = require(DEV / "003_4840a7d78a699b0b.docx")
    result = extract(path, ExtractOptions(prefer="ocr"))
    assert any("--prefer ocr has no effect on docx" in w for w in result.warnings)
    assert result.projects


@pytest.mark.slow
def test_prefer_ocr_reads_a_text_pdf_from_pixels() -> None:
    path = require(TEXT_PDF)
    exact = extract(path)
    ocr = extract(path, ExtractOptions(prefer="ocr"))
    assert not ocr.errors
    assert {t.reader for t in ocr.tables} == {"ocr"}
    assert "ocr" in ocr.timings
    exact_rows, ocr_rows = _rows(exact), _rows(ocr)
    assert len(ocr_rows) == len(exact_rows)
    same = sum(a == b for a, b in zip(exact_rows, ocr_rows, strict=True))
    assert same >= 0.9 * len(exact_rows)
