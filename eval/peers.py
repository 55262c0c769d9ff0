"""Peers scored side by side with zhibiao on the same pages, with the same table metrics.

- ``pdfplumber``: ``page.find_tables()`` / ``Table.extract()`` (what ``page.extract_tables()`` returns)
  on the pages of ``NAME.pdf`` each gold table sits on; the table overlapping the gold box most is
  taken, every slot of its grid becomes a 1x1 cell (``None`` -> empty: pdfplumber reports no spans),
  and the parts of a table spanning pages are stacked in page order.
- ``rapidtable``: RapidOCR (``rapidocr==3.10.0``, PP-OCR ONNX) + RapidTable SLANet-plus
  (``rapid-table==0.3.0``) on the scan page image (``NAME_scan/pageN.png``, 200 dpi) cropped to the gold
  table box (``bbox_pt x 200/72`` plus a margin for the scan's shift and rotation); its HTML is read
  back as a table, parts stacked in page order. Optional: skipped, with a note, when the packages
  are not installed.

Each peer is scored against the whole gold tables (``merged``) and against the per-page parts
(``pages``), so it can be compared with zhibiao's ``pdf``/``scan-pdf`` and ``scan-png`` groups.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhibiao.annotations.gold import GoldDocument
from zhibiao.eval.tables import score_aligned
from zhibiao.model import Cell, Table
from zhibiao.tables.html import table_from_html

SCAN_DPI = 200
SCAN_MARGIN_PX = 30
"""Crop margin around the gold box on a scan: the corpus shifts pages up to 1.5 mm (12 px) and rotates
them up to 0.8 degrees (about 15 px at the edge of a 1100 px wide table)."""

Box = tuple[float, float, float, float]
PartReader = Callable[[int, Box], Table | None]
"""Reads the table of one page region of one document: ``(page, bbox_pt) -> Table``."""


@dataclass
class PeerRun:
    """One peer's tables for every gold table (merged) and every gold part, with its time."""

    name: str
    merged: list[tuple[str, Table, Table | None]] = field(default_factory=list)
    pages: list[tuple[str, Table, Table | None]] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        merged = score_aligned([(lbl, g) for lbl, g, _ in self.merged], [p for _, _, p in self.merged])
        pages = score_aligned([(lbl, g) for lbl, g, _ in self.pages], [p for _, _, p in self.pages])
        return {
            "merged": merged.summary(),
            "pages": pages.summary(),
            "merged_pairs": [p.as_dict() for p in merged.pairs],
            "page_pairs": [p.as_dict() for p in pages.pairs],
            "seconds": self.seconds,
            "seconds_per_table_part": self.seconds / len(self.pages) if self.pages else None,
            "notes": self.notes,
        }


def stack_tables(parts: list[Table | None]) -> Table | None:
    """The parts of one table on successive pages, stacked top to bottom (``None`` parts skipped)."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    cells: list[Cell] = []
    offset = 0
    for part in present:
        cells += [c.model_copy(update={"row": c.row + offset}) for c in part.cells]
        offset += part.n_rows
    return Table(n_rows=offset, n_cols=max(p.n_cols for p in present), cells=cells, reader=present[0].reader)


def grid_to_table(rows: list[list[str | None]], reader: str) -> Table:
    """A plain grid (pdfplumber's ``extract()``) as 1x1 cells; ``None`` slots become empty cells."""
    n_cols = max((len(r) for r in rows), default=0)
    cells = [
        Cell(row=r, col=c, text=text or "")
        for r, row in enumerate(rows)
        for c, text in enumerate([*row, *[None] * (n_cols - len(row))])
    ]
    return Table(n_rows=len(rows), n_cols=n_cols, cells=cells, reader=reader)


def _overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _run(doc: GoldDocument, read_part: PartReader, run: PeerRun) -> None:
    """Read every part of every gold table of ``doc`` with ``read_part``; stack the parts of each table."""
    for table in doc.tables or []:
        parts: list[Table | None] = []
        for part in table.parts:
            gold_part = table.part_table(part.page)
            if part.bbox_pt is None or gold_part is None:
                continue
            start = time.perf_counter()
            got = read_part(part.page, part.bbox_pt)
            run.seconds += time.perf_counter() - start
            parts.append(got)
            run.pages.append((f"{doc.doc}/table{table.index}@p{part.page}", gold_part, got))
        run.merged.append((f"{doc.doc}/table{table.index}", table.table(), stack_tables(parts)))


# --- pdfplumber -----------------------------------------------------------------------------------


def pdfplumber_part(pdf: Any, page: int, bbox: Box) -> Table | None:
    """pdfplumber's table on ``page`` of an open PDF that overlaps the gold box most."""
    if not 1 <= page <= len(pdf.pages):
        return None
    found = pdf.pages[page - 1].find_tables()
    best = max(found, key=lambda t: _overlap(t.bbox, bbox), default=None)
    if best is None or _overlap(best.bbox, bbox) <= 0:
        return None
    return grid_to_table(best.extract(), "pdfplumber")


def run_pdfplumber(corpus_dir: Path, gold_docs: list[GoldDocument]) -> PeerRun:
    import pdfplumber

    run = PeerRun("pdfplumber")
    for doc in gold_docs:
        path = corpus_dir / f"{doc.doc}.pdf"
        if not doc.tables:
            continue
        if not path.exists():
            run.notes.append(f"{path.name} missing")
            continue
        with pdfplumber.open(path) as pdf:
            _run(doc, lambda page, bbox, pdf=pdf: pdfplumber_part(pdf, page, bbox), run)
    return run


# --- RapidOCR + RapidTable ------------------------------------------------------------------------


def rapid_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("rapidocr", "rapid_table"))


class RapidTableReader:
    """RapidOCR + RapidTable (SLANet-plus) on a crop of a scan page; engines built once."""

    def __init__(self) -> None:
        import logging

        from rapid_table import RapidTable
        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.WARNING)  # after the import, which sets INFO
        self.ocr = RapidOCR()
        self.table = RapidTable()

    def __call__(self, corpus_dir: Path, doc: str, page: int, bbox: Box) -> Table | None:
        import numpy as np

        image = page_image(corpus_dir, doc, page)
        if image is None:
            return None
        scale = SCAN_DPI / 72
        box = (
            max(0, int(bbox[0] * scale) - SCAN_MARGIN_PX),
            max(0, int(bbox[1] * scale) - SCAN_MARGIN_PX),
            min(image.width, int(bbox[2] * scale) + SCAN_MARGIN_PX),
            min(image.height, int(bbox[3] * scale) + SCAN_MARGIN_PX),
        )
        crop = np.array(image.crop(box).convert("RGB"))
        ocr = self.ocr(crop)
        if ocr.boxes is None or not len(ocr.boxes):
            return None
        ocr_result = [[b.tolist(), t, s] for b, t, s in zip(ocr.boxes, ocr.txts, ocr.scores, strict=True)]
        html, _boxes, _elapsed = self.table(crop, ocr_result)
        table = table_from_html(html, reader="rapidtable")
        return table if table.cells else None


def page_image(corpus_dir: Path, doc: str, page: int) -> Any:
    """``NAME_scan/pageN.png``, or page N of ``NAME_scan.pdf`` rendered at the scan's dpi."""
    from PIL import Image

    png = corpus_dir / f"{doc}_scan" / f"page{page}.png"
    if png.exists():
        return Image.open(png)
    pdf = corpus_dir / f"{doc}_scan.pdf"
    if not pdf.exists():
        return None
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        if not 1 <= page <= len(document):
            return None
        return document[page - 1].render(scale=SCAN_DPI / 72).to_pil()
    finally:
        document.close()


def run_rapidtable(corpus_dir: Path, gold_docs: list[GoldDocument]) -> PeerRun:
    run = PeerRun("rapidtable")
    if not rapid_available():
        run.notes.append("skipped: pip install rapid-table==0.3.0 rapidocr==3.10.0 to run this peer")
        return run
    reader = RapidTableReader()
    for doc in gold_docs:
        if doc.tables:
            _run(doc, lambda page, bbox, doc=doc: reader(corpus_dir, doc.doc, page, bbox), run)
    return run


def run_peers(corpus_dir: Path, gold_docs: list[GoldDocument], rapid: bool) -> dict[str, Any]:
    """Report entries of the peers: pdfplumber always, RapidTable when ``rapid`` (slow: OCR)."""
    peers = {"pdfplumber": run_pdfplumber(corpus_dir, gold_docs).report()}
    if rapid:
        peers["rapidtable"] = run_rapidtable(corpus_dir, gold_docs).report()
    else:
        peers["rapidtable"] = {"notes": ["not run: pass --peers (OCR, about 2 s per table part on 2 cores)"]}
    return peers
