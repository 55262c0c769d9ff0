"""Page views of one document: where its tables' cells lie, over a picture of the page.

- PDF pages (text layer or scan) that hold tables or records are rendered with pypdfium2 at
  ``PAGE_DPI`` into ``assets/pages/`` (PNG for text pages, JPEG for scans); cell boxes are in PDF
  points, like the page.
- Image files (scans, photos) are downscaled to ``MAX_IMAGE_SIDE``; cell boxes are in pixels of
  the original.
- Any other table with geometry (EMF/WMF pictures, a PDF whose file is gone) is drawn from its
  cells' boxes and texts.
- Tables without geometry (workbooks, DOCX, TXT) have no page view: the document page draws
  their grid from rows and columns.

Images are named by the source's sha256 and page, so a second report run reuses them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from zhibiao.model import BBox, Cell, Table
from zhibiao.report.review import ReviewItem, cell_page, tables_by_index
from zhibiao.result import ExtractionResult

PAGE_DPI = 100
MAX_IMAGE_SIDE = 1400
MAX_RENDERED_PAGES = 40
"""Pages rendered per document at most (the first ones holding tables or records)."""
MAX_IMAGE_PIXELS = 120_000_000
JPEG_QUALITY = 70
RENDER_VERSION = "v1"
"""Part of every image name: bump it when rendering changes so old images are not reused."""
PAGE_FORMATS = frozenset({"pdf"})
IMAGE_FORMATS = frozenset({"png", "jpeg", "tiff", "bmp"})
DRAWN_MARGIN = 6.0


@dataclass
class PageView:
    """One picture with cells over it, in the picture's own units."""

    key: str
    label: str
    x0: float
    y0: float
    width: float
    height: float
    image: str | None = None
    """Path of the picture relative to the report root; None: drawn from the cells."""
    cells: list[tuple[int, Cell]] = field(default_factory=list)
    """(table index, cell) for every cell with a box on this view."""
    boxes: list[tuple[str, BBox]] = field(default_factory=list)
    """(item id, bbox) of records that have a box on this view but no cells on it."""


@dataclass(frozen=True)
class Picture:
    """A rendered page: file name under ``assets/pages`` and the page's size in the cells' units."""

    path: str
    width: float
    height: float


def boxed_cells(result: ExtractionResult) -> Iterable[tuple[int, Table, Cell]]:
    """(table number, table, cell) of every cell that has a box."""
    for number, table in tables_by_index(result.tables).items():
        for cell in table.cells:
            if cell.bbox is not None:
                yield number, table, cell


def _record_boxes(items: Iterable[ReviewItem]) -> list[tuple[str, int, BBox]]:
    """(item id, page, bbox) of records located by a box rather than by table cells."""
    found = []
    for item in items:
        prov = item.provenance
        if prov and prov.bbox and prov.page is not None and not prov.cells:
            found.append((item.id, prov.page, prov.bbox))
    return found


def pages_to_render(result: ExtractionResult, items: Iterable[ReviewItem]) -> list[int]:
    """Pages holding a table cell with a box or a record (page 1 when there are none)."""
    pages = {cell_page(table, cell) for _, table, cell in boxed_cells(result)}
    pages |= {p for t in result.tables for p in t.pages}
    pages |= {item.provenance.page for item in items if item.provenance}
    numbers = sorted(p for p in pages if p is not None and p >= 1)
    limit = result.source.pages or MAX_RENDERED_PAGES
    numbers = [p for p in numbers if p <= limit] or [1]
    return numbers[:MAX_RENDERED_PAGES]


def resolve_source(result: ExtractionResult, out_dir: Path, override: Path | None = None) -> Path | None:
    """The source file if it is still there and unchanged (same size and sha256), else None."""
    raw = Path(result.source.path)
    candidates = [override] if override is not None else [raw, out_dir / raw]
    for candidate in candidates:
        if candidate is None or not candidate.is_file():
            continue
        if _same_file(candidate, result.source.size, result.source.sha256):
            return candidate
    return None


def _same_file(path: Path, size: int, sha256: str) -> bool:
    try:
        if size and path.stat().st_size != size:
            return False
        if not sha256:
            return True
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha256
    except OSError:
        return False


def _image_stem(result: ExtractionResult, page: int) -> str:
    ident = result.source.sha256[:16] or hashlib.sha256(result.source.path.encode()).hexdigest()[:16]
    return f"{ident}-p{page}-{RENDER_VERSION}"


def _is_scan(result: ExtractionResult) -> bool:
    return any(t.reader.startswith("ocr") for t in result.tables)


def render_pdf_pages(
    source: Path, numbers: list[int], result: ExtractionResult, assets: Path
) -> dict[int, Picture]:
    """Render the given pages (1-based) once; return each page's picture and size in points."""
    import pypdfium2 as pdfium

    suffix = ".jpg" if _is_scan(result) else ".png"
    pictures: dict[int, Picture] = {}
    pdf = pdfium.PdfDocument(str(source))
    try:
        for number in numbers:
            if number > len(pdf):
                continue
            page = pdf[number - 1]
            width, height = page.get_size()
            target = assets / f"{_image_stem(result, number)}{suffix}"
            if not target.exists():
                image = page.render(scale=PAGE_DPI / 72, grayscale=True).to_pil()
                _save(image, target)
            page.close()
            pictures[number] = Picture(target.name, width, height)
    finally:
        pdf.close()
    return pictures


def render_image_frames(
    source: Path, numbers: list[int], result: ExtractionResult, assets: Path
) -> dict[int, Picture]:
    """Downscaled copies of the image's frames; sizes are the original pixels (the cells' units)."""
    from PIL import Image

    pictures: dict[int, Picture] = {}
    with Image.open(source) as image:
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ValueError(f"image of {width}×{height} pixels is too large to show")
        frames = getattr(image, "n_frames", 1)
        for number in numbers:
            if number > frames:
                continue
            image.seek(number - 1)
            width, height = image.size
            target = assets / f"{_image_stem(result, number)}.jpg"
            if not target.exists():
                frame = image.convert("L" if image.mode in ("1", "L", "LA", "I", "I;16") else "RGB")
                frame.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
                _save(frame, target)
            pictures[number] = Picture(target.name, float(width), float(height))
    return pictures


def _save(image: object, target: Path) -> None:
    """Write an image atomically (a crash never leaves half a file that later runs would reuse)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    if target.suffix == ".png":
        image.save(tmp, format="PNG")  # type: ignore[attr-defined]
    else:
        image.save(tmp, format="JPEG", quality=JPEG_QUALITY, optimize=True)  # type: ignore[attr-defined]
    tmp.replace(target)


def render_pictures(
    result: ExtractionResult, items: list[ReviewItem], source: Path | None, assets: Path
) -> tuple[dict[int, Picture], list[str]]:
    """Pictures of the pages worth showing, and notes on what could not be shown."""
    fmt = result.source.format
    if source is None:
        if fmt in PAGE_FORMATS | IMAGE_FORMATS:
            return {}, [f"source file not found or changed ({result.source.path}): pages are drawn"]
        return {}, []
    numbers = pages_to_render(result, items)
    try:
        if fmt in PAGE_FORMATS:
            return render_pdf_pages(source, numbers, result, assets), []
        if fmt in IMAGE_FORMATS:
            return render_image_frames(source, numbers, result, assets), []
    except Exception as exc:  # a broken or hostile file must not stop the report
        return {}, [f"pages could not be rendered: {type(exc).__name__}: {exc}"]
    return {}, []


def _extent(boxes: Iterable[BBox]) -> tuple[float, float, float, float]:
    boxes = list(boxes)
    x0 = min(b[0] for b in boxes) - DRAWN_MARGIN
    y0 = min(b[1] for b in boxes) - DRAWN_MARGIN
    x1 = max(b[2] for b in boxes) + DRAWN_MARGIN
    y1 = max(b[3] for b in boxes) + DRAWN_MARGIN
    return x0, y0, max(x1 - x0, 1.0), max(y1 - y0, 1.0)


def page_views(
    result: ExtractionResult, items: list[ReviewItem], source: Path | None, assets: Path, report_root: Path
) -> tuple[list[PageView], list[str]]:
    """Every picture the document page shows, with the cells and record boxes that lie on it."""
    pictures, notes = render_pictures(result, items, source, assets)
    prefix = assets.relative_to(report_root).as_posix()
    views: dict[str, PageView] = {}
    for number, picture in pictures.items():
        views[f"p{number}"] = PageView(
            f"p{number}",
            f"page {number}",
            0.0,
            0.0,
            picture.width,
            picture.height,
            f"{prefix}/{picture.path}",
        )
    drawn: dict[str, list[tuple[int, Cell]]] = defaultdict(list)
    by_page = result.source.format in PAGE_FORMATS | IMAGE_FORMATS
    for number, table, cell in boxed_cells(result):
        page = cell_page(table, cell)
        if f"p{page}" in views:
            views[f"p{page}"].cells.append((number, cell))
        elif by_page and page is not None:
            drawn[f"p{page}"].append((number, cell))
        else:
            drawn[f"t{number}"].append((number, cell))
    for key, cells in drawn.items():
        x0, y0, width, height = _extent(cell.bbox for _, cell in cells if cell.bbox)
        label = (
            f"page {key[1:]} (drawn)" if key.startswith("p") else f"table {key[1:]} (drawn from its geometry)"
        )
        views[key] = PageView(key, label, x0, y0, width, height, None, cells)
    for item_id, page, bbox in _record_boxes(items):
        view = views.get(f"p{page}")
        if view is not None:
            view.boxes.append((item_id, bbox))
    ordered = sorted(views.values(), key=lambda v: (v.key[0] != "p", int(v.key[1:])))
    return ordered, notes
