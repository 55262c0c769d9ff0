"""Rebuild table grids from ruling lines and place positioned text pieces in their cells.

Pure geometry, shared by every reader that sees lines and positioned text (EMF/WMF drawing
records, the PDF text layer, OCR boxes):

1. ``Ruling``s are snapped into horizontal and vertical segments (collinear pieces joined).
2. Segments that touch form line networks; each network with enough rows and columns is a
   table candidate whose row/column boundaries are the distinct segment positions.
3. The elementary cells between neighbouring boundaries are merged wherever the border
   between them is missing, and merged areas are grown to rectangles: cells with spans.
4. Text pieces (text, bbox, source) that cross a drawn border are split at that border, then
   placed by their centre and joined in reading order: pieces on one line are concatenated
   (no space between CJK characters), lines are joined with ``"\\n"`` where the break was
   written by hand and without one where the text merely wrapped at the cell's width.

Coordinates are any y-down unit (points for EMF/WMF/PDF, pixels for OCR); the tolerances in
``GridOptions`` are in that unit, so scale them (``GridOptions.scaled``) for pixel input.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from zhibiao.model import BBox, Cell, Ruling, Table

# --------------------------------------------------------------------------------------------
# Public data types


@dataclass(frozen=True, slots=True)
class TextPiece:
    """A positioned run of text: one EMF text record, one PDF word/char run, one OCR line."""

    text: str
    bbox: BBox
    source: str = ""
    """Where it came from in the medium (record index, OCR line id); listed in ``Cell.source``."""
    size: float = 0.0
    """Font em size in bbox units (0: use the bbox height)."""
    advances: tuple[float, ...] = ()
    """Advance width of every character, left to right (empty: assume equal widths)."""

    @property
    def em(self) -> float:
        return self.size if self.size > 0 else max(self.bbox[3] - self.bbox[1], 1e-6)

    @property
    def cx(self) -> float:
        return (self.bbox[0] + self.bbox[2]) / 2

    @property
    def cy(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2

    def char_edges(self) -> list[float]:
        """x of every character boundary (len(text) + 1 values), scaled to the bbox width."""
        x0, x1 = self.bbox[0], self.bbox[2]
        n = len(self.text)
        adv = self.advances if len(self.advances) == n and sum(self.advances) > 0 else (1.0,) * n
        total = sum(adv) or 1.0
        scale = (x1 - x0) / total
        edges, pos = [x0], x0
        for a in adv:
            pos += a * scale
            edges.append(pos)
        return edges


@dataclass(frozen=True, slots=True)
class GridOptions:
    """Tolerances of the reconstruction, in the unit of the input coordinates (points by default)."""

    snap: float = 1.2
    """Segments whose positions differ by less than this lie on one line."""
    join_gap: float = 2.0
    """Collinear segments separated by at most this are one segment; also the touch tolerance."""
    axis_slope: float = 0.02
    """A ruling counts as horizontal/vertical when |dy/dx| (|dx/dy|) is below this."""
    min_length: float = 2.0
    """Shorter rulings (dots, ticks) are ignored."""
    min_coverage: float = 0.5
    """A border between two cells exists when rulings cover this share of the shared edge."""
    max_swallowed: float = 0.05
    """Networks whose merged cells swallow more than this share of the drawn borders are no tables."""
    min_rows: int = 2
    min_cols: int = 2
    max_segments: int = 3000
    """Pages with more (merged) segments than this (hatching, plots) are not searched for tables."""
    max_cells: int = 40000
    """Grids with more elementary cells than this are not tables (and would cost too much)."""
    cell_padding: float = 0.0
    """Text inset from a cell's border subtracted from its width (the room a line may fill)."""
    wrap_full: float = 0.985
    """A line whose width plus the next line's first unit fills this share of the room was full."""
    wrap_room: float = 0.9
    """Below this share there was clearly room: the line was broken by hand."""
    header_chars: int = 8
    """Cells whose lines are all this short are headers (hand breaks likely)."""
    space_gap: float = 0.2
    """Gap between pieces on a line, in em, that reads as a space (Latin on both sides)."""
    cjk_space_gap: float = 1.0
    """The same where a CJK character is on either side (renderers add autospace there, and
    text runs' last advances are unreliable)."""
    title_lines: float = 4.0
    """A title is looked for within this many em above a table."""

    def scaled(self, factor: float) -> GridOptions:
        """The same options for coordinates ``factor`` times larger (e.g. pixels at 200 dpi: 200/72)."""
        return replace(
            self,
            snap=self.snap * factor,
            join_gap=self.join_gap * factor,
            min_length=self.min_length * factor,
            cell_padding=self.cell_padding * factor,
        )


@dataclass(frozen=True, slots=True)
class Grid:
    """A table's skeleton: boundaries and the merged cells (row, col, row_span, col_span)."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    regions: tuple[tuple[int, int, int, int], ...]
    v_borders: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    """(row, k): a drawn border at ``xs[k]`` over elementary row ``row``."""
    h_borders: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    """(k, col): a drawn border at ``ys[k]`` over elementary column ``col``."""

    @property
    def n_rows(self) -> int:
        return len(self.ys) - 1

    @property
    def n_cols(self) -> int:
        return len(self.xs) - 1

    @property
    def bbox(self) -> BBox:
        return (self.xs[0], self.ys[0], self.xs[-1], self.ys[-1])

    def region_bbox(self, region: tuple[int, int, int, int]) -> BBox:
        r, c, rs, cs = region
        return (self.xs[c], self.ys[r], self.xs[c + cs], self.ys[r + rs])

    def locate(self, x: float, y: float, tol: float = 0.0) -> tuple[int, int] | None:
        """Elementary (row, col) containing the point, or None outside the grid."""
        if not (self.xs[0] - tol <= x <= self.xs[-1] + tol and self.ys[0] - tol <= y <= self.ys[-1] + tol):
            return None
        col = min(max(bisect.bisect_right(self.xs, x) - 1, 0), self.n_cols - 1)
        row = min(max(bisect.bisect_right(self.ys, y) - 1, 0), self.n_rows - 1)
        return row, col


# --------------------------------------------------------------------------------------------
# Entry point


def build_tables(
    rulings: Iterable[Ruling],
    pieces: Sequence[TextPiece],
    *,
    reader: str = "",
    source_prefix: str = "",
    page: int | None = None,
    options: GridOptions | None = None,
) -> list[Table]:
    """Every table drawn by the rulings, with the text pieces placed in its cells.

    ``source_prefix`` is put before the pieces' sources in ``Cell.source`` (e.g. ``"emf:records "``).
    Tables come top to bottom, left to right, indexed from 1.
    """
    opts = options or GridOptions()
    tables: list[Table] = []
    for grid in find_grids(rulings, opts):
        table = fill_grid(grid, pieces, opts, reader=reader, source_prefix=source_prefix)
        if page is not None:
            table.page, table.pages = page, [page]
        table.index = len(tables) + 1
        tables.append(table)
    return tables


# --------------------------------------------------------------------------------------------
# Rulings -> segments -> grids


@dataclass(slots=True)
class _Seg:
    pos: float
    lo: float
    hi: float
    weight: float = 0.0


def split_rulings(rulings: Iterable[Ruling], opts: GridOptions) -> tuple[list[_Seg], list[_Seg]]:
    """Axis-aligned horizontal and vertical segments; slanted and tiny rulings are dropped."""
    hs: list[_Seg] = []
    vs: list[_Seg] = []
    for r in rulings:
        dx, dy = abs(r.x1 - r.x0), abs(r.y1 - r.y0)
        if max(dx, dy) < opts.min_length:
            continue
        if dy <= opts.axis_slope * dx:
            hs.append(_Seg((r.y0 + r.y1) / 2, min(r.x0, r.x1), max(r.x0, r.x1)))
        elif dx <= opts.axis_slope * dy:
            vs.append(_Seg((r.x0 + r.x1) / 2, min(r.y0, r.y1), max(r.y0, r.y1)))
    return merge_collinear(hs, opts), merge_collinear(vs, opts)


def merge_collinear(segs: list[_Seg], opts: GridOptions) -> list[_Seg]:
    """Snap positions closer than ``snap`` to their length-weighted mean and join overlapping runs."""
    if not segs:
        return []
    segs = sorted(segs, key=lambda s: s.pos)
    clusters: list[list[_Seg]] = [[segs[0]]]
    for s in segs[1:]:
        if s.pos - clusters[-1][-1].pos <= opts.snap:
            clusters[-1].append(s)
        else:
            clusters.append([s])
    out: list[_Seg] = []
    for cluster in clusters:
        total = sum(s.hi - s.lo for s in cluster) or 1.0
        pos = sum(s.pos * (s.hi - s.lo) for s in cluster) / total
        run: _Seg | None = None
        for s in sorted(cluster, key=lambda s: s.lo):
            if run is not None and s.lo <= run.hi + opts.join_gap:
                run.hi = max(run.hi, s.hi)
            else:
                if run is not None:
                    out.append(run)
                run = _Seg(pos, s.lo, s.hi)
        if run is not None:
            out.append(run)
    return out


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True


def _networks(hs: list[_Seg], vs: list[_Seg], tol: float) -> list[tuple[list[_Seg], list[_Seg]]]:
    """Groups of horizontal and vertical segments connected by crossings or touching ends."""
    n_h = len(hs)
    uf = _UnionFind(n_h + len(vs))
    order = sorted(range(len(vs)), key=lambda j: vs[j].pos)
    v_pos = [vs[j].pos for j in order]
    for i, h in enumerate(hs):
        start = bisect.bisect_left(v_pos, h.lo - tol)
        stop = bisect.bisect_right(v_pos, h.hi + tol)
        for j in order[start:stop]:
            v = vs[j]
            if v.lo - tol <= h.pos <= v.hi + tol:
                uf.union(i, n_h + j)
    groups: dict[int, tuple[list[_Seg], list[_Seg]]] = {}
    for i, h in enumerate(hs):
        groups.setdefault(uf.find(i), ([], []))[0].append(h)
    for j, v in enumerate(vs):
        groups.setdefault(uf.find(n_h + j), ([], []))[1].append(v)
    return list(groups.values())


def _boundaries(positions: Iterable[float], snap: float) -> list[float]:
    """Distinct sorted positions, nearer ones than ``snap`` merged."""
    out: list[float] = []
    for p in sorted(positions):
        if out and p - out[-1] <= snap:
            continue
        out.append(p)
    return out


def _covered(segs: list[_Seg], lo: float, hi: float) -> float:
    """Length of [lo, hi] covered by the (sorted, disjoint) segments."""
    total = 0.0
    for s in segs:
        if s.hi <= lo:
            continue
        if s.lo >= hi:
            break
        total += min(s.hi, hi) - max(s.lo, lo)
    return total


def find_grids(rulings: Iterable[Ruling], options: GridOptions | None = None) -> list[Grid]:
    """The table skeletons drawn by the rulings, top to bottom then left to right."""
    opts = options or GridOptions()
    hs, vs = split_rulings(rulings, opts)
    if len(hs) + len(vs) > opts.max_segments:
        return []
    grids = []
    for h_group, v_group in _networks(hs, vs, opts.join_gap):
        grid = _grid_of_network(h_group, v_group, opts)
        if grid is not None:
            grids.append(grid)
    grids.sort(key=lambda g: (round(g.ys[0], 1), g.xs[0]))
    return grids


def _grid_of_network(hs: list[_Seg], vs: list[_Seg], opts: GridOptions) -> Grid | None:
    if len(hs) < 2 or not vs:  # one inner vertical is enough when the rules' ends close the sides
        return None
    # Open sides (no outer vertical/horizontal border) still bound the table at the lines' ends.
    xs = _boundaries([v.pos for v in vs] + [min(h.lo for h in hs), max(h.hi for h in hs)], opts.snap)
    ys = _boundaries([h.pos for h in hs] + [min(v.lo for v in vs), max(v.hi for v in vs)], opts.snap)
    xs = _trim_stubs(xs, [v.pos for v in vs], opts.snap * 2)
    ys = _trim_stubs(ys, [h.pos for h in hs], opts.snap * 2)
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    if n_rows < opts.min_rows or n_cols < opts.min_cols or n_rows * n_cols > opts.max_cells:
        return None
    v_lines = _lines_at(vs, xs)
    h_lines = _lines_at(hs, ys)
    v_borders = {
        (r, k)
        for k in range(len(xs))
        for r in range(n_rows)
        if _covered(v_lines[k], ys[r], ys[r + 1]) >= opts.min_coverage * (ys[r + 1] - ys[r])
    }
    h_borders = {
        (k, c)
        for k in range(len(ys))
        for c in range(n_cols)
        if _covered(h_lines[k], xs[c], xs[c + 1]) >= opts.min_coverage * (xs[c + 1] - xs[c])
    }
    regions = _merge_cells(n_rows, n_cols, v_borders, h_borders)
    grid = Grid(tuple(xs), tuple(ys), tuple(regions), frozenset(v_borders), frozenset(h_borders))
    if swallowed_share(grid) > opts.max_swallowed:
        return None  # lines run through "merged cells": a diagram or chart, not a table
    return grid


def swallowed_share(grid: Grid) -> float:
    """Share of the drawn border length that lies inside merged cells.

    In a table a cell spans several grid slots exactly where borders are missing, so this is
    about 0; a network of lines that is not a table (diagram boxes and connectors, charts)
    only becomes rectangles by swallowing many of its lines.
    """
    xs, ys = grid.xs, grid.ys
    total = sum(ys[r + 1] - ys[r] for r, _ in grid.v_borders) + sum(
        xs[c + 1] - xs[c] for _, c in grid.h_borders
    )
    inside = 0.0
    for r0, c0, rs, cs in grid.regions:
        for r in range(r0, r0 + rs):
            inside += sum(ys[r + 1] - ys[r] for k in range(c0 + 1, c0 + cs) if (r, k) in grid.v_borders)
        for c in range(c0, c0 + cs):
            inside += sum(xs[c + 1] - xs[c] for k in range(r0 + 1, r0 + rs) if (k, c) in grid.h_borders)
    return inside / total if total > 0 else 1.0


def _trim_stubs(bounds: list[float], line_positions: list[float], tol: float) -> list[float]:
    """Drop outer boundaries that only come from line ends overshooting the outermost border."""
    if len(bounds) < 3:
        return bounds
    has_line = [any(abs(b - p) <= tol for p in line_positions) for b in bounds]
    lo, hi = 0, len(bounds) - 1
    # an end boundary without a line of its own is kept only when it opens a real (wide) strip
    if not has_line[lo] and bounds[1] - bounds[0] <= tol * 2:
        lo += 1
    if not has_line[hi] and bounds[-1] - bounds[-2] <= tol * 2:
        hi -= 1
    return bounds[lo : hi + 1]


def _lines_at(segs: list[_Seg], bounds: list[float]) -> list[list[_Seg]]:
    """Segments grouped by the boundary they lie on, sorted along it."""
    out: list[list[_Seg]] = [[] for _ in bounds]
    for s in segs:
        k = bisect.bisect_left(bounds, s.pos)
        if k == len(bounds) or (k > 0 and s.pos - bounds[k - 1] < bounds[k] - s.pos):
            k -= 1
        out[k].append(s)
    for lst in out:
        lst.sort(key=lambda s: s.lo)
    return out


def _merge_cells(
    n_rows: int, n_cols: int, v_borders: set[tuple[int, int]], h_borders: set[tuple[int, int]]
) -> list[tuple[int, int, int, int]]:
    """Rectangular cells: elementary cells joined where no border separates them."""
    uf = _UnionFind(n_rows * n_cols)
    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and (r, c + 1) not in v_borders:
                uf.union(r * n_cols + c, r * n_cols + c + 1)
            if r + 1 < n_rows and (r + 1, c) not in h_borders:
                uf.union(r * n_cols + c, (r + 1) * n_cols + c)
    # Grow every merged area to its bounding rectangle until no two rectangles overlap.
    changed = True
    while changed:
        changed = False
        boxes: dict[int, list[int]] = {}
        for i in range(n_rows * n_cols):
            r, c = divmod(i, n_cols)
            box = boxes.setdefault(uf.find(i), [r, c, r, c])
            box[0], box[1] = min(box[0], r), min(box[1], c)
            box[2], box[3] = max(box[2], r), max(box[3], c)
        for root, (r0, c0, r1, c1) in boxes.items():
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    if uf.union(root, r * n_cols + c):
                        changed = True
    regions: dict[int, list[int]] = {}
    for i in range(n_rows * n_cols):
        r, c = divmod(i, n_cols)
        box = regions.setdefault(uf.find(i), [r, c, r, c])
        box[2], box[3] = max(box[2], r), max(box[3], c)
    return sorted((r0, c0, r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in regions.values())


# --------------------------------------------------------------------------------------------
# Text pieces -> cells


def is_cjk(ch: str) -> bool:
    """Wide East Asian characters: CJK ideographs, kana, hangul, full-width forms and punctuation,
    and the quotes, dashes and ellipsis CJK fonts draw full width (no spaces next to them)."""
    if not ch or ord(ch) < 0x1100:
        return False
    width = unicodedata.east_asian_width(ch)
    return width in ("W", "F") or (width == "A" and 0x2010 <= ord(ch) <= 0x2027)


def split_at_borders(piece: TextPiece, grid: Grid) -> list[TextPiece]:
    """Cut a piece at the spaces where it crosses drawn vertical borders (two cells' texts in one run).

    Only a whitespace run near the border is a cut: text that merely overflows a border by a
    character or two (renderer metrics differ from the layout's) stays whole.
    """
    x0, _, x1, _ = piece.bbox
    loc = grid.locate(piece.cx, piece.cy)
    if loc is None or len(piece.text) < 3 or not any(ch.isspace() for ch in piece.text):
        return [piece]
    row, em = loc[0], piece.em
    borders = [
        grid.xs[k]
        for k in range(1, grid.n_cols)
        if x0 + 0.25 * em < grid.xs[k] < x1 - 0.25 * em and (row, k) in grid.v_borders
    ]
    if not borders:
        return [piece]
    edges = piece.char_edges()
    runs = _space_runs(piece.text)
    cuts: list[tuple[int, int]] = []
    for border in borders:
        best = min(runs, key=lambda run: _distance(border, edges[run[0]], edges[run[1]]))
        if _distance(border, edges[best[0]], edges[best[1]]) <= 1.5 * em and best not in cuts:
            cuts.append(best)
    if not cuts:
        return [piece]
    parts: list[TextPiece] = []
    start = 0
    for run_start, run_stop in [*sorted(cuts), (len(piece.text), len(piece.text))]:
        part = _sub_piece(piece, edges, start, run_start)
        if part is not None:
            parts.append(part)
        start = run_stop
    return parts or [piece]


def _space_runs(text: str) -> list[tuple[int, int]]:
    """[start, stop) of every run of whitespace characters."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            j = i
            while j < len(text) and text[j].isspace():
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def _distance(x: float, lo: float, hi: float) -> float:
    return 0.0 if lo <= x <= hi else min(abs(x - lo), abs(x - hi))


def _sub_piece(piece: TextPiece, edges: list[float], start: int, stop: int) -> TextPiece | None:
    """Characters [start, stop) of a piece, outer whitespace dropped."""
    text = piece.text
    while start < stop and text[start].isspace():
        start += 1
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    if start >= stop:
        return None
    adv = piece.advances[start:stop] if len(piece.advances) == len(text) else ()
    bbox = (edges[start], piece.bbox[1], edges[stop], piece.bbox[3])
    return TextPiece(text[start:stop], bbox, piece.source, piece.size, adv)


@dataclass(slots=True)
class _Line:
    pieces: list[TextPiece]

    @property
    def x0(self) -> float:
        return min(p.bbox[0] for p in self.pieces)

    @property
    def x1(self) -> float:
        return max(p.bbox[2] for p in self.pieces)

    @property
    def cy(self) -> float:
        return statistics.fmean(p.cy for p in self.pieces)

    @property
    def em(self) -> float:
        return max(p.em for p in self.pieces)


def group_lines(pieces: Iterable[TextPiece]) -> list[_Line]:
    """Pieces grouped into text lines (vertical centres within half an em), top to bottom, left to right."""
    pieces = list(pieces)
    return [_Line([pieces[i] for i in line]) for line in line_indices(pieces)]


def line_indices(pieces: Sequence[TextPiece], subset: Iterable[int] | None = None) -> list[list[int]]:
    """Indices of the pieces (or of ``subset``) grouped into lines, each sorted left to right."""
    order = sorted(
        range(len(pieces)) if subset is None else subset, key=lambda i: (pieces[i].cy, pieces[i].bbox[0])
    )
    lines: list[list[int]] = []
    line_cy = line_em = 0.0
    for i in order:
        p = pieces[i]
        if lines and abs(p.cy - line_cy) <= 0.5 * min(p.em, line_em):
            lines[-1].append(i)
            n = len(lines[-1])
            line_cy += (p.cy - line_cy) / n
            line_em = max(line_em, p.em)
        else:
            lines.append([i])
            line_cy, line_em = p.cy, p.em
    for line in lines:
        line.sort(key=lambda i: pieces[i].bbox[0])
    return lines


def join_line(line: _Line, opts: GridOptions) -> str:
    """The text of one line: pieces concatenated, a space only where the gap reads as one."""
    out = ""
    prev: TextPiece | None = None
    for p in line.pieces:
        if prev is not None and out and not out[-1].isspace() and not p.text[:1].isspace():
            gap = (p.bbox[0] - prev.bbox[2]) / min(p.em, prev.em)
            cjk_edge = is_cjk(out[-1]) or is_cjk(p.text[0])
            if gap > (opts.cjk_space_gap if cjk_edge else opts.space_gap):
                out += " "
        out += p.text
        prev = p
    return out


_OPENERS = "（([［【〔《〈「『“‘"


def _first_unit_width(line: _Line) -> float:
    """Width of what would have had to fit at the end of the line before: the next line's first
    character, or its whole first word when that is Latin (words are not broken), plus the
    autospace renderers put between CJK and Latin text."""
    first = line.pieces[0]
    text = first.text
    if not text:
        return 0.0
    edges = first.char_edges()
    end = 1
    if not is_cjk(text[0]):
        while end < len(text) and not text[end].isspace() and not is_cjk(text[end]):
            end += 1
    return edges[end] - edges[0]


def join_lines(lines: list[_Line], room: float, opts: GridOptions) -> tuple[str, bool]:
    """Cell text from its lines, and whether a line break had to be guessed.

    The break after a line is a wrap when the line was full: its width plus the next line's
    first unit (``_first_unit_width``) fills at least ``wrap_full`` of the cell's room; it was
    written by hand when that leaves clearly more room (below ``wrap_room``). In between the
    renderer's metrics cannot tell, and a hand break is assumed only on a cue: the next line is
    a short bracketed remark such as ``（万元）``, or the cell is a short header broken by hand
    elsewhere. A full line ending a sentence before the next item of a numbered list is a hand
    break too.
    """
    texts = [join_line(line, opts) for line in lines]
    if not texts:
        return "", False
    ratios = [_fill_ratio(lines[i - 1], texts[i - 1], lines[i], texts[i], room) for i in range(1, len(lines))]
    short_header = max(len(t) for t in texts) <= opts.header_chars and any(r < opts.wrap_room for r in ratios)
    out = texts[0]
    item = _enum_number(texts[0])
    ambiguous = False
    for i in range(1, len(lines)):
        prev, text, ratio = texts[i - 1], texts[i], ratios[i - 1]
        number = _enum_number(text)
        next_item = item is not None and number == item + 1 and prev.rstrip()[-1:] in _SENTENCE_END
        if ratio >= opts.wrap_full:
            hand = next_item
        elif ratio < opts.wrap_room:
            hand = True
        else:
            hand = next_item or _is_remark(prev, text) or short_header
            ambiguous = not next_item
        if hand:
            out = out.rstrip() + "\n" + text.lstrip()
            item = number if number is not None else item
        else:
            out += text if _no_space_join(out, text) else " " + text
    return out.strip(), ambiguous


def _fill_ratio(prev: _Line, prev_text: str, nxt: _Line, next_text: str, room: float) -> float:
    """Share of the room the previous line would take with the next line's first unit added."""
    unit = _first_unit_width(nxt)
    if prev_text and next_text and is_cjk(prev_text[-1]) != is_cjk(next_text[0]):
        unit += 0.25 * nxt.em
    return (prev.x1 - prev.x0 + unit) / max(room, 1e-6)


_SENTENCE_END = "。；;！？!?.…"


def _is_remark(prev: str, nxt: str) -> bool:
    """A short line in brackets after a full line: a unit or remark written on its own line."""
    return nxt[:1] in _OPENERS and prev[-1:] not in _OPENERS and len(nxt) <= 8


def _enum_number(text: str) -> int | None:
    """The number of a list item starting the text ('1.', '2、', '3）'), or None."""
    s = text.lstrip()
    digits = ""
    for ch in s[:4]:
        if not ch.isdigit():
            break
        digits += ch
    if digits and len(s) > len(digits) and s[len(digits)] in ".、．)）" and digits.isascii():
        return int(digits)
    return None


def _no_space_join(left: str, right: str) -> bool:
    if not left or not right or left[-1].isspace() or right[0].isspace():
        return True
    return is_cjk(left[-1]) or is_cjk(right[0]) or not (left[-1].isalpha() and right[0].isalpha())


def fill_grid(
    grid: Grid,
    pieces: Sequence[TextPiece],
    options: GridOptions | None = None,
    *,
    reader: str = "",
    source_prefix: str = "",
) -> Table:
    """The grid as a Table whose cells hold the text pieces that fall inside them."""
    opts = options or GridOptions()
    region_of: dict[tuple[int, int], int] = {}
    for idx, (r, c, rs, cs) in enumerate(grid.regions):
        for rr in range(r, r + rs):
            for cc in range(c, c + cs):
                region_of[(rr, cc)] = idx
    parts: list[TextPiece] = []
    homes: list[int | None] = []
    closed: set[int] = set()
    """Parts whose text ended at a space (or a cut at a border): nothing continues them."""
    for piece in pieces:
        if not piece.text.strip():
            continue
        split = split_at_borders(piece, grid)
        for k, part in enumerate(split):
            loc = grid.locate(part.cx, part.cy)
            if k < len(split) - 1 or piece.text[-1:].isspace():
                closed.add(len(parts))
            parts.append(part)
            homes.append(region_of[loc] if loc is not None else None)
    _glue_overflow(grid, parts, homes, closed)
    members: list[list[TextPiece]] = [[] for _ in grid.regions]
    for part, home in zip(parts, homes, strict=True):
        if home is not None:
            members[home].append(part)
    cells = []
    for region, inside in zip(grid.regions, members, strict=True):
        bbox = grid.region_bbox(region)
        room = bbox[2] - bbox[0] - 2 * opts.cell_padding
        text, ambiguous = join_lines(group_lines(inside), room, opts)
        sources = sorted({p.source for p in inside if p.source}, key=_source_key)
        cells.append(
            Cell(
                row=region[0],
                col=region[1],
                row_span=region[2],
                col_span=region[3],
                text=text,
                bbox=_round_bbox(bbox),
                confidence=0.9 if ambiguous else 1.0,
                source=(source_prefix + ",".join(sources)) if sources else None,
            )
        )
    title = find_title(grid, pieces, opts)
    return Table(
        reader=reader,
        n_rows=grid.n_rows,
        n_cols=grid.n_cols,
        cells=cells,
        bbox=_round_bbox(grid.bbox),
        title=title,
    )


def _glue_overflow(grid: Grid, parts: list[TextPiece], homes: list[int | None], closed: set[int]) -> None:
    """Give back to its cell the tail of a line that the renderer drew past the cell's border.

    Renderer metrics can be a few per cent wider than the layout's, so the last character(s)
    of a full line may land beyond the border, in the next cell or outside the table. Such a
    piece continues its line without a gap, stays within that overshoot, and shares no line
    with the text of the cell it landed in.
    """
    y0, y1 = grid.ys[0], grid.ys[-1]
    inside = [i for i, p in enumerate(parts) if y0 <= p.cy <= y1]
    by_home: dict[int | None, list[int]] = {}
    for i in inside:
        by_home.setdefault(homes[i], []).append(i)
    for line in line_indices(parts, inside):
        for a, b in itertools.pairwise(line):
            home, q, p = homes[a], parts[a], parts[b]
            if home is None or homes[b] == home or a in closed or not _glued(q, p):
                continue
            left, _, right, _ = grid.region_bbox(grid.regions[home])
            if p.bbox[2] - right > 0.06 * (q.bbox[2] - left) + 0.5 * p.em:
                continue
            if homes[b] is not None and any(
                k != b and abs(parts[k].cy - p.cy) <= 0.3 * p.em for k in by_home.get(homes[b], [])
            ):
                continue
            homes[b] = home


def _glued(q: TextPiece, p: TextPiece) -> bool:
    """``p`` continues ``q`` on the same baseline with no more than an autospace between them."""
    em = min(p.em, q.em)
    gap = p.bbox[0] - q.bbox[2]
    return (
        abs(p.cy - q.cy) <= 0.15 * em
        and -0.2 * em <= gap <= 0.5 * em
        and not q.text[-1:].isspace()
        and not p.text[:1].isspace()
    )


def find_title(grid: Grid, pieces: Sequence[TextPiece], opts: GridOptions) -> str | None:
    """The largest-font text line just above the table (within ``title_lines`` em), if any."""
    x0, y0, x1, _ = grid.bbox
    above = [
        p
        for p in pieces
        if p.text.strip()
        and p.bbox[3] <= y0 + 0.2 * p.em
        and p.bbox[3] >= y0 - opts.title_lines * p.em
        and p.bbox[2] > x0
        and p.bbox[0] < x1
    ]
    if not above:
        return None
    lines = group_lines(above)
    best = max(lines, key=lambda ln: (round(ln.em, 1), -ln.cy))
    # a title may wrap onto two lines of the same size: keep consecutive lines of that size
    same = [ln for ln in lines if abs(ln.em - best.em) < 0.05 * best.em]
    text = "".join(join_line(ln, opts) for ln in same).strip()
    return text or None


def _source_key(source: str) -> tuple[int, str]:
    head = source.split(",")[0].split("-")[0]
    return (int(head), source) if head.isdigit() else (1 << 62, source)


def _round_bbox(bbox: BBox) -> BBox:
    return (round(bbox[0], 2), round(bbox[1], 2), round(bbox[2], 2), round(bbox[3], 2))
