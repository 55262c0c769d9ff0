"""Text-layer PDF reader (pdfplumber): page paragraphs, rulings, ruled tables merged across pages.

Pages are processed one at a time and closed, so a long file is never held in memory at once.
Each page yields

* ``TextItem`` paragraphs (wrapped lines joined; CJK without spaces) in reading order, excluding
  the text inside table boxes;
* ``Ruling`` lines (drawn lines and rectangle edges);
* table parts from pdfplumber's ruled-table finder, rebuilt on a grid of the cells' edges so that
  merged cells get row/column spans, with every character assigned to the cell holding its centre.

Parts of one table continued on the next page (same frame and columns, nothing but page furniture
between them) are merged: repeated header rows are dropped and a merged cell cut by the page break
is joined again. A page without usable text (no characters, ``(cid:…)`` or private-use glyphs, an
image with hardly any text) is marked ``needs_ocr`` with a warning.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import re
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import count, pairwise
from pathlib import Path
from typing import Any

from zhibiao.errors import ReaderError
from zhibiao.model import BBox, Cell, Document, Page, Ruling, SourceInfo, Table, TextItem

READER = "pdf-text"
DEFAULT_MAX_PAGES = 2000
"""Safety bound: pages beyond it are not read (a warning says so)."""

TABLE_SETTINGS: dict[str, Any] = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
MAX_RULINGS_PER_PAGE = 20000
MAX_TABLE_EDGES = 50000
MAX_GRID_SLOTS = 1_000_000
"""Pages with more edges, or more distinct column x row positions, are not searched for tables."""
MAX_CONTENT_BYTES = 64 << 20
"""A page whose content streams inflate beyond this is not parsed (compression bomb guard)."""
BAD_GLYPH_SHARE = 0.3
"""A page whose share of unmapped glyphs exceeds this needs OCR."""
UNMAPPED_CONFIDENCE = 0.5
"""Confidence of text holding glyphs without a Unicode mapping (U+FFFD)."""
GRID_TOLERANCE = 1.5
"""Cell edges closer than this (points) are the same grid line."""
TAIL_GAP_SHARE = 0.65
"""Text cut by a page break ends within this share of a line height above the cell's bottom."""
FRAME_TOLERANCE = 3.0
"""Table frames on consecutive pages whose left/right edges differ by less continue each other."""

OPENING = set("（([{［【〔〈《「『〖")
"""Punctuation that may not end a line: it sticks to the character after it."""
CLOSING = set("，。、；：？！）)]}］】〕〉》」』…·％%,.;:?!〗～")
"""Punctuation that may not start a line: it sticks to the character before it."""
QUOTES = set("\"'“”‘’")
"""Quotation marks: no line break on either side (UAX #14 class QU, as LibreOffice's ICU applies it)."""
NUMERIC_PREFIX = set("+＋$¥￥£€#№")
"""Numeric prefixes stick to a following ideograph (UAX #14 PR × ID)."""
FULL_STOPS = set("。．")
"""Full stops stay with a following digit (LibreOffice keeps list numbers like "。2、" together)."""
SENTENCE_END = set("。；;，,：:！？!?")
PAGE_NUMBER = re.compile(
    r"^[\s\-—–－_·•]*(第\s*)?\d{1,5}(\s*页)?(\s*/\s*(共\s*)?\d{1,5}\s*页?)?[\s\-—–－_·•]*$"
)
META_LINE = re.compile(r"(单位|部门|报表编号|填报日期|编制日期)\s*[:：]")
"""Lines between a title and its table ("部门：…  单位：万元") that are not the title."""
TITLE_WORDS = ("表", "一览", "情况", "清单", "明细", "统计", "汇总")
BREAKABLE_AFTER = set("-/")
"""Latin characters after which a word may wrap."""


# ---------------------------------------------------------------------------------------------
# Geometry primitives


@dataclass(frozen=True, slots=True)
class Glyph:
    """One character of the text layer (top-left origin, points)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def width(self) -> float:
        return self.x1 - self.x0


@dataclass(slots=True)
class Line:
    """Glyphs on one baseline, left to right, with leading/trailing spaces trimmed."""

    glyphs: list[Glyph]
    text: str
    trailing_space: bool = False
    leading_space: bool = False

    @property
    def x0(self) -> float:
        return self.glyphs[0].x0

    @property
    def x1(self) -> float:
        return self.glyphs[-1].x1

    @property
    def top(self) -> float:
        return min(g.top for g in self.glyphs)

    @property
    def bottom(self) -> float:
        return max(g.bottom for g in self.glyphs)

    @property
    def size(self) -> float:
        return max(g.size for g in self.glyphs)

    @property
    def width(self) -> float:
        return self.x1 - self.x0


def is_cjk(ch: str) -> bool:
    """CJK ideographs, kana, full-width forms and CJK punctuation: joined without spaces."""
    code = ord(ch[0]) if ch else 0
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFE30 <= code <= 0xFE4F
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x3FFFF
        or ch in "“”‘’…—·□■○●△▲√×"
    )


def is_bad_glyph(text: str) -> bool:
    """An unmapped glyph: pdfminer's ``(cid:N)``, private-use code points or U+FFFD."""
    if text.startswith("(cid:"):
        return True
    return any(0xE000 <= ord(ch) <= 0xF8FF or ord(ch) >= 0xF0000 or ch == "\ufffd" for ch in text)


def build_lines(glyphs: Iterable[Glyph]) -> list[Line]:
    """Group glyphs into lines by their vertical centre, each line sorted left to right."""
    ordered = sorted(glyphs, key=lambda g: (g.cy, g.x0))
    lines: list[Line] = []
    current: list[Glyph] = []
    line_cy = line_size = 0.0
    for glyph in ordered:
        if current and abs(glyph.cy - line_cy) <= 0.45 * max(line_size, glyph.size):
            current.append(glyph)
            line_size = max(line_size, glyph.size)
            continue
        if current:
            lines.extend(_make_line(current))
        current, line_cy, line_size = [glyph], glyph.cy, glyph.size
    if current:
        lines.extend(_make_line(current))
    return lines


def _make_line(glyphs: list[Glyph]) -> list[Line]:
    """A line from unordered glyphs: sorted, duplicates (fake bold) dropped, spaces trimmed."""
    row: list[Glyph] = []
    for glyph in sorted(glyphs, key=lambda g: g.x0):
        if row and _is_overprint(row[-1], glyph):
            continue
        row.append(glyph)
    start, end = 0, len(row)
    while start < end and row[start].text.isspace():
        start += 1
    while end > start and row[end - 1].text.isspace():
        end -= 1
    if start == end:
        return []
    kept = row[start:end]
    return [Line(kept, _line_text(kept), trailing_space=end < len(row), leading_space=start > 0)]


def _is_overprint(a: Glyph, b: Glyph) -> bool:
    """The same visible glyph drawn again almost on top (fake bold, shadow)."""
    return a.text == b.text and not a.text.isspace() and abs(a.x0 - b.x0) < 0.15 * b.size


def _line_text(glyphs: list[Glyph]) -> str:
    """Glyph texts, with a space where a visible gap stands for a space the file did not draw."""
    parts = [glyphs[0].text]
    for prev, glyph in pairwise(glyphs):
        if not prev.text.isspace() and not glyph.text.isspace():
            gap = glyph.x0 - prev.x1
            both_cjk = is_cjk(prev.text) and is_cjk(glyph.text)
            if gap > (1.0 if both_cjk else 0.25) * max(prev.size, glyph.size):
                parts.append(" ")
        parts.append(glyph.text)
    return "".join(parts)


def break_allowed(a: str, b: str) -> bool:
    """May a line wrap between characters ``a`` and ``b``? (The UAX #14 rules that matter here.)"""
    if a.isspace():
        return True
    if b.isspace() or b in CLOSING or a in OPENING or a in QUOTES or b in QUOTES:
        return False
    if a == b and a in "—…":
        return False
    if _is_latin(a) and _is_latin(b):
        return a in BREAKABLE_AFTER
    if a in FULL_STOPS and b.isdigit():
        return False
    return not (a in NUMERIC_PREFIX and is_cjk(b))


def is_ideograph(ch: str) -> bool:
    """Han ideographs and kana (not punctuation): where Asian/Latin auto-spacing applies."""
    code = ord(ch[0]) if ch else 0
    return 0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or code >= 0x20000


def is_mixed_script_boundary(a: str, b: str) -> bool:
    """Ideograph next to a Latin letter or digit: layout engines add a little space there."""
    return (is_ideograph(a) and b.isascii() and b.isalnum()) or (
        a.isascii() and a.isalnum() and is_ideograph(b)
    )


def autospace_width(lines: Iterable[Line]) -> float:
    """The extra space the producer put between ideographs and Latin text (median seen; 0 if none)."""
    gaps = sorted(
        b.x0 - a.x1
        for line in lines
        for a, b in pairwise(line.glyphs)
        if is_mixed_script_boundary(a.text, b.text)
    )
    return max(gaps[len(gaps) // 2], 0.0) if gaps else 0.0


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isprintable() and not ch.isspace()


def leading_unit_width(line: Line) -> float:
    """Width of a line's first unbreakable unit: what would have had to fit on the line before."""
    glyphs = line.glyphs
    width = glyphs[0].width
    for a, b in pairwise(glyphs):
        if b.text.isspace() or break_allowed(a.text, b.text):
            break
        width += b.width
    return width


def line_is_full(line: Line, following: Line, area: tuple[float, float], autospace: float = 0.0) -> bool:
    """Would the start of ``following`` not have fitted at the end of ``line``? Then it wrapped.

    ``area`` is the (left, right) extent text may take. A line is full when its width plus the
    next line's first unbreakable unit exceeds the area's width, or, for a paragraph whose first
    line is indented and whose next line starts at the left edge, when it reaches the right edge.
    """
    left, right = area
    need = leading_unit_width(following)
    if is_mixed_script_boundary(line.text[-1], following.text[0]):
        need += autospace
    if line.width + need > right - left - 0.01:
        return True
    indented = following.x0 <= left + 1.0 and line.x0 - following.x0 > 0.5 * line.size
    return indented and line.x1 + need > right - 0.01


def joiner(prev: Line, nxt: Line) -> str:
    """What goes between two wrapped lines: nothing for CJK, a space between Latin words."""
    if prev.trailing_space or nxt.leading_space:
        return " "
    a, b = prev.text[-1], nxt.text[0]
    if is_cjk(a) or is_cjk(b):
        return ""
    if a.isalnum() and b.isalnum() and " " in prev.text:
        return " "
    return ""


def join_lines(lines: list[Line], area: tuple[float, float], autospace: float = 0.0) -> str:
    """Join the lines of a cell: wrapped lines run on, explicit breaks stay newlines."""
    if not lines:
        return ""
    parts = [lines[0].text]
    for prev, nxt in pairwise(lines):
        parts.append(joiner(prev, nxt) if line_is_full(prev, nxt, area, autospace) else "\n")
        parts.append(nxt.text)
    return "".join(parts)


def cluster(values: Iterable[float], tolerance: float = GRID_TOLERANCE) -> list[float]:
    """Sorted representatives of values, merging those closer than ``tolerance``."""
    groups: list[list[float]] = []
    for value in sorted(values):
        if groups and value - groups[-1][-1] <= tolerance:
            groups[-1].append(value)
        else:
            groups.append([value])
    return [sum(g) / len(g) for g in groups]


def nearest(grid: list[float], value: float) -> int:
    """Index of the grid line nearest to ``value``."""
    i = bisect.bisect_left(grid, value)
    if i == 0:
        return 0
    if i == len(grid):
        return len(grid) - 1
    return i if grid[i] - value < value - grid[i - 1] else i - 1


def union_bbox(boxes: Iterable[BBox]) -> BBox:
    x0s, tops, x1s, bottoms = zip(*boxes, strict=True)
    return (min(x0s), min(tops), max(x1s), max(bottoms))


def _round_box(box: Iterable[float]) -> BBox:
    x0, top, x1, bottom = (round(float(v), 2) for v in box)
    return (x0, top, x1, bottom)


# ---------------------------------------------------------------------------------------------
# Tables on one page


@dataclass(slots=True)
class PartCell:
    """A cell of a table part on the part's own grid (row/col ranges are half-open)."""

    r0: int
    r1: int
    c0: int
    c1: int
    bbox: BBox
    text: str = ""
    pages: tuple[int, int] = (0, 0)
    lines: list[Line] = field(default_factory=list)
    area: tuple[float, float] = (0.0, 0.0)
    """Left and right limits of text in this cell (the cell less its padding)."""
    tail_gap: float | None = None
    """Space between the last text line and the cell's bottom (None without text)."""


@dataclass(slots=True)
class TablePart:
    """A ruled table as found on one page."""

    page: int
    bbox: BBox
    xs: list[float]
    ys: list[float]
    cells: list[PartCell]
    order: int = 0
    open_above: bool = False
    """First table on its page with only page furniture above it."""
    open_below: bool = False
    """Last table on its page with only page furniture below it."""
    title: str | None = None
    autospace: float = 0.0
    """Extra space between ideographs and Latin text in this table (see ``autospace_width``)."""

    @property
    def n_rows(self) -> int:
        return len(self.ys) - 1

    @property
    def n_cols(self) -> int:
        return len(self.xs) - 1


def part_from_boxes(boxes: list[BBox], page: int) -> TablePart | None:
    """Rebuild a part's grid from its cell boxes; holes become empty cells; None if not a table."""
    xs = cluster([b[0] for b in boxes] + [b[2] for b in boxes])
    ys = cluster([b[1] for b in boxes] + [b[3] for b in boxes])
    if len(xs) < 2 or len(ys) < 2 or (len(xs) - 1) * (len(ys) - 1) < 2:
        return None
    occupied: set[tuple[int, int]] = set()
    cells: list[PartCell] = []
    for box in sorted(boxes, key=lambda b: (b[1], b[0])):
        r0, r1, c0, c1 = nearest(ys, box[1]), nearest(ys, box[3]), nearest(xs, box[0]), nearest(xs, box[2])
        slots = {(r, c) for r in range(r0, r1) for c in range(c0, c1)}
        if not slots or slots & occupied:
            continue
        occupied |= slots
        cells.append(PartCell(r0, r1, c0, c1, _round_box(box), pages=(page, page)))
    for r in range(len(ys) - 1):
        for c in range(len(xs) - 1):
            if (r, c) not in occupied:
                box = (xs[c], ys[r], xs[c + 1], ys[r + 1])
                cells.append(PartCell(r, r + 1, c, c + 1, _round_box(box), pages=(page, page)))
    cells.sort(key=lambda cell: (cell.r0, cell.c0))
    return TablePart(page=page, bbox=union_bbox(c.bbox for c in cells), xs=xs, ys=ys, cells=cells)


def fill_part_text(part: TablePart, glyphs: list[Glyph]) -> None:
    """Assign glyphs to the cell holding their centre and set every cell's text."""
    owner: dict[tuple[int, int], int] = {}
    for index, cell in enumerate(part.cells):
        for r in range(cell.r0, cell.r1):
            for c in range(cell.c0, cell.c1):
                owner[(r, c)] = index
    per_cell: list[list[Glyph]] = [[] for _ in part.cells]
    for glyph in glyphs:
        r = min(max(bisect.bisect_right(part.ys, glyph.cy) - 1, 0), part.n_rows - 1)
        c = min(max(bisect.bisect_right(part.xs, glyph.cx) - 1, 0), part.n_cols - 1)
        per_cell[owner[(r, c)]].append(glyph)
    cell_lines = [build_lines(g) for g in per_cell]
    pad = _cell_padding(part.cells, cell_lines)
    part.autospace = autospace_width(line for lines in cell_lines for line in lines)
    for cell, lines in zip(part.cells, cell_lines, strict=True):
        lines.sort(key=lambda line: line.top)
        cell.lines, cell.area = lines, (cell.bbox[0] + pad, cell.bbox[2] - pad)
        cell.text = join_lines(lines, cell.area, part.autospace)
        cell.tail_gap = cell.bbox[3] - max(line.bottom for line in lines) if lines else None


def _cell_padding(cells: list[PartCell], cell_lines: list[list[Line]]) -> float:
    """The table's cell padding: the smallest gap between any text line and its cell's sides."""
    gaps = [
        min(line.x0 - cell.bbox[0], cell.bbox[2] - line.x1)
        for cell, lines in zip(cells, cell_lines, strict=True)
        for line in lines
    ]
    return min(max(min(gaps, default=2.0), 0.0), 6.0)


# ---------------------------------------------------------------------------------------------
# Merging parts across pages


def continues(prev: TablePart, nxt: TablePart) -> bool:
    """Is ``nxt`` the same table as ``prev``, carried over to the next page?"""
    if nxt.page != prev.page + 1 or not (prev.open_below and nxt.open_above):
        return False
    if abs(prev.bbox[0] - nxt.bbox[0]) > FRAME_TOLERANCE or abs(prev.bbox[2] - nxt.bbox[2]) > FRAME_TOLERANCE:
        return False
    inner_a, inner_b = prev.xs[1:-1], nxt.xs[1:-1]
    if not inner_a or not inner_b:
        return True
    matched = sum(1 for x in inner_b if abs(inner_a[nearest(inner_a, x)] - x) <= FRAME_TOLERANCE)
    return matched >= 0.5 * min(len(inner_a), len(inner_b))


def group_parts(parts: list[TablePart]) -> list[list[TablePart]]:
    """Consecutive parts that continue each other, in document order."""
    groups: list[list[TablePart]] = []
    for part in parts:
        if groups and continues(groups[-1][-1], part):
            groups[-1].append(part)
        else:
            groups.append([part])
    return groups


@dataclass(slots=True)
class _Grid:
    """A merged table under construction on the global column grid."""

    xs: list[float]
    cells: list[PartCell] = field(default_factory=list)
    n_rows: int = 0

    def place(self, part: TablePart) -> list[PartCell]:
        """The part's cells moved to global columns (rows still the part's own)."""
        cols = [nearest(self.xs, x) for x in part.xs]
        return [
            PartCell(c.r0, c.r1, cols[c.c0], cols[c.c1], c.bbox, c.text, c.pages, c.lines, c.area, c.tail_gap)
            for c in part.cells
            if cols[c.c1] > cols[c.c0]
        ]

    def repeated_header_rows(self, cells: list[PartCell], n_rows: int) -> int:
        """How many leading rows of a continuation repeat the table's first rows (0 if none)."""
        best = 0
        for rows in range(1, min(n_rows, self.n_rows) // 2 + 1):
            mine = [c for c in self.cells if c.r0 < rows]
            theirs = [c for c in cells if c.r0 < rows]
            if any(c.r1 > rows for c in mine + theirs):
                continue
            if not any(c.text.strip() for c in theirs):
                break
            if _signature(mine) != _signature(theirs):
                break
            best = rows
        return best

    def append(self, part: TablePart) -> None:
        """Append a part below the rows so far, dropping repeated headers and joining cut cells."""
        cells = self.place(part)
        skip = self.repeated_header_rows(cells, part.n_rows) if self.cells else 0
        offset, boundary = self.n_rows - skip, self.n_rows
        cells = [c for c in sorted(cells, key=lambda c: (c.r0, c.c0)) if c.r0 >= skip]
        for cell in cells:
            cell.r0, cell.r1 = cell.r0 + offset, cell.r1 + offset
        first_row = [c for c in cells if c.r0 == boundary] if self.cells else []
        joined = self._continued_cells(first_row, part.autospace)
        for cell in cells:
            above = joined.get(id(cell))
            if above is not None:
                extend_cell(above, cell)
            else:
                self.cells.append(cell)
        self.n_rows = part.n_rows + offset
        if first_row and not any(c.r0 == boundary for c in self.cells):
            self._drop_row(boundary)

    def _continued_cells(self, first_row: list[PartCell], autospace: float) -> dict[int, PartCell]:
        """Cells of the row after a page break that continue a cell above: id(cell) -> that cell.

        A row whose cells are all either empty or text running on from the cell above is a row
        split by the page break: all of it joins the row above. Otherwise each cell is judged
        alone: text that runs on from text cut at the bottom above (``text_at_bottom``), or an
        empty continuation of a merged cell (``continues_empty``).
        """
        aboves = [self._cell_above(cell) for cell in first_row]
        runs_on = [
            above is not None and bool(cell.text.strip()) and text_runs_on(above, cell, autospace)
            for cell, above in zip(first_row, aboves, strict=True)
        ]
        flows = [
            run and above is not None and text_at_bottom(above)
            for run, above in zip(runs_on, aboves, strict=True)
        ]
        split_row = any(runs_on) and all(
            above is not None and (run or not cell.text.strip())
            for cell, above, run in zip(first_row, aboves, runs_on, strict=True)
        )
        joined: dict[int, PartCell] = {}
        left_continued = True
        for cell, above, flow in zip(first_row, aboves, flows, strict=True):
            if above is not None and (split_row or flow or continues_empty(above, cell, left_continued)):
                joined[id(cell)] = above
            else:
                left_continued = False
        return joined

    def _drop_row(self, row: int) -> None:
        """Remove a grid row no cell starts in (every cell there continues from above)."""
        for cell in self.cells:
            if cell.r1 > row:
                cell.r1 -= 1
            if cell.r0 > row:
                cell.r0 -= 1
        self.n_rows -= 1

    def _cell_above(self, cell: PartCell) -> PartCell | None:
        """The cell ending right above ``cell`` over exactly the same columns."""
        return next(
            (c for c in self.cells if c.r1 == cell.r0 and c.c0 == cell.c0 and c.c1 == cell.c1),
            None,
        )


def continues_empty(above: PartCell, below: PartCell, left_continued: bool) -> bool:
    """Is the empty ``below`` (first row after a page break) the rest of the merged cell ``above``?

    Yes when either spans rows on its page, or when every cell to its left in the row continues
    too and ``above`` has text (a merged label column cut by the break).
    """
    if below.text.strip():
        return False
    if above.r1 - above.r0 > 1 or below.r1 - below.r0 > 1:
        return True
    return left_continued and bool(above.text.strip())


def text_runs_on(above: PartCell, below: PartCell, autospace: float) -> bool:
    """Could ``below``'s text continue ``above``'s? (The last line above is full.)"""
    if not above.lines or not below.lines:
        return False
    return line_is_full(above.lines[-1], below.lines[0], above.area, autospace)


def text_at_bottom(cell: PartCell) -> bool:
    """Does the cell's text reach its bottom, as text cut by a page break does?"""
    return cell.tail_gap is not None and cell.tail_gap <= TAIL_GAP_SHARE * cell.lines[-1].size


def extend_cell(above: PartCell, below: PartCell) -> None:
    """Make ``above`` cover ``below``'s rows too, its text running on where it was cut."""
    if below.text.strip():
        above.text += joiner(above.lines[-1], below.lines[0]) + below.text
        above.lines = above.lines + below.lines
    above.tail_gap = below.tail_gap
    above.r1 = below.r1
    above.pages = (above.pages[0], below.pages[1])


def _signature(cells: list[PartCell]) -> list[tuple[int, int, int, int, str]]:
    """Positions, spans and whitespace-free texts of cells, to compare header rows."""
    return sorted((c.r0, c.r1, c.c0, c.c1, "".join(c.text.split())) for c in cells)


def merge_group(group: list[TablePart]) -> Table:
    """One Table from the parts of a table spread over consecutive pages."""
    grid = _Grid(xs=cluster((x for part in group for x in part.xs), FRAME_TOLERANCE))
    for part in group:
        grid.append(part)
    first = group[0]
    cells = [
        Cell(
            row=c.r0,
            col=c.c0,
            row_span=c.r1 - c.r0,
            col_span=c.c1 - c.c0,
            text=c.text,
            bbox=c.bbox,
            confidence=text_confidence(c.text),
            source=f"p{c.pages[0]}" if c.pages[0] == c.pages[1] else f"p{c.pages[0]}-p{c.pages[1]}",
        )
        for c in sorted(grid.cells, key=lambda c: (c.r0, c.c0))
    ]
    pages = [part.page for part in group]
    return Table(
        order=first.order,
        page=first.page,
        pages=pages,
        bbox=first.bbox,
        reader=READER,
        n_rows=grid.n_rows,
        n_cols=len(grid.xs) - 1,
        cells=cells,
        title=first.title,
        source=f"p{pages[0]}" if len(pages) == 1 else f"p{pages[0]}-p{pages[-1]}",
    )


def text_confidence(text: str) -> float:
    """1.0 for text read from the text layer; lower where glyphs had no Unicode mapping."""
    return UNMAPPED_CONFIDENCE if "\ufffd" in text else 1.0


def page_parts(table: Table) -> list[Table]:
    """A merged table cut back into the rows shown on each page (spans clipped; a cell's text stays
    on the page where the cell starts, its continuation on later pages is empty)."""
    row_page: dict[int, int] = {}
    for cell in table.cells:
        row_page.setdefault(cell.row, _first_page(cell.source) or table.page or 0)
    parts: list[Table] = []
    for page in table.pages:
        rows = sorted(r for r, p in row_page.items() if p == page)
        if not rows:
            continue
        r0, r1 = rows[0], rows[-1] + 1
        cells = [
            cell.model_copy(
                update={
                    "row": max(cell.row, r0) - r0,
                    "row_span": min(cell.row + cell.row_span, r1) - max(cell.row, r0),
                    "text": cell.text if cell.row >= r0 else "",
                }
            )
            for cell in table.cells
            if max(cell.row, r0) < min(cell.row + cell.row_span, r1)
        ]
        parts.append(
            Table(
                index=table.index,
                page=page,
                pages=[page],
                reader=table.reader,
                n_rows=r1 - r0,
                n_cols=table.n_cols,
                cells=cells,
                source=f"p{page}",
            )
        )
    return parts


def _first_page(source: str | None) -> int | None:
    match = re.match(r"p(\d+)", source or "")
    return int(match.group(1)) if match else None


def merge_parts(parts: list[TablePart]) -> list[Table]:
    """Tables of the document from the per-page parts, numbered from 1."""
    tables = [merge_group(group) for group in group_parts(parts)]
    for index, table in enumerate(tables, start=1):
        table.index = index
    return tables


# ---------------------------------------------------------------------------------------------
# Page text


@dataclass(slots=True)
class Paragraph:
    lines: list[Line]
    furniture: bool = False

    @property
    def bbox(self) -> BBox:
        return union_bbox((ln.x0, ln.top, ln.x1, ln.bottom) for ln in self.lines)

    @property
    def text(self) -> str:
        parts = [self.lines[0].text]
        for prev, nxt in pairwise(self.lines):
            parts.append(joiner(prev, nxt))
            parts.append(nxt.text)
        return "".join(parts)


def is_furniture(line: Line, page_height: float) -> bool:
    """A page number in the top or bottom margin band."""
    in_margin = line.bottom < 0.1 * page_height or line.top > 0.9 * page_height
    return in_margin and bool(PAGE_NUMBER.match(line.text))


def build_paragraphs(lines: list[Line], page_height: float) -> list[Paragraph]:
    """Join wrapped lines into paragraphs: a full line runs on into a non-indented next line.

    The text block's extent is that of the page's body lines; page numbers are paragraphs of
    their own (``furniture``).
    """
    body = [ln for ln in lines if not is_furniture(ln, page_height)]
    area = (min((ln.x0 for ln in body), default=0.0), max((ln.x1 for ln in body), default=0.0))
    autospace = autospace_width(body)
    paragraphs: list[Paragraph] = []
    for line in sorted(lines, key=lambda ln: (ln.top, ln.x0)):
        if is_furniture(line, page_height):
            paragraphs.append(Paragraph([line], furniture=True))
        elif paragraphs and not paragraphs[-1].furniture and _runs_on(paragraphs[-1], line, area, autospace):
            paragraphs[-1].lines.append(line)
        else:
            paragraphs.append(Paragraph([line]))
    return paragraphs


def _runs_on(paragraph: Paragraph, line: Line, area: tuple[float, float], autospace: float) -> bool:
    """Does ``line`` continue the paragraph? Same size, close below, the last line full, and
    ``line`` not indented (or both centred, as a wrapped title)."""
    prev = paragraph.lines[-1]
    size = max(prev.size, line.size)
    gap = line.top - prev.bottom
    if abs(prev.size - line.size) > 0.15 * size or not -0.5 * size <= gap <= 1.5 * size:
        return False
    if not line_is_full(prev, line, area, autospace):
        return False
    left = min(ln.x0 for ln in paragraph.lines)
    centred = abs((prev.x0 + prev.x1) - (line.x0 + line.x1)) <= size
    return line.x0 <= left + 0.5 * size or centred


# ---------------------------------------------------------------------------------------------
# One page


@dataclass(slots=True)
class PageResult:
    """What one page gives before the document is assembled."""

    page: Page
    parts: list[TablePart]
    paragraphs: list[Paragraph]
    problem: str | None = None
    """Why the page needs OCR (None when its text layer is usable)."""
    unmapped: int = 0
    """Glyphs without a Unicode mapping, kept as U+FFFD."""
    notes: list[str] = field(default_factory=list)
    """Warnings about this page."""


def glyphs_of(chars: list[dict[str, Any]]) -> list[Glyph]:
    """pdfplumber char dicts to glyphs; control characters and other whitespace than " " dropped."""
    glyphs = []
    for ch in chars:
        text = ch.get("text") or ""
        if text != " " and (not text or not text.isprintable() or text.isspace()):
            continue
        glyphs.append(
            Glyph(
                text=text,
                x0=float(ch["x0"]),
                x1=float(ch["x1"]),
                top=float(ch["top"]),
                bottom=float(ch["bottom"]),
                size=float(ch.get("size") or (ch["bottom"] - ch["top"]) or 1.0),
            )
        )
    return glyphs


def text_layer_problem(glyphs: list[Glyph], images: list[dict[str, Any]], area: float) -> str | None:
    """Why this page's text layer cannot be used (None when it can)."""
    visible = [g for g in glyphs if not g.text.isspace()]
    if not visible:
        return "no text layer (no characters)"
    bad = sum(1 for g in visible if is_bad_glyph(g.text))
    if bad > BAD_GLYPH_SHARE * len(visible):
        return "unusable text layer (unmapped glyphs: (cid:…) or private-use)"
    image_area = max((float(i["width"]) * float(i["height"]) for i in images), default=0.0)
    if len(visible) < 20 and area > 0 and image_area > 0.5 * area:
        return "page is an image with almost no text layer"
    return None


def rulings_of(page: Any) -> list[Ruling]:
    """Drawn lines and the edges of rectangles, in page coordinates (top-left origin)."""
    rulings = [
        Ruling(x0=ln["x0"], y0=ln["top"], x1=ln["x1"], y1=ln["bottom"], width=float(ln.get("linewidth") or 0))
        for ln in page.lines[:MAX_RULINGS_PER_PAGE]
    ]
    for rect in page.rects[:MAX_RULINGS_PER_PAGE]:
        x0, top, x1, bottom = (float(rect[k]) for k in ("x0", "top", "x1", "bottom"))
        width = float(rect.get("linewidth") or 0)
        if bottom - top <= 2:
            rulings.append(
                Ruling(x0=x0, y0=(top + bottom) / 2, x1=x1, y1=(top + bottom) / 2, width=bottom - top)
            )
        elif x1 - x0 <= 2:
            rulings.append(Ruling(x0=(x0 + x1) / 2, y0=top, x1=(x0 + x1) / 2, y1=bottom, width=x1 - x0))
        elif rect.get("stroke"):
            rulings += [
                Ruling(x0=x0, y0=top, x1=x1, y1=top, width=width),
                Ruling(x0=x0, y0=bottom, x1=x1, y1=bottom, width=width),
                Ruling(x0=x0, y0=top, x1=x0, y1=bottom, width=width),
                Ruling(x0=x1, y0=top, x1=x1, y1=bottom, width=width),
            ]
    return rulings[:MAX_RULINGS_PER_PAGE]


def too_many_rulings(edges: list[dict[str, Any]]) -> bool:
    """Would table finding on these edges blow up (pdfplumber intersects every pair)?"""
    if len(edges) > MAX_TABLE_EDGES:
        return True
    xs = {round(float(e["x0"])) for e in edges if e.get("orientation") == "v"}
    ys = {round(float(e["top"])) for e in edges if e.get("orientation") == "h"}
    return len(xs) * len(ys) > MAX_GRID_SLOTS


def visible_part(page: Any) -> Any:
    """The page without invisible drawings (white backgrounds), cropped to its box when the file
    also draws outside it."""
    page = page.filter(is_visible)
    x0, top, x1, bottom = (float(v) for v in page.bbox)
    for obj in (*page.chars, *page.lines, *page.rects):
        if obj["x1"] < x0 - 1 or obj["x0"] > x1 + 1 or obj["bottom"] < top - 1 or obj["top"] > bottom + 1:
            return page.crop(page.bbox)
    return page


def is_visible(obj: dict[str, Any]) -> bool:
    """False for drawings that leave no mark: unstroked white fills, white strokes."""
    kind = obj.get("object_type")
    if kind == "rect" or kind == "curve":
        stroked = obj.get("stroke") and not is_white(obj.get("stroking_color"))
        filled = obj.get("fill") and not is_white(obj.get("non_stroking_color"))
        return bool(stroked or filled)
    if kind == "line":
        return not is_white(obj.get("stroking_color"))
    return True


def is_white(color: Any) -> bool:
    """Is a pdfminer colour value white (gray 1, RGB 1,1,1 or CMYK 0,0,0,0)?"""
    if not isinstance(color, tuple | list) or not all(isinstance(v, int | float) for v in color):
        return False
    if len(color) == 4:
        return all(v <= 0.01 for v in color)
    return len(color) in (1, 3) and all(v >= 0.99 for v in color)


def read_page(page: Any) -> PageResult:
    """Everything one pdfplumber page gives: text, rulings and table parts."""
    page = visible_part(page)
    number = int(page.page_number)
    width, height = float(page.width), float(page.height)
    model = Page(number=number, width=round(width, 2), height=round(height, 2), rulings=rulings_of(page))
    glyphs = glyphs_of(page.chars)
    problem = text_layer_problem(glyphs, page.images, width * height)
    if problem:
        model.needs_ocr = True
        return PageResult(model, [], [], problem)
    unmapped = sum(1 for g in glyphs if is_bad_glyph(g.text))
    if unmapped:
        glyphs = [_clean_glyph(g) for g in glyphs]
    notes: list[str] = []
    if too_many_rulings(page.edges):
        notes.append(
            f"page {number}: too many ruling lines to look for tables; its text is read as paragraphs"
        )
        parts = []
    else:
        parts = [p for t in page.find_tables(TABLE_SETTINGS) if (p := part_from_boxes(t.cells, number))]
    outside = _fill_parts(parts, glyphs)
    paragraphs = build_paragraphs(build_lines(outside), height)
    _mark_open_sides(parts, paragraphs)
    for part in parts:
        part.title = _title_above(part, paragraphs)
    return PageResult(model, parts, paragraphs, unmapped=unmapped, notes=notes)


def _clean_glyph(glyph: Glyph) -> Glyph:
    if not is_bad_glyph(glyph.text):
        return glyph
    return Glyph("\ufffd", glyph.x0, glyph.x1, glyph.top, glyph.bottom, glyph.size)


def _fill_parts(parts: list[TablePart], glyphs: list[Glyph]) -> list[Glyph]:
    """Give each part the glyphs centred inside it; return the glyphs outside every part."""
    inside: list[list[Glyph]] = [[] for _ in parts]
    outside: list[Glyph] = []
    for glyph in glyphs:
        for i, part in enumerate(parts):
            x0, top, x1, bottom = part.bbox
            if x0 <= glyph.cx <= x1 and top <= glyph.cy <= bottom:
                inside[i].append(glyph)
                break
        else:
            outside.append(glyph)
    for part, mine in zip(parts, inside, strict=True):
        fill_part_text(part, mine)
    return outside


def _mark_open_sides(parts: list[TablePart], paragraphs: list[Paragraph]) -> None:
    """Which parts touch the page's top or bottom with only furniture between (may continue)."""
    if not parts:
        return
    body = [p.bbox for p in paragraphs if not p.furniture]
    parts.sort(key=lambda p: p.bbox[1])
    first, last = parts[0], parts[-1]
    first.open_above = not any(b[3] <= first.bbox[1] + 1 for b in body)
    last.open_below = not any(b[1] >= last.bbox[3] - 1 for b in body)


def _title_above(part: TablePart, paragraphs: list[Paragraph]) -> str | None:
    """The title printed right above the table (up to two title-like lines, unit notes skipped)."""
    above = sorted(
        (p for p in paragraphs if not p.furniture and p.bbox[3] <= part.bbox[1] + 1),
        key=lambda p: p.bbox[3],
        reverse=True,
    )
    found: list[str] = []
    edge = part.bbox[1]
    for para in above:
        text = para.text.strip()
        if edge - para.bbox[3] > 3 * max(ln.size for ln in para.lines):
            break
        edge = para.bbox[1]
        if META_LINE.search(text) and not found:
            continue
        if not _looks_like_title(text, para.bbox, part.bbox):
            break
        found.insert(0, text)
        if len(found) == 2:
            break
    return "".join(found) or None


def _looks_like_title(text: str, box: BBox, table_box: BBox) -> bool:
    """Short, not a sentence nor a "label：value" line, and centred over the table or naming a table."""
    if not text or len(text) > 60 or text[-1] in SENTENCE_END or "：" in text or ":" in text:
        return False
    visible = [ch for ch in text if not ch.isspace()]
    if sum(ch.isalpha() for ch in visible) < 2 or sum(ch.isdigit() for ch in visible) > len(visible) / 2:
        return False
    table_cx, table_w = (table_box[0] + table_box[2]) / 2, table_box[2] - table_box[0]
    centred = abs((box[0] + box[2]) / 2 - table_cx) <= 0.1 * table_w
    return centred or any(word in text for word in TITLE_WORDS)


# ---------------------------------------------------------------------------------------------
# The document


def _open(data: bytes) -> Any:
    """Open the PDF or raise a ReaderError saying why it cannot be read."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    if not data.strip():
        raise ReaderError("the file is empty", "empty")
    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfplumber wraps every pdfminer failure in PdfminerException
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise ReaderError("the PDF is encrypted (password-protected)", "encrypted") from exc
        raise ReaderError(f"the PDF is corrupt or truncated: {_describe(cause)}", "corrupt") from exc


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _close(pdf: Any) -> None:
    """Release the document (``pdf.close()`` would first build every page object)."""
    pdf.flush_cache()
    pdf.stream.close()


def _declared_page_count(pdf: Any) -> int | None:
    """The page count the page tree declares (used only when reading stopped early)."""
    from pdfminer.pdftypes import resolve1

    try:
        count = resolve1(resolve1(pdf.doc.catalog.get("Pages")).get("Count"))
    except Exception:  # a damaged page tree just leaves the count unknown
        return None
    return count if isinstance(count, int) and count >= 0 else None


def _page_ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> '1-3, 5'."""
    ranges: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        ranges.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(ranges)


def place_in_body(result: PageResult, order: Iterator[int]) -> list[TablePart]:
    """Give the page's paragraphs (as TextItems on its page) and table parts their body order.

    Glyph data no longer needed is dropped, so memory does not grow with the page count: only
    the cells of a part's first and last rows keep their lines, for joining across pages.
    """
    entries: list[Paragraph | TablePart] = [*result.paragraphs, *result.parts]
    for entry in sorted(entries, key=lambda e: (e.bbox[1], e.bbox[0])):
        if isinstance(entry, TablePart):
            entry.order = next(order)
            for cell in entry.cells:
                if cell.r0 > 0 and cell.r1 < entry.n_rows:
                    cell.lines = []
            continue
        text = entry.text
        result.page.items.append(
            TextItem(
                text=text,
                page=result.page.number,
                order=next(order),
                bbox=_round_box(entry.bbox),
                reader=READER,
                style="page-number" if entry.furniture else None,
                confidence=text_confidence(text),
            )
        )
    result.paragraphs = []
    return result.parts


def read(data: bytes, path: Path, *, max_pages: int = DEFAULT_MAX_PAGES) -> Document:
    """Read a text-layer PDF into the document model (see the module docstring).

    Raises ``ReaderError`` with code ``empty``, ``encrypted`` or ``corrupt`` for a file that cannot
    be read at all; damaged pages are kept as pages needing OCR, with a warning.
    """
    started = time.perf_counter()
    pdf = _open(data)
    doc = Document(
        source=SourceInfo(
            path=str(path), sha256=hashlib.sha256(data).hexdigest(), format="pdf", size=len(data)
        )
    )
    try:
        parts, truncated = _read_pages(pdf, doc, max_pages)
        total = len(doc.pages)
        if truncated:
            declared = _declared_page_count(pdf)
            total = max(total, declared or 0)
            doc.warnings.append(
                f"only the first {max_pages} pages were read (the file has {declared or 'more'} pages)"
            )
    finally:
        _close(pdf)
    doc.source.pages = total
    doc.tables = merge_parts(parts)
    doc.timings[READER] = round(time.perf_counter() - started, 4)
    return doc


def _read_pages(pdf: Any, doc: Document, max_pages: int) -> tuple[list[TablePart], bool]:
    """Read pages one at a time, closing each; returns the table parts and whether pages were left.

    A page whose content cannot be parsed is kept as a page needing OCR.
    """
    from pdfminer.pdfpage import PDFPage

    parts: list[TablePart] = []
    order = count(1)
    needs_ocr: dict[str, list[int]] = {}
    pages = PDFPage.create_pages(pdf.doc)
    truncated = False
    while True:
        try:
            page_obj = next(pages, None)
        except Exception as exc:  # a broken page tree: keep what was read, or fail if nothing was
            if not doc.pages:
                raise ReaderError(f"the PDF's page tree is unreadable: {_describe(exc)}", "corrupt") from exc
            doc.warnings.append(f"pages after {len(doc.pages)} could not be read: {_describe(exc)}")
            break
        if page_obj is None:
            break
        if len(doc.pages) >= max_pages:
            truncated = True
            break
        result = _read_one(pdf, page_obj, len(doc.pages) + 1, doc.warnings)
        doc.pages.append(result.page)
        if result.problem:
            needs_ocr.setdefault(result.problem, []).append(result.page.number)
        doc.warnings += result.notes
        if result.unmapped:
            doc.warnings.append(
                f"page {result.page.number}: {result.unmapped} glyphs without a Unicode mapping (U+FFFD)"
            )
        parts += place_in_body(result, order)
    if not doc.pages:
        raise ReaderError("the PDF has no pages", "corrupt")
    for problem, numbers in needs_ocr.items():
        label = "page" if len(numbers) == 1 else "pages"
        doc.warnings.append(f"{label} {_page_ranges(numbers)}: {problem}; needs OCR")
    return parts, truncated


def content_too_large(page_obj: Any, limit: int) -> bool:
    """Would the page's content streams inflate beyond ``limit`` bytes? (A guard against
    compression bombs: pdfminer inflates streams whole.) Inflation here stops at the limit."""
    from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFStream, resolve1

    total = 0
    for ref in page_obj.contents:
        stream = resolve1(ref)
        if not isinstance(stream, PDFStream):
            continue
        raw = stream.data if stream.data is not None else stream.rawdata or b""
        filters = stream.get_filters() if stream.data is None else []
        if filters and filters[0][0] in LITERALS_FLATE_DECODE:
            try:
                raw = zlib.decompressobj().decompress(raw, limit - total + 1)
            except zlib.error:  # encrypted or damaged: pdfminer will deal with it
                continue
        total += len(raw)
        if total > limit:
            return True
    return False


def _read_one(pdf: Any, page_obj: Any, number: int, warnings: list[str]) -> PageResult:
    """One page, closed afterwards; a page pdfminer cannot parse comes back as needing OCR."""
    from pdfplumber.page import Page as PlumberPage

    page = None
    try:
        if content_too_large(page_obj, MAX_CONTENT_BYTES):
            problem = f"content streams larger than {MAX_CONTENT_BYTES >> 20} MiB inflated, not read"
            return PageResult(Page(number=number, needs_ocr=True), [], [], problem)
        page = PlumberPage(pdf, page_obj, page_number=number)
        return read_page(page)
    except Exception as exc:  # pdfminer raises many types on damaged page dictionaries and streams
        warnings.append(f"page {number}: content could not be parsed ({_describe(exc)}); needs OCR")
        return PageResult(Page(number=number, needs_ocr=True), [], [])
    finally:
        if page is not None:
            page.close()
