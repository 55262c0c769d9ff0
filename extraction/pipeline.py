"""The extraction pipeline: detect -> read -> (OCR) -> tables -> records -> checks.

``extract(path)`` never raises for a bad file: the result carries ``errors`` instead, so a
batch goes on. Every stage's seconds go to ``result.timings``.
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from zhibiao.detect import detect_format
from zhibiao.errors import ZhibiaoError
from zhibiao.model import Document, SourceInfo
from zhibiao.readers import get_reader
from zhibiao.readers.preference import prefer
from zhibiao.records import RecordSet
from zhibiao.result import ExtractionResult, ReadError
from zhibiao.tables.dedupe import drop_repeats

MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ExtractOptions:
    """Settings of one extraction run."""

    ocr_engine: str = "rapidocr"
    ocr: bool = True
    """Run OCR on pages without usable text (scans, pictures without text records)."""
    max_bytes: int = MAX_FILE_BYTES
    prefer: str = "exact"
    """Source forced for debugging (``zhibiao.readers.preference``): exact (default), preview or ocr."""


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 6)


def source_info(path: Path, data: bytes, fmt: str) -> SourceInfo:
    return SourceInfo(path=str(path), sha256=hashlib.sha256(data).hexdigest(), format=fmt, size=len(data))


def read_document(path: Path, data: bytes, options: ExtractOptions, timer: _Timer) -> Document:
    """Detect the format from the bytes and run its reader (and OCR where pages need it)."""
    with timer.stage("detect"):
        fmt = detect_format(data)
        source = source_info(path, data, fmt)
    reader = get_reader(fmt)
    with timer.stage("read"), prefer(options.prefer):
        doc = reader(data, path)
    doc.source = source.model_copy(update={"pages": doc.source.pages or len(doc.pages) or None})
    if options.prefer == "ocr":
        force_ocr(doc)
    if options.ocr and any(p.needs_ocr for p in doc.pages):
        with timer.stage("ocr"):
            _run_ocr(doc, data, options)
    return doc


OCR_RENDERABLE = ("pdf", "png", "jpeg", "tiff", "bmp")


def force_ocr(doc: Document) -> None:
    """``--prefer ocr``: drop the text layer and tables of every page and mark it for OCR."""
    if doc.source.format not in OCR_RENDERABLE:
        doc.warnings.append(f"--prefer ocr has no effect on {doc.source.format} files (no page images)")
        return
    for page in doc.pages:
        page.needs_ocr = True
        page.items = []
        page.rulings = []
    doc.tables = []


def _run_ocr(doc: Document, data: bytes, options: ExtractOptions) -> None:
    try:
        from zhibiao.ocr.pages import ocr_document
    except ImportError as exc:
        doc.warnings.append(f"pages without text were not read: OCR is not available ({exc})")
        return
    ocr_document(doc, data, engine=options.ocr_engine)


def build_records(doc: Document) -> RecordSet:
    """Tables -> records, then prose -> narrative records, merged into one RecordSet."""
    from zhibiao.records.forms import records_from_tables
    from zhibiao.records.narrative import records_from_text

    tabular = records_from_tables(doc)
    return records_from_text(doc, tabular)


def assemble(doc: Document, records: RecordSet) -> ExtractionResult:
    return ExtractionResult(
        source=doc.source,
        department=records.department,
        year=records.year,
        department_budget=records.department_budget,
        projects=records.projects,
        score_tables=records.score_tables,
        narrative_indicators=records.narrative_indicators,
        tables=doc.tables,
        warnings=[*doc.warnings, *records.warnings],
    )


def failed(path: Path, data: bytes | None, error: ReadError, timings: dict[str, float]) -> ExtractionResult:
    fmt = detect_format(data) if data is not None else "unknown"
    source = source_info(path, data, fmt) if data is not None else SourceInfo(path=str(path))
    return ExtractionResult(source=source, errors=[error], timings=timings)


def extract(path: Path | str, options: ExtractOptions | None = None) -> ExtractionResult:
    """Extract one file. Never raises for bad input: errors are in the result."""
    from zhibiao.checks import run_checks

    path = Path(path)
    options = options or ExtractOptions()
    timer = _Timer()
    data: bytes | None = None
    stage = "read"
    try:
        data = _read_bytes(path, options.max_bytes)
        doc = read_document(path, data, options, timer)
        stage = "tables"
        with timer.stage("tables"):
            doc.tables = drop_repeats(doc.tables)
        stage = "records"
        with timer.stage("records"):
            records = build_records(doc)
        result = assemble(doc, records)
        stage = "checks"
        with timer.stage("checks"):
            run_checks(result)
    except ZhibiaoError as exc:
        return failed(path, data, ReadError(code=exc.code, message=str(exc), stage=stage), timer.timings)
    except MemoryError:
        return failed(
            path, data, ReadError(code="too-large", message="out of memory", stage=stage), timer.timings
        )
    except RecursionError:
        message = "structure nested too deeply"
        return failed(path, data, ReadError(code="unsafe", message=message, stage=stage), timer.timings)
    except Exception as exc:  # a bug must cost one file, not the batch
        message = f"internal error: {type(exc).__name__}: {exc}"
        where = traceback.extract_tb(exc.__traceback__)[-1]
        message += f" (at {Path(where.filename).name}:{where.lineno})"
        return failed(path, data, ReadError(code="internal", message=message, stage=stage), timer.timings)
    result.timings = timer.timings
    return result


def _read_bytes(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ZhibiaoError(f"cannot open {path}: {exc.strerror or exc}", "not-found") from exc
    if size > limit:
        raise ZhibiaoError(f"file is {size} bytes, over the {limit}-byte limit", "too-large")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ZhibiaoError(f"cannot read {path}: {exc.strerror or exc}", "io") from exc


Extractor = Callable[[Path], ExtractionResult]
