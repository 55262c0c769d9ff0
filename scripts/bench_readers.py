"""Tables/s and pages/s of every exact reader on the dev corpus, against a generic baseline.

    python scripts/bench_readers.py [--rounds 3] [--only xlsx docx ...] [--no-ocr-baseline]

For each rendition of ``../shared/corpus/dev`` the whole pipeline (``zhibiao.pipeline.extract``:
read, tables, records, checks; no OCR) runs over every file, best of ``--rounds``. Beside it, in
the same process, the route a user would otherwise take for that medium:

- xlsx: openpyxl loading the workbook and reading every cell value (no merges, no records);
- docx: parsing ``word/document.xml`` with defusedxml and visiting every ``w:tc`` (no spans, no records);
- pdf: pdfplumber's plain ``page.extract_tables()`` on every page;
- emf, ole-docx: the OCR route, rasterise + PP-OCR of the same reports' scanned pages
  (``*_scan.pdf``, what a tool without an EMF/OLE reader must do), one round.

``ratio`` = our tables/s ÷ the baseline's tables/s (above 1: faster than the generic route).
"""

from __future__ import annotations

import argparse
import io
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zhibiao.pipeline import ExtractOptions, extract

REPO = Path(__file__).resolve().parents[1]
DEV = Path(os.environ.get("ZHIBIAO_SHARED", REPO.parent / "shared")) / "corpus" / "dev"
RENDITIONS: dict[str, str] = {
    "txt": "*.txt",
    "docx": "*[0-9a-f].docx",
    "ole-docx": "*_ole.docx",
    "xlsx": "*.xlsx",
    "pdf": "*[0-9a-f].pdf",
    "emf": "*_emf/*.emf",
}
EXACT = ExtractOptions(ocr=False)


@dataclass
class Rate:
    files: int
    pages: int
    tables: int
    seconds: float

    def per_s(self, n: int) -> float:
        return n / self.seconds if self.seconds else float("inf")


def files_of(rendition: str) -> list[Path]:
    derived = ("_scan", "_ole") if rendition in ("docx", "pdf") else ("_scan",)
    return sorted(p for p in DEV.glob(RENDITIONS[rendition]) if not any(d in p.name for d in derived))


def ours(paths: list[Path], rounds: int) -> Rate:
    """The pipeline over ``paths``, best of ``rounds``."""
    best = float("inf")
    pages = tables = 0
    for _ in range(rounds):
        start = time.perf_counter()
        results = [extract(p, EXACT) for p in paths]
        best = min(best, time.perf_counter() - start)
        pages = sum(r.source.pages or 1 for r in results)
        tables = sum(len(r.tables) for r in results)
    return Rate(len(paths), pages, tables, best)


def _xlsx_plain(path: Path) -> int:
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            list(row)
    return len(book.worksheets)


def _docx_plain(path: Path) -> int:
    from defusedxml import ElementTree

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    with zipfile.ZipFile(path) as z:
        root = ElementTree.fromstring(z.read("word/document.xml"))
    for cell in root.iter(f"{w}tc"):
        "".join(t.text or "" for t in cell.iter(f"{w}t"))
    return sum(1 for _ in root.iter(f"{w}tbl"))


def _pdf_plain(path: Path) -> int:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(path.read_bytes())) as pdf:
        return sum(len(page.extract_tables()) for page in pdf.pages)


def report_stem(path: Path) -> str:
    """The report a rendition was made from (``003_…`` for ``003_…_ole.docx`` or ``003_…_emf/table1.emf``)."""
    name = path.parent.name if path.suffix == ".emf" else path.stem
    return name.removesuffix("_emf").removesuffix("_ole")


def _ocr_route(path: Path) -> int:
    return len(extract(DEV / f"{report_stem(path)}_scan.pdf").tables)


BASELINES: dict[str, tuple[str, Callable[[Path], int]]] = {
    "xlsx": ("openpyxl cell values", _xlsx_plain),
    "docx": ("defusedxml w:tc walk", _docx_plain),
    "pdf": ("pdfplumber extract_tables", _pdf_plain),
    "ole-docx": ("scan OCR (rapidocr)", _ocr_route),
    "emf": ("scan OCR (rapidocr)", _ocr_route),
}


def baseline(rendition: str, paths: list[Path], rounds: int, with_ocr: bool) -> tuple[str, Rate] | None:
    if rendition not in BASELINES:
        return None
    name, run = BASELINES[rendition]
    if run is _ocr_route:
        if not with_ocr:
            return None
        paths = list({report_stem(p): p for p in paths}.values())  # one OCR run per report
        rounds = 1
    best, tables = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        tables = sum(run(p) for p in paths)
        best = min(best, time.perf_counter() - start)
    return name, Rate(len(paths), 0, tables, best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=list(RENDITIONS), default=list(RENDITIONS))
    parser.add_argument("--no-ocr-baseline", action="store_true", help="skip the slow OCR-route baselines")
    opts = parser.parse_args()
    extract(files_of("docx")[0], EXACT)  # warm imports up
    header = f"{'rendition':<10} {'files':>5} {'tables':>6} {'tables/s':>9} {'pages/s':>8}"
    print(f"{header}   baseline (tables/s)  ratio")
    for rendition in opts.only:
        paths = files_of(rendition)
        if not paths:
            continue
        rate = ours(paths, opts.rounds)
        line = (
            f"{rendition:<10} {rate.files:>5} {rate.tables:>6} {rate.per_s(rate.tables):>9.1f} "
            f"{rate.per_s(rate.pages):>8.1f}"
        )
        base = baseline(rendition, paths, opts.rounds, not opts.no_ocr_baseline)
        if base:
            name, b = base
            ratio = rate.per_s(rate.tables) / b.per_s(b.tables) if b.tables else float("nan")
            line += f"   {name} ({b.per_s(b.tables):.1f})  {ratio:.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
