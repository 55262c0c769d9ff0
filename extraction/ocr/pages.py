"""OCR of pages without usable text: scanned PDF pages, image files, rendered pictures.

``ocr_document(doc, data, engine)`` fills every page marked ``needs_ocr`` with text items (one per
paragraph, outside tables), the ruling lines found in its pixels and its tables (reader ``ocr``),
and merges tables continued across pages. One page at a time:

1. **raster** – the page image (:mod:`zhibiao.ocr.raster`): a scan's own pixels, or a rendering.
2. **deskew** – the skew of ruling lines (or text rows) is measured and removed.
3. **rulings** – horizontal/vertical lines by morphology (:mod:`zhibiao.ocr.table_grid`), then
   painted out so they are neither detected nor read as ``1`` or ``|``.
4. **detect** – text lines are detected on a reduced copy of the inked part of the page only
   (blank margins are skipped); a page whose lines stand upright or read upside down is turned.
5. **tables** – grids rebuilt from the rulings (:mod:`zhibiao.tables.grid`); a detected line that
   crosses a cell border is cut there *before* recognition, and each piece is clipped to its cell.
6. **recognize** – all line crops of the page in one batched call.
7. **assemble** – pieces placed into cells (text joined as the grid module does for EMF/PDF);
   borderless tables found among the rest (:mod:`zhibiao.ocr.borderless`: aligned rows, and the
   ``table`` regions of the **layout** model, :mod:`zhibiao.ocr.layout`, which runs only when the
   text outside ruled grids shows two rows of two or more pieces); the rest joined into paragraphs.

Coordinates: every bbox is in the page's own unit – PDF points (top-left origin) for PDF pages,
pixels for image files – measured on the deskewed page (a skew of a degree moves points by at most
a few units). ``Page.width``/``height`` are set in that unit when the reader left them empty.

Confidence: a text item's confidence is the lowest OCR confidence of its lines; a cell's is the
lowest confidence of the pieces read into it (0.9 at most where the grid builder had to guess a
line break), an empty cell's 1.0. Values with a low confidence are for review downstream.

Engines that cannot run detection and recognition separately (``faster-paddle``, ``paddleocr``)
read the line-free page in one call; their lines are cut at cell borders by the grid module from
estimated character widths instead.
"""

from __future__ import annotations

import itertools
import math
import re
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from zhibiao.errors import ReaderError, ZhibiaoError
from zhibiao.model import BBox, Cell, Document, Page, Ruling, Table, TextItem
from zhibiao.ocr.engines import (
    DEFAULT_ENGINE,
    OcrEngine,
    OcrLine,
    Quad,
    TwoStageEngine,
    crop_quad,
    get_engine,
    quad_bbox,
)
from zhibiao.ocr.layout import Region as LayoutRegion
from zhibiao.ocr.raster import (
    PageImage,
    deskew,
    image_frames,
    metafile_bitmaps,
    render_pdf_pages,
    rotate_quarter,
)
from zhibiao.ocr.table_grid import detect_rulings, erase_lines, find_table_grids, grid_options, longest_run
from zhibiao.tables.grid import Grid, TextPiece, fill_grid

TABLE_READER = "ocr"
MIN_CONFIDENCE = 0.3
"""Recognised pieces below this confidence are noise (specks, border fragments) and dropped."""
REVIEW_CONFIDENCE = 0.8
"""Values read with less confidence than this should be reviewed."""
UPRIGHT_SAMPLE = 24
IMAGE_FORMATS = {"png", "jpeg", "tiff", "bmp", "gif"}

PAGE_FURNITURE = re.compile(
    r"^[\s\-—–－_·•一]*(第\s*)?\d{1,5}(\s*页)?(\s*/\s*(共\s*)?\d{1,5}\s*页?)?[\s\-—–－_·•一]*$"
)
"""A page number line such as ``—1—``, ``- 12 -``, ``第3页`` (OCR reads a dash as 一 too)."""


# ---------------------------------------------------------------------------------------------
# Results of one page


@dataclass(slots=True)
class Piece:
    """One recognised piece of text on a page: a detected line, or the part of it in one cell."""

    id: int
    text: str
    bbox: BBox
    """Page units."""
    confidence: float
    note: str = ""
    """Evidence of a correction made to the recognised text (empty when none)."""


@dataclass(slots=True)
class PageOcr:
    """What OCR found on one page, in page units."""

    number: int
    width: float
    height: float
    pieces: list[Piece]
    rulings: list[Ruling]
    tables: list[Table]
    grids: list[Grid]
    """The grid of each table (same order)."""
    paragraphs: list[TextItem]
    skew: float = 0.0
    quarter_turns: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    layout: list[LayoutRegion] = field(default_factory=list)
    """Layout regions (kind, page-unit box, score) where the layout model ran (:func:`page_layout`)."""


class _Clock:
    """Adds the seconds of each stage to a dict."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._last
        self._last = now


# ---------------------------------------------------------------------------------------------
# Geometry helpers


def det_scale(page: PageImage) -> float:
    """Reduction for detection: text at about 100 dpi (or a 1600 px long side when dpi is unknown)."""
    if page.dpi:
        return float(min(1.0, 100.0 / page.dpi))
    return float(min(1.0, 1600.0 / max(page.image.shape[:2])))


TYPICAL_LINE_PT = 14.5
"""Height of a detected line box of body text (10.5 pt type), in points."""


def estimate_px_per_pt(heights: Sequence[float]) -> float | None:
    """Pixels per point of an image of unknown density, from its detected line heights (pixels)."""
    if len(heights) < 3:
        return None
    return float(min(max(np.median(heights) / TYPICAL_LINE_PT, 0.5), 8.0))


def units_per_point(page: PageImage) -> float:
    """Page units per typographic point (1 for PDF pages; dpi/72 for pixels)."""
    dpi = page.dpi or 200.0
    return page.unit_per_px * dpi / 72.0


def ink_box(gray: np.ndarray, margin: int) -> tuple[int, int, int, int] | None:
    """Pixel box around the page's ink, grown by ``margin``; None for a blank page.

    Measured on a 4x reduced copy (area-averaged, so thin strokes still darken their block);
    lone specks of dust do not widen the box (a row or column needs ink in two blocks).
    """
    import cv2

    step = 4
    h, w = gray.shape[:2]
    if h < 2 * step or w < 2 * step:
        return (0, 0, w, h)
    small = cv2.resize(gray, (w // step, h // step), interpolation=cv2.INTER_AREA)
    paper = float(np.percentile(small, 90))
    ink = small < paper - 25
    rows = np.flatnonzero(ink.sum(axis=1) >= 2)
    cols = np.flatnonzero(ink.sum(axis=0) >= 2)
    if rows.size == 0 or cols.size == 0:
        return None
    x0, x1 = max(0, cols[0] * step - margin), min(w, (cols[-1] + 1) * step + margin)
    y0, y1 = max(0, rows[0] * step - margin), min(h, (rows[-1] + 1) * step + margin)
    return int(x0), int(y0), int(x1), int(y1)


def _box_of(quad: Quad, factor: float) -> BBox:
    x0, y0, x1, y1 = quad_bbox(quad)
    return (x0 * factor, y0 * factor, x1 * factor, y1 * factor)


def _upright_share(quads: Sequence[Quad]) -> float:
    """Share of the clearly elongated line boxes that stand upright (a page turned by 90°)."""
    tall = wide = 0
    for quad in quads:
        x0, y0, x1, y1 = quad_bbox(quad)
        w, h = x1 - x0, y1 - y0
        if h > 2 * w:
            tall += 1
        elif w > 2 * h:
            wide += 1
    return tall / (tall + wide) if tall + wide >= 3 else 0.0


# ---------------------------------------------------------------------------------------------
# Cutting detected lines at cell borders


def _grid_row(grid: Grid, y: float) -> int | None:
    if not grid.ys[0] <= y <= grid.ys[-1]:
        return None
    for r in range(grid.n_rows):
        if y <= grid.ys[r + 1]:
            return r
    return grid.n_rows - 1


def cut_at_borders(box: BBox, grids: Sequence[Grid], pad: float) -> list[BBox]:
    """The box cut where it crosses drawn vertical cell borders, each part kept clear of the
    border by ``pad``; a part too narrow to hold a character is dropped."""
    x0, y0, x1, y1 = box
    height = y1 - y0
    cy = (y0 + y1) / 2
    for grid in grids:
        row = _grid_row(grid, cy)
        if row is None or x1 <= grid.xs[0] or x0 >= grid.xs[-1]:
            continue
        cuts = [
            grid.xs[k] for k in range(len(grid.xs)) if x0 < grid.xs[k] < x1 and (row, k) in grid.v_borders
        ]
        if not cuts:
            return [box]
        parts = []
        edges = [x0, *cuts, x1]
        for left, right in itertools.pairwise(edges):
            a = left + pad if left in cuts else left
            b = right - pad if right in cuts else right
            if b - a >= 0.35 * height:
                parts.append((a, y0, b, y1))
        return parts
    return [box]


LONE_STROKES = {"1", "l", "I", "|", "丨", "!", "7", "i"}
SLASH_SLANT = 8.0
"""Degrees from vertical beyond which a lone stroke leaning right is a ``/``, not a ``1``."""


def stroke_slant(crop: np.ndarray) -> float:
    """Lean of the ink in a crop, degrees from vertical (positive: top leans right, as in ``/``)."""
    ink = crop < max(int(np.percentile(crop, 95)) - 60, 40)
    ys, xs = np.nonzero(ink)
    if len(xs) < 8 or np.ptp(ys) < 4:
        return 0.0
    slope = np.polyfit(ys.astype(np.float64), xs.astype(np.float64), 1)[0]
    return math.degrees(math.atan(-slope))


def lone_stroke(text: str, crop: np.ndarray) -> tuple[str, str]:
    """Recognisers read a lone ``/`` (the "not applicable" mark of score cells) as ``1``: a
    single upright-stroke reading whose ink leans right is corrected, with the evidence."""
    if text not in LONE_STROKES or not slash_shape(crop):
        return text, ""
    return "/", f"read {text!r}, one stroke leaning {stroke_slant(crop):.0f}° -> '/'"


OPERATOR_LIKE = {
    ">",
    "<",
    "≥",
    "≤",
    "⩾",
    "⩽",
    "=",
    "＝",
    "二",
    "V",
    "N",
    "M",
    "IV",
    "W",
    "Z",
    "〉",
    "〈",
    "》",
    "《",
    "3",
    "2",
}
"""What recognisers make of a lone comparison operator printed in a cell."""


def _runs(line: np.ndarray) -> int:
    """Number of separate ink runs along a row or column."""
    on = line.astype(np.int8)
    return int(np.count_nonzero(np.diff(on) == 1) + on[0])


def glyph_ink(crop: np.ndarray) -> np.ndarray | None:
    """The ink of a one-glyph crop cut to its box, specks dropped (None when there is no ink)."""
    import cv2

    if crop.size == 0:
        return None
    ink = (crop < max(int(np.percentile(crop, 95)) - 60, 40)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    total = stats[1:, cv2.CC_STAT_AREA].sum() if n > 1 else 0
    keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 0.04 * total]
    if total < 10 or not keep:
        return None
    mask = np.isin(labels, keep)
    ys, xs = np.nonzero(mask)
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _equal_bars(ink: np.ndarray) -> bool:
    """Two stacked bars of (nearly) the same length: ``=``, not the numeral ``二`` (short top bar)."""
    rows = ink.any(axis=1)
    split = int(np.flatnonzero(~rows)[0]) if (~rows).any() else ink.shape[0] // 2
    top, bottom = ink[:split].any(axis=0).sum(), ink[split:].any(axis=0).sum()
    return bool(min(top, bottom) >= 0.88 * max(top, bottom))


def operator_shape(crop: np.ndarray) -> str | None:
    """The comparison operator drawn in a crop, from its shape, or None when it is not one.

    ``=`` is two flat bars (every column crosses two runs of ink); ``>``/``<`` a chevron whose
    rows' ink moves right then left (or the reverse); a second stroke under its lower arm
    (columns of the lower half crossing two runs) makes it ``≥``/``≤`` (also the slanted ``⩾``).
    """
    ink = glyph_ink(crop)
    if ink is None:
        return None
    height, width = ink.shape
    if height < 4 or width < 5 or width > 4 * height or height > 2.5 * width:
        return None
    col_runs = [_runs(ink[:, x]) for x in range(width)]
    if sum(1 for r in col_runs if r == 2) >= 0.7 * width and _runs(ink.any(axis=1)) == 2 and _equal_bars(ink):
        return "="
    if width > 2.5 * height:
        return None
    centres = np.array([np.flatnonzero(row).mean() if row.any() else np.nan for row in ink])
    upper = centres[: max(2, int(0.75 * height))]
    if np.isnan(upper).any():
        return None
    apex = int(np.argmax(upper)) if upper.max() - upper[0] > upper[0] - upper.min() else int(np.argmin(upper))
    swing = abs(upper[apex] - upper[0])
    if swing < 0.35 * width or not 0.15 * height <= apex <= 0.7 * height:
        return None
    greater = upper[apex] > upper[0]
    lower = col_runs_below(ink, apex)
    barred = sum(1 for r in lower if r >= 2) >= 0.3 * width
    if barred:
        return "≥" if greater else "≤"
    return ">" if greater else "<"


def col_runs_below(ink: np.ndarray, row: int) -> list[int]:
    """Ink runs of every column counted below ``row`` only."""
    part = ink[row + 1 :]
    return [_runs(part[:, x]) for x in range(part.shape[1])] if part.size else []


def operator_check(text: str, crop: np.ndarray) -> tuple[str, str]:
    """A lone operator read from a cell, checked against its shape (recognisers confuse ``≥`` with
    ``>``, ``=`` with ``二`` and read ``≥`` as ``V`` or ``N``); corrected with the evidence."""
    if text not in OPERATOR_LIKE:
        return text, ""
    shape = operator_shape(crop)
    if shape is None or shape == text:
        return text, ""
    return shape, f"read {text!r}, shape is {shape!r}"


SHAPE_CONFIDENCE = 0.85
"""Confidence of an operator or ``/`` whose reading its shape makes or confirms (recognisers give
lone symbols low scores even when they read them right)."""
SHAPE_CHECKED = frozenset({"≥", "≤", "=", ">", "<", "/"})


STRAY_MARK = re.compile(r"^[.,，。·、'`]+(?=\d+(?:\.\d+)?%?$)")
STRAY_LEAD = re.compile(r"^[.,·'`](?=[\u4e00-\u9fff])")
"""A speck read before an ideograph at the start of a line (``·优``): no word starts so."""
STRAY_TAIL = re.compile(r"(?<=[)）\]】])[.,·'`]$")
"""A speck read after a closing bracket at the end of a line (``(万元).``)."""


def stray_mark(text: str) -> tuple[str, str]:
    """A speck of dust or a border remnant read as punctuation: before a lone number (``.10``),
    before the first ideograph of a line (``·优``) or after a closing bracket (``(万元).``)."""
    for pattern, where in ((STRAY_MARK, "leading"), (STRAY_LEAD, "leading"), (STRAY_TAIL, "trailing")):
        match = pattern.search(text)
        if match and len(text) > len(match.group()):
            fixed = text[: match.start()] + text[match.end() :]
            return fixed, f"read {text!r}, {where} {match.group()!r} dropped"
    return text, ""


def slash_shape(crop: np.ndarray) -> bool:
    """A single thin stroke leaning right: the ``/`` of a "not applicable" cell."""
    ink = glyph_ink(crop)
    if ink is None or ink.shape[0] < 6 or ink.shape[1] > 0.8 * ink.shape[0]:
        return False
    widest = max(longest_run(row) for row in ink)
    if any(_runs(row) > 1 for row in ink) or widest > max(3, 0.5 * ink.shape[1]):
        return False  # two strokes in a row, or a bar (the top of a 7)
    return stroke_slant(crop) >= SLASH_SLANT


def shape_reading(crop: np.ndarray) -> str | None:
    """What a lone symbol is from its shape alone: an operator or ``/`` (None otherwise)."""
    shape = operator_shape(crop)
    if shape is None and slash_shape(crop):
        return "/"
    return shape


def checked_piece(
    n: int, text: str, conf: float, box: BBox, crop: np.ndarray, recovered: bool
) -> Piece | None:
    """A recognised crop as a piece, lone strokes and operators checked against their ink.

    ``recovered`` crops come from cells where detection found nothing; there a failed or
    low-confidence reading is still checked for an operator shape.
    """
    if text and conf >= MIN_CONFIDENCE:
        fixed, note = lone_stroke(text, crop)
        if not note:
            fixed, note = operator_check(fixed, crop)
        if not note:
            fixed, note = stray_mark(fixed)
        if fixed in SHAPE_CHECKED and (note or shape_reading(crop) == fixed):
            conf = max(conf, SHAPE_CONFIDENCE)  # the ink's shape confirms (or made) the reading
        return Piece(n, fixed, _round_box(box), round(conf, 4), note)
    if recovered:
        shape = shape_reading(crop)
        if shape is not None:
            return Piece(
                n, shape, _round_box(box), SHAPE_CONFIDENCE, f"read {text!r} ({conf:.2f}), shape is {shape!r}"
            )
    return None


def ink_in_empty_cells(
    grids: Sequence[Grid], boxes: Sequence[BBox], clean: np.ndarray, u: float, upp: float
) -> list[BBox]:
    """Boxes around the ink of cells where detection found nothing (page units).

    The detector misses lone thin symbols (``/``, ``-``, ``≥``) and single digits at reduced
    size; a cell with no detected line but with character-sized ink gets that ink read as well.
    """
    import cv2

    found: set[tuple[int, int, int]] = set()
    for box in boxes:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        for g, grid in enumerate(grids):
            loc = grid.locate(cx, cy)
            if loc is not None:
                found.add((g, *loc))
                break
    extra: list[BBox] = []
    inset, min_height, line_height = 1.5 * upp, 4.0 * upp, 11.0 * upp
    for g, grid in enumerate(grids):
        for r, c, rs, cs in grid.regions:
            if any((g, rr, cc) in found for rr in range(r, r + rs) for cc in range(c, c + cs)):
                continue
            x0, y0, x1, y1 = grid.region_bbox((r, c, rs, cs))
            px = [int((x0 + inset) / u), int((y0 + inset) / u), int((x1 - inset) / u), int((y1 - inset) / u)]
            if px[2] - px[0] < 4 or px[3] - px[1] < 4:
                continue
            patch = clean[px[1] : px[3], px[0] : px[2]]
            ink = (patch < max(int(np.percentile(patch, 95)) - 60, 40)).astype(np.uint8)
            n, _labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
            keep = [
                i
                for i in range(1, n)
                if stats[i, cv2.CC_STAT_HEIGHT] * u >= min_height
                or stats[i, cv2.CC_STAT_WIDTH] * u >= 1.5 * min_height
            ]
            if not keep:
                continue
            bx0 = min(stats[i, 0] for i in keep)
            by0 = min(stats[i, 1] for i in keep)
            bx1 = max(stats[i, 0] + stats[i, 2] for i in keep)
            by1 = max(stats[i, 1] + stats[i, 3] for i in keep)
            # read at least a line's height around the ink: a dash alone is a sliver
            grow = max(2, int(0.25 * (by1 - by0)), int((line_height / u - (by1 - by0)) / 2))
            margin = max(2, int(0.25 * (by1 - by0)))
            box = (
                (px[0] + max(0, bx0 - margin)) * u,
                (px[1] + max(0, by0 - grow)) * u,
                (px[0] + min(patch.shape[1], bx1 + margin)) * u,
                (px[1] + min(patch.shape[0], by1 + grow)) * u,
            )
            extra.append(box)
    return extra


# ---------------------------------------------------------------------------------------------
# One page


def ocr_page(page: PageImage, engine: OcrEngine) -> PageOcr:
    """Read one page image: rulings, tables, text (see the module docstring for the stages)."""
    timings: dict[str, float] = {}
    clock = _Clock(timings)
    gray = page.image
    turns = 0
    for _attempt in range(2):
        gray_straight, skew = deskew(gray)
        clock.lap("deskew")
        upp = units_per_point(page)
        px_per_pt = upp / page.unit_per_px
        rulings_px, masks = detect_rulings(gray_straight, px_per_pt)
        clean = erase_lines(gray_straight, masks) if rulings_px else gray_straight
        clock.lap("rulings")
        if isinstance(engine, TwoStageEngine):
            quads = _detect(engine, clean, det_scale(page), px_per_pt)
            clock.lap("detect")
            turn = _orientation(engine, clean, quads)
            clock.lap("orient")
            if turn and _attempt == 0:
                gray, turns = rotate_quarter(gray, turn), turn
                continue
            if page.dpi is None:
                upp = _measured_upp(page, [quad_bbox(q)[3] - quad_bbox(q)[1] for q in quads], upp)
            result = _read_two_stage(page, engine, clean, quads, rulings_px, upp, clock)
        else:
            result = _read_one_call(page, engine, clean, rulings_px, upp, clock)
        result.skew, result.quarter_turns = skew, turns
        result.timings = timings
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def _measured_upp(page: PageImage, heights: Sequence[float], default: float) -> float:
    """Units per point of a page of unknown density, from its text line heights (else ``default``)."""
    estimate = estimate_px_per_pt(heights)
    return estimate * page.unit_per_px if estimate else default


def _detect(engine: TwoStageEngine, clean: np.ndarray, scale: float, px_per_pt: float) -> list[Quad]:
    """Line polygons (pixels) detected on the inked part of the page only."""
    box = ink_box(clean, margin=int(6 * px_per_pt))
    if box is None:
        return []
    x0, y0, x1, y1 = box
    quads = engine.detect(clean[y0:y1, x0:x1], scale)
    return [tuple((x + x0, y + y0) for x, y in q) for q in quads]  # type: ignore[misc]


def _orientation(engine: TwoStageEngine, clean: np.ndarray, quads: list[Quad]) -> int:
    """Quarter turns (counter-clockwise) that make the page upright: 0 when it already is."""
    if not quads:
        return 0
    if _upright_share(quads) > 0.6:
        turned = rotate_quarter(clean, 1)
        sample = _sample_crops(turned, [_turn_quad(q, clean.shape, 1) for q in quads])
        probs = engine.upside_down(sample)
        return 3 if probs and float(np.mean(probs)) > 0.5 else 1
    sample = _sample_crops(clean, quads)
    probs = engine.upside_down(sample)
    if len(probs) >= 3 and float(np.mean(probs)) > 0.7:
        return 2
    return 0


def _turn_quad(quad: Quad, shape: tuple[int, ...], turns: int) -> Quad:
    """Where a polygon lands after ``np.rot90(image, turns)`` (one counter-clockwise quarter)."""
    _h, w = shape[:2]
    assert turns == 1
    pts = [(y, w - x) for x, y in quad]
    return (pts[1], pts[2], pts[3], pts[0])


def _sample_crops(image: np.ndarray, quads: Sequence[Quad]) -> list[np.ndarray]:
    """Crops of the widest lines (the most telling for the orientation classifier)."""
    ranked = sorted(quads, key=lambda q: -(quad_bbox(q)[2] - quad_bbox(q)[0]))
    crops = [crop_quad(image, q) for q in ranked[:UPRIGHT_SAMPLE]]
    return [c for c in crops if c.shape[0] >= 8 and c.shape[1] >= 2 * c.shape[0]]


def _read_two_stage(
    page: PageImage,
    engine: TwoStageEngine,
    clean: np.ndarray,
    quads: list[Quad],
    rulings_px: list[Ruling],
    upp: float,
    clock: _Clock,
) -> PageOcr:
    u = page.unit_per_px
    rulings = [_scale_ruling(r, u) for r in rulings_px]
    grids = find_table_grids(rulings, upp)
    clock.lap("tables")
    boxes: list[BBox] = []
    pad = 1.0 * upp
    for quad in quads:
        boxes.extend(cut_at_borders(_box_of(quad, u), grids, pad))
    detected = len(boxes)
    boxes.extend(ink_in_empty_cells(grids, boxes, clean, u, upp))
    crops = [_crop(clean, b, u) for b in boxes]
    keep = [i for i, c in enumerate(crops) if c.shape[0] >= 4 and c.shape[1] >= 4]
    results = engine.read_crops([crops[i] for i in keep])
    clock.lap("recognize")
    pieces = []
    for n, (i, (text, conf)) in enumerate(zip(keep, results, strict=True)):
        piece = checked_piece(n, text.strip(), conf, boxes[i], crops[i], recovered=i >= detected)
        if piece is not None:
            pieces.append(piece)
    return _assemble(page, pieces, rulings, grids, upp, clean, clock)


def _read_one_call(
    page: PageImage, engine: OcrEngine, clean: np.ndarray, rulings_px: list[Ruling], upp: float, clock: _Clock
) -> PageOcr:
    u = page.unit_per_px
    lines: list[OcrLine] = engine.recognize(clean)
    clock.lap("recognize")
    if page.dpi is None:
        upp = _measured_upp(page, [line.bbox[3] - line.bbox[1] for line in lines], upp)
    rulings = [_scale_ruling(r, u) for r in rulings_px]
    grids = find_table_grids(rulings, upp)
    pieces: list[Piece] = []
    boxes = [(line.text.strip(), _box_of(line.polygon, u)) for line in lines]
    per_unit = units_per_advance(boxes, grids, upp)
    for n, (line, (_text, box)) in enumerate(zip(lines, boxes, strict=True)):
        for k, (text, part) in enumerate(
            split_by_ink(line.text.strip(), box, grids, clean, u, upp, per_unit)
        ):
            piece = checked_piece(
                n * 100 + k, text, line.confidence, part, _crop(clean, part, u), recovered=False
            )
            if piece is not None:
                pieces.append(piece)
    # cells the engine left empty: only what the ink's shape says (this engine reads no crops)
    cut = [part for p in pieces for part in cut_at_borders(p.bbox, grids, upp)]
    for k, box in enumerate(ink_in_empty_cells(grids, cut, clean, u, upp), start=len(lines) * 100):
        piece = checked_piece(k, "", 0.0, box, _crop(clean, box, u), recovered=True)
        if piece is not None:
            pieces.append(piece)
    return _assemble(page, pieces, rulings, grids, upp, clean, clock)


def split_by_ink(
    text: str,
    box: BBox,
    grids: Sequence[Grid],
    clean: np.ndarray,
    u: float,
    upp: float,
    per_unit: float | None,
) -> list[tuple[str, BBox]]:
    """A recognised line cut at the cell borders it crosses, its characters shared out by ink.

    For engines that return whole lines only. Each part between borders gets the characters
    that fill its inked width at ``per_unit`` page units per character-width unit (CJK 1, others
    ~0.55; measured on the page's lines that stay in one cell), the last part the rest; without a
    measure, characters are shared in proportion to the parts' inked widths. The blank gap between
    two cells' texts takes no characters either way.
    """
    parts = cut_at_borders(box, grids, upp)
    if len(parts) < 2 or len(text) < 2:
        return [(text, box)]
    inked = []
    for part in parts:
        cols = np.flatnonzero((_crop(clean, part, u) < _INK_LEVEL).any(axis=0))
        if cols.size:
            x0, x1 = part[0] + cols[0] * u, part[0] + (cols[-1] + 1) * u
            inked.append(((x0, part[1], x1, part[3]), x1 - x0))
    if len(inked) < 2:
        return [(text, inked[0][0] if inked else box)]
    advances = np.cumsum(char_advances(text))
    scale = per_unit or sum(w for _, w in inked) / advances[-1]
    out, start, used = [], 0, 0.0
    for index, (part, width) in enumerate(inked):
        used += width / scale
        last = index == len(inked) - 1
        stop = len(text) if last else int(np.searchsorted(advances, used + 0.3, side="right"))
        stop = min(max(stop, start), len(text))
        if text[start:stop].strip():
            out.append((text[start:stop].strip(), part))
        start = stop
    return out or [(text, box)]


def units_per_advance(lines: Sequence[tuple[str, BBox]], grids: Sequence[Grid], upp: float) -> float | None:
    """Median page units per character-width unit over lines of 4+ characters inside one cell."""
    rates = [
        (box[2] - box[0]) / sum(char_advances(text))
        for text, box in lines
        if len(text) >= 4 and len(cut_at_borders(box, grids, upp)) == 1
    ]
    return float(np.median(rates)) if len(rates) >= 3 else None


_INK_LEVEL = 128


def _crop(image: np.ndarray, box: BBox, u: float) -> np.ndarray:
    """The pixels under a box given in page units."""
    return image[int(box[1] / u) : math.ceil(box[3] / u), int(box[0] / u) : math.ceil(box[2] / u)]


def _scale_ruling(r: Ruling, factor: float) -> Ruling:
    return Ruling(
        x0=r.x0 * factor, y0=r.y0 * factor, x1=r.x1 * factor, y1=r.y1 * factor, width=r.width * factor
    )


def _round_box(box: BBox) -> BBox:
    return (round(box[0], 2), round(box[1], 2), round(box[2], 2), round(box[3], 2))


# ---------------------------------------------------------------------------------------------
# Pieces -> tables and paragraphs


def char_advances(text: str) -> tuple[float, ...]:
    """Relative widths of the characters of a line: CJK and full-width 1, others about half."""
    from zhibiao.tables.grid import is_cjk

    return tuple(1.0 if is_cjk(ch) else (0.3 if ch.isspace() else 0.55) for ch in text)


def _assemble(
    page: PageImage,
    pieces: list[Piece],
    rulings: list[Ruling],
    grids: list[Grid],
    upp: float,
    clean: np.ndarray,
    clock: _Clock,
) -> PageOcr:
    """Pieces into ruled and borderless tables, the rest into paragraphs (stages ``layout``, ``assemble``)."""
    width, height = page.size
    grids = list(grids)
    text_pieces = [TextPiece(p.text, p.bbox, str(p.id), 0.0, char_advances(p.text)) for p in pieces]
    by_id = {str(p.id): p for p in pieces}
    options = grid_options(upp)
    tables: list[Table] = []
    inside: set[int] = set()
    for grid in grids:
        table = fill_grid(grid, text_pieces, options, reader=TABLE_READER, source_prefix="ocr:")
        table.page, table.pages = page.number, [page.number]
        for cell in table.cells:
            ids = _cell_ids(cell)
            inside.update(int(i) for i in ids)
            confs = [by_id[i].confidence for i in ids if i in by_id]
            if confs:
                cell.confidence = round(min([cell.confidence, *confs]), 4)
            notes = [f"{i}: {by_id[i].note}" for i in ids if i in by_id and by_id[i].note]
            if notes:
                cell.source = f"{cell.source} [{'; '.join(notes)}]"
        repair_numeric_confusions(table)
        texts = [c.confidence for c in table.cells if c.text]
        table.confidence = round(float(np.mean(texts)), 4) if texts else 1.0
        tables.append(table)
    outside = [p for p in pieces if p.id not in inside and not _in_any(p.bbox, grids)]
    clock.lap("assemble")
    layout = page_layout(clean, outside, page.unit_per_px)
    clock.lap("layout")
    for table, grid in borderless_tables(clean, outside, page, layout, list(grids)):
        tables.append(table)
        grids.append(grid)
        inside.update(int(i) for c in table.cells for i in _cell_ids(c))
    outside = [p for p in outside if p.id not in inside]
    paragraphs = build_text_items(outside, page.number, height)
    clock.lap("assemble")
    return PageOcr(page.number, width, height, pieces, rulings, tables, grids, paragraphs, layout=layout)


def page_layout(clean: np.ndarray, outside: Sequence[Piece], u: float) -> list[LayoutRegion]:
    """Layout regions of the page (:mod:`zhibiao.ocr.layout`, boxes in page units), found only where
    the text outside ruled grids shows two rows of two or more pieces and rapid-table can build what
    it finds: elsewhere no borderless table can come of it, and the model would cost ~0.07 s for nothing."""
    from zhibiao.ocr import borderless, layout

    if not borderless.available() or not borderless.may_hold_table(outside):
        return []
    return [
        replace(r, bbox=_round_box((r.bbox[0] * u, r.bbox[1] * u, r.bbox[2] * u, r.bbox[3] * u)))
        for r in layout.page_regions(clean)
    ]


def borderless_tables(
    clean: np.ndarray,
    pieces: list[Piece],
    page: PageImage,
    layout: Sequence[LayoutRegion] = (),
    grids: Sequence[Grid] = (),
) -> list[tuple[Table, Grid]]:
    """Tables without ruling lines among the pieces outside ruled grids (SLANet-plus structure,
    :mod:`zhibiao.ocr.borderless`), each with a grid of its cells' boxes; none without rapid-table.

    Candidates: blocks of aligned rows, and the layout model's ``table`` regions (page units) that
    none of the ruled ``grids`` covers; candidates sharing pieces are one table."""
    from zhibiao.ocr import borderless

    if not borderless.available():
        return []
    by_id = {p.id: p for p in pieces}
    proposed = [r.bbox for r in layout if r.kind == "table" and r.score >= borderless.LAYOUT_TABLE_SCORE]
    grid_boxes = [(g.xs[0], g.ys[0], g.xs[-1], g.ys[-1]) for g in grids]
    candidates = [*borderless.find_regions(pieces), *borderless.layout_regions(proposed, pieces, grid_boxes)]
    found = []
    for region in borderless.joined_regions(candidates, by_id):
        table = borderless.borderless_table(clean, region, by_id, page.unit_per_px)
        if table is None:
            continue
        table.page, table.pages = page.number, [page.number]
        repair_numeric_confusions(table)
        found.append((table, grid_of_cells(table)))
    return found


def grid_of_cells(table: Table) -> Grid:
    """A grid whose boundaries are the cells' box edges (for tables that draw no lines)."""
    regions = tuple((c.row, c.col, c.row_span, c.col_span) for c in table.cells)
    xs = _boundaries([(c.col, c.col + c.col_span, c.bbox[0], c.bbox[2]) for c in table.cells if c.bbox])
    ys = _boundaries([(c.row, c.row + c.row_span, c.bbox[1], c.bbox[3]) for c in table.cells if c.bbox])
    return Grid(tuple(xs[: table.n_cols + 1]), tuple(ys[: table.n_rows + 1]), regions)


def _boundaries(spans: list[tuple[int, int, float, float]]) -> list[float]:
    """Boundary k: the median edge of the cells starting or ending at k (the previous one if none)."""
    if not spans:
        return [0.0]
    edges: dict[int, list[float]] = {}
    for first, last, lo, hi in spans:
        edges.setdefault(first, []).append(lo)
        edges.setdefault(last, []).append(hi)
    out: list[float] = []
    for k in range(max(edges) + 1):
        out.append(float(np.median(edges[k])) if k in edges else (out[-1] if out else 0.0))
    return out


NUMBER_TEXT = re.compile(r"^[+-]?\d+(?:\.\d+)?%?$")
DIGIT_LOOKALIKES = str.maketrans({"l": "1", "I": "1", "L": "1", "|": "1", "O": "0", "o": "0"})
"""Letters recognisers put where a digit is printed: ``l0`` for ``10``, ``1O0%`` for ``100%``."""
NUMERIC_COLUMN_SHARE = 0.5
CONFUSION_CONFIDENCE = 0.75
"""Confidence of a number whose letters were read back as digits (the column says it is a number)."""


def numeric_columns(table: Table) -> set[int]:
    """Columns where most filled one-column cells (at least three) read as plain numbers."""
    counts: dict[int, list[bool]] = {}
    for cell in table.cells:
        text = unicodedata.normalize("NFKC", cell.text).strip()
        if cell.col_span == 1 and text:
            counts.setdefault(cell.col, []).append(bool(NUMBER_TEXT.match(text)))
    share = NUMERIC_COLUMN_SHARE
    return {col for col, flags in counts.items() if len(flags) >= 3 and np.mean(flags) >= share}


def repair_numeric_confusions(table: Table) -> list[Cell]:
    """Digits the recogniser read as look-alike letters (``l`` ``I`` ``O``) or full-width forms, put
    back in the cells of numeric columns only (the column's other cells confirm a number belongs
    there); each repair is noted in the cell's source and lowers its confidence. Returns the cells."""
    repaired = []
    for col in numeric_columns(table):
        for cell in table.cells:
            if cell.col != col or cell.col_span != 1 or not cell.text.strip():
                continue
            text = cell.text.strip()
            folded = unicodedata.normalize("NFKC", text)
            fixed = folded.translate(DIGIT_LOOKALIKES)
            if fixed == text or not NUMBER_TEXT.match(fixed) or not any(ch.isdigit() for ch in folded):
                continue
            cell.text = fixed
            cell.confidence = round(min(cell.confidence, CONFUSION_CONFIDENCE), 4)
            cell.source = f"{cell.source or ''} [read {text!r}, numeric column -> {fixed!r}]".strip()
            repaired.append(cell)
    return repaired


def _cell_ids(cell: Cell) -> list[str]:
    """Ids of the pieces read into a cell (``ocr:3,4`` less any ``[notes]`` that follow)."""
    if not cell.source or not cell.source.startswith("ocr:"):
        return []
    return [s for s in cell.source[4:].split(" [")[0].split(",") if s]


def _in_any(box: BBox, grids: Sequence[Grid]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(g.xs[0] <= cx <= g.xs[-1] and g.ys[0] <= cy <= g.ys[-1] for g in grids)


def _as_line(piece: Piece) -> object:
    """A recognised piece as a text-layer line (glyph positions estimated from character widths)."""
    from zhibiao.readers.pdf_text import Glyph, Line

    x0, top, x1, bottom = piece.bbox
    advances = char_advances(piece.text)
    scale = (x1 - x0) / (sum(advances) or 1.0)
    size = 0.8 * (bottom - top)
    glyphs, pos = [], x0
    for ch, adv in zip(piece.text, advances, strict=True):
        glyphs.append(Glyph(ch, pos, pos + adv * scale, top, bottom, size))
        pos += adv * scale
    return Line(glyphs, piece.text)


def build_text_items(pieces: Sequence[Piece], page: int, page_height: float) -> list[TextItem]:
    """Paragraphs of the page's text outside tables (wrapped lines joined), top to bottom."""
    from zhibiao.readers.pdf_text import build_paragraphs

    if not pieces:
        return []
    lines = _merge_same_line(sorted(pieces, key=lambda p: (p.bbox[1], p.bbox[0])))
    confidence = {id(line): conf for line, conf in lines}
    paragraphs = build_paragraphs([line for line, _ in lines], page_height)
    items = []
    for para in paragraphs:
        conf = min(confidence.get(id(ln), 1.0) for ln in para.lines)
        x0, top, x1, bottom = para.bbox
        furniture = para.furniture or (
            bool(PAGE_FURNITURE.match(para.text)) and (bottom < 0.1 * page_height or top > 0.9 * page_height)
        )
        items.append(
            TextItem(
                text=para.text,
                page=page,
                bbox=_round_box((x0, top, x1, bottom)),
                confidence=round(conf, 4),
                style="page-number" if furniture else None,
            )
        )
    return items


def _merge_same_line(pieces: list[Piece]) -> list[tuple[object, float]]:
    """Pieces side by side on one baseline joined into one line (with a space where there is a gap)."""
    from zhibiao.readers.pdf_text import Line

    rows: list[list[Piece]] = []
    for p in pieces:
        cy, h = (p.bbox[1] + p.bbox[3]) / 2, p.bbox[3] - p.bbox[1]
        if rows:
            last = rows[-1][-1]
            lcy, lh = (last.bbox[1] + last.bbox[3]) / 2, last.bbox[3] - last.bbox[1]
            if abs(cy - lcy) <= 0.4 * min(h, lh):
                rows[-1].append(p)
                continue
        rows.append([p])
    out: list[tuple[object, float]] = []
    for row in rows:
        row.sort(key=lambda p: p.bbox[0])
        lines = [_as_line(p) for p in row]
        glyphs = [g for ln in lines for g in ln.glyphs]  # type: ignore[attr-defined]
        text = " ".join(p.text for p in row) if len(row) > 1 else row[0].text
        if len(row) > 1:
            glyphs = _with_spaces(row, lines)
        out.append((Line(glyphs, text), min(p.confidence for p in row)))
    return out


def _with_spaces(row: list[Piece], lines: list[object]) -> list[object]:
    """Glyphs of several pieces of one line, a space glyph between neighbouring pieces."""
    from zhibiao.readers.pdf_text import Glyph

    glyphs: list[object] = []
    for index, line in enumerate(lines):
        if index:
            prev, cur = row[index - 1].bbox, row[index].bbox
            glyphs.append(Glyph(" ", prev[2], max(cur[0], prev[2]), cur[1], cur[3], 0.8 * (cur[3] - cur[1])))
        glyphs.extend(line.glyphs)  # type: ignore[attr-defined]
    return glyphs


# ---------------------------------------------------------------------------------------------
# Page images of a document


def page_images(doc: Document, data: bytes, numbers: Sequence[int]) -> Iterator[PageImage]:
    """Images of the given pages: rendered PDF pages, image frames, or the page's rendered picture."""
    fmt = doc.source.format
    wanted = set(numbers)
    if fmt == "pdf":
        yield from render_pdf_pages(data, sorted(wanted))
        return
    if fmt in IMAGE_FORMATS:
        for frame in image_frames(data):
            if frame.number in wanted:
                yield frame
        return
    if fmt in METAFILE_FORMATS and 1 in wanted:
        picture = metafile_picture(doc, data)
        if picture is not None:
            yield picture
        return
    for number in sorted(wanted):
        path = doc.page(number).image
        if path and Path(path).is_file():
            for frame in image_frames(Path(path).read_bytes()):
                frame.number = number
                yield frame
                break


METAFILE_FORMATS = ("emf", "wmf")


def metafile_picture(doc: Document, data: bytes) -> PageImage | None:
    """The largest bitmap an EMF/WMF picture draws, as its page image (a warning says so).

    A metafile without usable text is often a scan or screenshot pasted as a picture: its
    bitmap is what OCR reads. Its pixels are mapped onto the picture's frame (page units are
    points), assuming the bitmap fills the frame, as pasted pictures do.
    """
    bitmaps = metafile_bitmaps(data, doc.source.format)
    if not bitmaps:
        doc.warnings.append("the picture needs OCR but draws no bitmap to read")
        return None
    image = bitmaps[0]
    height, width = image.shape[:2]
    page = doc.pages[0] if doc.pages else None
    unit = page.width / width if page is not None and page.width else 1.0
    dpi = 72.0 / unit if unit != 1.0 else None
    if dpi is not None and not 100 <= dpi <= 600:
        dpi = None
    doc.warnings.append(f"page 1: OCR of the {width}×{height} px bitmap drawn by the picture")
    return PageImage(1, image, dpi, unit, f"{doc.source.format}-bitmap")


# ---------------------------------------------------------------------------------------------
# Tables continued across pages


def continues(prev: Table, nxt: Table, prev_open: bool, next_open: bool, tolerance: float) -> bool:
    """Is ``nxt`` the continuation of ``prev`` on the next page (same frame width and columns)?"""
    if not (prev_open and next_open) or nxt.page != (prev.page or 0) + 1:
        return False
    if not prev.bbox or not nxt.bbox:
        return False
    width_a, width_b = prev.bbox[2] - prev.bbox[0], nxt.bbox[2] - nxt.bbox[0]
    if abs(width_a - width_b) > tolerance:
        return False
    return abs(prev.bbox[0] - nxt.bbox[0]) <= 4 * tolerance


def merge_continued(
    parts: list[tuple[Table, Grid, bool, bool]],
    tolerance: float,
    pieces: Mapping[int, Mapping[str, Piece]] | None = None,
) -> list[Table]:
    """Tables of consecutive pages joined where one continues the other (pdf-text's merger reused).

    ``parts`` are (table, grid, open_above, open_below) in page order. Column boundaries of a
    continuation are shifted by the frames' offset and snapped to the first part's boundaries,
    so a scan's page-to-page shift does not invent columns. ``pieces`` (page -> piece id -> piece)
    give each cell its recognised lines, so text cut by the page break (``项目基本`` | ``情况``)
    runs on into the cell above exactly as in text-layer PDFs.
    """
    from zhibiao.readers.pdf_text import TablePart, merge_group

    groups: list[list[tuple[Table, Grid, bool, bool]]] = []
    for part in parts:
        if groups and continues(groups[-1][-1][0], part[0], groups[-1][-1][3], part[2], tolerance):
            groups[-1].append(part)
        else:
            groups.append([part])
    merged: list[Table] = []
    for group in groups:
        if len(group) == 1:
            merged.append(group[0][0])
            continue
        ref = list(group[0][1].xs)
        table_parts, confidence, sources = [], {}, {}
        for table, grid, _above, _below in group:
            shift = ref[0] - grid.xs[0]
            xs = [_snap(x + shift, ref, tolerance) for x in grid.xs]
            page_pieces = (pieces or {}).get(table.page or 0, {})
            cells = [part_cell(c, table.page or 0, page_pieces, grid) for c in table.cells]
            for c in table.cells:
                confidence[(table.page, c.bbox)] = c.confidence
                sources[(table.page, c.bbox)] = c.source
            table_parts.append(
                TablePart(
                    page=table.page or 0,
                    bbox=table.bbox or (0, 0, 0, 0),
                    xs=xs,
                    ys=list(grid.ys),
                    cells=cells,
                    order=table.order,
                    title=table.title,
                )
            )
        joined = merge_group(table_parts)
        for cell in joined.cells:
            span = cell.source or f"p{group[0][0].page}"
            page = int(span.split("-")[0][1:])
            cell.confidence = confidence.get((page, cell.bbox), 1.0)
            origin = sources.get((page, cell.bbox))
            cell.source = f"{span}:{origin}" if origin else span
        joined.reader = TABLE_READER
        texts = [c.confidence for c in joined.cells if c.text]
        joined.confidence = round(float(np.mean(texts)), 4) if texts else 1.0
        merged.append(joined)
    return merged


def part_cell(cell: Cell, page: int, pieces: Mapping[str, Piece], grid: Grid) -> object:
    """An OCR cell as a part cell of pdf-text's merger, with its text lines, text area and the
    gap below its last line (what decides whether the page break cut its text)."""
    from zhibiao.readers.pdf_text import PartCell

    bbox = cell.bbox or (0.0, 0.0, 0.0, 0.0)
    own = [pieces[i] for i in _cell_ids(cell) if i in pieces]
    trimmed = sorted((_ink_extent(p) for p in own), key=lambda p: (p.bbox[1], p.bbox[0]))
    lines = [line for line, _conf in _merge_same_line(trimmed)]
    pad = grid_padding(grid)
    return PartCell(
        cell.row,
        cell.row + cell.row_span,
        cell.col,
        cell.col + cell.col_span,
        bbox,
        cell.text,
        (page, page),
        lines,  # type: ignore[arg-type]
        (bbox[0] + pad, bbox[2] - pad),
        bbox[3] - max(p.bbox[3] for p in trimmed) if trimmed else None,
    )


DETECTION_MARGIN = 0.15
"""Detected line boxes reach about this share of their height beyond the ink on every side."""


def _ink_extent(piece: Piece) -> Piece:
    """The piece with its box shrunk to about its ink: widths decide whether a line was full, and
    the gap under the last line whether the page break cut the cell's text."""
    x0, y0, x1, y1 = piece.bbox
    trim = min(DETECTION_MARGIN * (y1 - y0), 0.25 * (x1 - x0))
    lift = DETECTION_MARGIN * (y1 - y0)
    return replace(piece, bbox=(x0 + trim, y0 + lift, x1 - trim, y1 - lift))


def grid_padding(grid: Grid) -> float:
    """Text keeps about this distance from a cell's sides: a tenth of the narrowest column, at most 4."""
    widths = [b - a for a, b in itertools.pairwise(grid.xs)]
    return min(4.0, 0.1 * min(widths)) if widths else 0.0


def _snap(x: float, ref: list[float], tolerance: float) -> float:
    best = min(ref, key=lambda r: abs(r - x))
    return best if abs(best - x) <= tolerance else x


def _open_sides(result: PageOcr, table: Table) -> tuple[bool, bool]:
    """Whether only page furniture lies above / below the table on its page."""
    body = [it.bbox for it in result.paragraphs if it.style != "page-number" and it.bbox]
    assert table.bbox is not None
    above = not any(b[3] <= table.bbox[1] + 1 for b in body)
    below = not any(b[1] >= table.bbox[3] - 1 for b in body)
    others = [t.bbox for t in result.tables if t is not table and t.bbox]
    above = above and not any(b[3] <= table.bbox[1] for b in others)
    below = below and not any(b[1] >= table.bbox[3] for b in others)
    return above, below


# ---------------------------------------------------------------------------------------------
# The document


def ocr_document(doc: Document, data: bytes, engine: str = DEFAULT_ENGINE) -> None:
    """OCR every page of ``doc`` marked ``needs_ocr`` (in place): text items, rulings, tables.

    ``data`` are the file's bytes (a PDF's pages are rendered from them, an image's frames decoded).
    A page that fails is skipped with a warning; timings per stage go to ``doc.timings``
    (``ocr.<stage>``). Table indices and body order are renumbered over the whole document.
    """
    numbers = [p.number for p in doc.pages if p.needs_ocr]
    if not numbers:
        return
    ocr = get_engine(engine)
    reader = f"ocr-{getattr(ocr, 'name', engine)}"
    results: list[PageOcr] = []
    started = time.perf_counter()
    images = page_images(doc, data, numbers)
    while True:
        tick = time.perf_counter()
        try:
            page_image = next(images)
        except StopIteration:
            break
        except ZhibiaoError as exc:
            doc.warnings.append(f"OCR stopped: {exc}")
            break
        _add_time(doc, "ocr.raster", time.perf_counter() - tick)
        try:
            result = ocr_page(page_image, ocr)
        except (ReaderError, ValueError, RuntimeError, MemoryError) as exc:
            doc.warnings.append(f"page {page_image.number}: OCR failed ({type(exc).__name__}: {exc})")
            continue
        for stage, seconds in result.timings.items():
            _add_time(doc, f"ocr.{stage}", seconds)
        results.append(result)
        _fill_page(doc.page(result.number), result, reader)
    _add_tables(doc, results)
    _add_time(doc, "ocr", time.perf_counter() - started)


def _add_time(doc: Document, stage: str, seconds: float) -> None:
    doc.timings[stage] = round(doc.timings.get(stage, 0.0) + seconds, 4)


def _fill_page(page: Page, result: PageOcr, reader: str) -> None:
    if page.width is None or page.height is None:
        page.width, page.height = result.width, result.height
    page.rulings = page.rulings + result.rulings if page.rulings else result.rulings
    for item in result.paragraphs:
        item.reader = reader
    page.items = [it for it in page.items if it.text.strip()] + result.paragraphs


def _add_tables(doc: Document, results: list[PageOcr]) -> None:
    """Append the OCR tables (continued ones merged) and renumber order and table indices."""
    parts = []
    for result in results:
        for table, grid in zip(result.tables, result.grids, strict=True):
            above, below = _open_sides(result, table)
            parts.append((table, grid, above, below))
    tolerance = 12.0 if doc.source.format == "pdf" else 24.0
    pieces = {result.number: {str(p.id): p for p in result.pieces} for result in results}
    tables = merge_continued(parts, tolerance, pieces)
    doc.tables.extend(tables)
    _renumber(doc)


def _renumber(doc: Document) -> None:
    """Body order over the whole document (page, then position) and table indices from 1."""
    entries: list[tuple[int, float, float, int, TextItem | Table]] = []
    for page in doc.pages:
        for item in page.items:
            top = item.bbox[1] if item.bbox else -1.0
            entries.append((page.number, float(item.order) if not item.bbox else 0.0, top, 0, item))
    for table in doc.tables:
        top = table.bbox[1] if table.bbox else -1.0
        entries.append((table.page or 0, float(table.order) if not table.bbox else 0.0, top, 1, table))
    entries.sort(key=lambda e: (e[0], e[1], e[2], e[3]))
    for order, entry in enumerate(entries, start=1):
        entry[4].order = order
    for index, table in enumerate(sorted(doc.tables, key=lambda t: t.order), start=1):
        table.index = index
