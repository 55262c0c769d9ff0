"""The one typed document model every reader produces and every later stage reads.

Document -> pages (text items with geometry, rulings) and tables (cells with spans).
Geometry is in page units of the medium (PDF points, EMF logical units mapped to points,
image pixels); ``None`` where the medium has none (TXT, DOCX, workbooks).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BBox = tuple[float, float, float, float]
"""x0, y0, x1, y1 with y growing downwards."""


class Model(BaseModel):
    """Base: strict about unknown fields, serialises compactly."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class TextItem(Model):
    """A run of text in reading order: a paragraph, a line, an OCR line or an EMF text record."""

    text: str
    page: int = 1
    order: int = 0
    """Position in the document's body order, shared with tables."""
    bbox: BBox | None = None
    reader: str = ""
    confidence: float = 1.0
    char_span: tuple[int, int] | None = None
    """Span in ``Document.text`` once the document text is assembled."""
    style: str | None = None
    """Heading / list style where the medium says (DOCX paragraph style)."""


class Ruling(Model):
    """A straight ruling line (table border) in page coordinates."""

    x0: float
    y0: float
    x1: float
    y1: float
    width: float = 0.0

    @property
    def horizontal(self) -> bool:
        return abs(self.y1 - self.y0) <= abs(self.x1 - self.x0)


class Page(Model):
    number: int
    width: float | None = None
    height: float | None = None
    items: list[TextItem] = Field(default_factory=list)
    rulings: list[Ruling] = Field(default_factory=list)
    needs_ocr: bool = False
    """True where the page has no usable text (scan, glyph-index EMF, broken PDF text layer)."""
    image: str | None = None
    """Path of a rendered image of the page, where one was made."""


class Cell(Model):
    row: int
    col: int
    row_span: int = 1
    col_span: int = 1
    text: str = ""
    bbox: BBox | None = None
    confidence: float = 1.0
    number: float | None = None
    """The typed number a workbook stored for this cell (percent cells as printed: 100.0 for 100%)."""
    source: str | None = None
    """Where in the medium the cell came from (sheet cell ref, EMF record ids, OCR line ids)."""


class Table(Model):
    index: int = 0
    """1-based position among the document's tables (after de-duplication it is kept)."""
    order: int = 0
    page: int | None = None
    pages: list[int] = Field(default_factory=list)
    bbox: BBox | None = None
    reader: str = ""
    n_rows: int = 0
    n_cols: int = 0
    cells: list[Cell] = Field(default_factory=list)
    title: str | None = None
    """Caption / title line printed just above the table, when known."""
    sheet: str | None = None
    source: str | None = None
    repeats: list[str] = Field(default_factory=list)
    """Sources of identical copies of this table found elsewhere in the file (dropped)."""
    confidence: float = 1.0

    def grid(self) -> list[list[Cell | None]]:
        """Row-major grid where every slot holds the cell covering it (merged cells repeat)."""
        grid: list[list[Cell | None]] = [[None] * self.n_cols for _ in range(self.n_rows)]
        for cell in self.cells:
            for r in range(cell.row, min(cell.row + cell.row_span, self.n_rows)):
                for c in range(cell.col, min(cell.col + cell.col_span, self.n_cols)):
                    grid[r][c] = cell
        return grid

    def text_rows(self) -> list[list[str]]:
        """Grid of texts; a merged cell's text fills every slot it covers."""
        return [[c.text if c else "" for c in row] for row in self.grid()]

    def fingerprint(self) -> tuple[tuple[int, int, int, int, str], ...]:
        """Content identity used to spot the same table repeated in one file."""
        return tuple(
            sorted((c.row, c.col, c.row_span, c.col_span, "".join(c.text.split())) for c in self.cells)
        )


Format = Literal[
    "txt", "docx", "xlsx", "xls", "pdf", "emf", "wmf", "png", "jpeg", "tiff", "bmp", "doc", "unknown"
]


class SourceInfo(Model):
    path: str
    sha256: str = ""
    format: str = "unknown"
    pages: int | None = None
    size: int = 0


class Document(Model):
    """What a reader returns: pages of text and rulings, and tables, in body order."""

    source: SourceInfo
    pages: list[Page] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)

    def items(self) -> Iterator[TextItem]:
        """All text items of all pages, in body order."""
        yield from sorted((it for p in self.pages for it in p.items), key=lambda it: (it.order, it.page))

    def body(self) -> Iterator[TextItem | Table]:
        """Text items and tables interleaved in body order."""
        yield from sorted([*self.items(), *self.tables], key=lambda x: x.order)

    def text(self) -> str:
        """The document's prose: text items joined by newlines in body order.

        ``char_span`` in narrative provenance points into this string; item ``i`` starts at
        the offset ``text_offsets()[i]``.
        """
        return "\n".join(it.text for it in self.items())

    def text_offsets(self) -> list[int]:
        """Start offset in ``text()`` of every item of ``items()``."""
        offsets, pos = [], 0
        for it in self.items():
            offsets.append(pos)
            pos += len(it.text) + 1
        return offsets

    def page(self, number: int) -> Page:
        """The page with this number, created when missing."""
        for p in self.pages:
            if p.number == number:
                return p
        page = Page(number=number)
        self.pages.append(page)
        self.pages.sort(key=lambda p: p.number)
        return page
