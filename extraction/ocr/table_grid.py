"""Ruling lines of bordered tables from pixels (OpenCV morphology), and the grids they draw.

The page image is thresholded (adaptive, so uneven scan brightness does no harm), then opened
with long thin structuring elements: what survives a horizontal opening is a horizontal line,
what survives a vertical one a vertical line. Each connected piece of the masks becomes a
:class:`~zhibiao.model.Ruling` (pixel coordinates). The grid itself (row/column boundaries,
missing borders -> merged cells) is rebuilt by :mod:`zhibiao.tables.grid`, the same code that
rebuilds EMF and PDF tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from zhibiao.model import Ruling
from zhibiao.tables.grid import Grid, GridOptions, find_grids

MIN_LINE_PT = 30.0
"""A ruling piece at least this long (points, about 1 cm) is a line whatever it touches."""
SHORT_LINE_PT = 7.0
"""Pieces down to this length (points) are kept where they join two long lines."""
MAX_THICKNESS_PT = 2.5
"""Printed rulings are thinner than this (points); thicker bars must be long to count."""
MAX_THICK_SHARE = 0.03
"""No ruling is thicker than this share of the image's shorter side."""
SOLID_RUN_SHARE = 0.2
"""A ruling's centre line has an unbroken run of raw ink at least this share of its length."""
MAX_ROUGHNESS = 0.2
"""A piece whose edges jump at more than this share of its length is fused text, not a line."""
THICK_LINE_RATIO = 10
"""A bar thicker than a printed line is a ruling only when this many times longer than thick."""
MAX_LINES = 5000


@dataclass(slots=True)
class LineMasks:
    """Binary masks (uint8, 255 = line) of the horizontal and vertical rulings of an image."""

    horizontal: np.ndarray
    vertical: np.ndarray
    ink: np.ndarray | None = None
    """The thresholded ink the masks were opened from (before gaps were bridged)."""

    @property
    def any(self) -> np.ndarray:
        return np.maximum(self.horizontal, self.vertical)


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """Dark strokes (255) on light paper (0), thresholded against the local mean."""
    import cv2

    block = max(31, (min(gray.shape[:2]) // 40) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12)


def line_masks(gray: np.ndarray, min_length: int) -> LineMasks:
    """Horizontal and vertical line masks: the ink that survives an opening with a line of
    ``min_length`` pixels. Small gaps along a line (faint scan, JPEG) are bridged first."""
    import cv2

    ink = ink_mask(gray)
    bridge = max(3, min_length // 8)
    masks = []
    for kernel_shape, bridge_shape in (((min_length, 1), (bridge, 1)), ((1, min_length), (1, bridge))):
        closed = cv2.morphologyEx(
            ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, bridge_shape)
        )
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, kernel_shape)
        masks.append(cv2.morphologyEx(closed, cv2.MORPH_OPEN, kernel))
    return LineMasks(horizontal=masks[0], vertical=masks[1], ink=ink)


def longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True in a 1-D boolean array."""
    if not flags.any():
        return 0
    padded = np.concatenate(([0], flags.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())


def _core(piece: np.ndarray) -> tuple[float, float, float]:
    """Thickness, centre offset and edge roughness of a line lying along axis 1 of a boolean patch.

    Medians over the columns, so text strokes touching the line (an underlined link, a character
    sitting on a border) neither thicken nor shift it. Roughness is the share of neighbouring
    columns whose top or bottom edge jumps by two pixels or more: near 0 for a ruled line, high
    for a run of small letters that the closing step fused into a bar.
    """
    counts = piece.sum(axis=0)
    used = counts > 0
    if not used.any():
        return 0.0, 0.0, 1.0
    rows = np.arange(piece.shape[0], dtype=np.float64)[:, None]
    centres = (piece * rows).sum(axis=0)[used] / counts[used]
    tops = np.argmax(piece, axis=0)[used]
    bottoms = (piece.shape[0] - 1 - np.argmax(piece[::-1], axis=0))[used]
    jumps = (np.abs(np.diff(tops)) >= 2) | (np.abs(np.diff(bottoms)) >= 2)
    roughness = float(jumps.mean()) if jumps.size else 0.0
    return float(np.median(counts[used])), float(np.median(centres)) + 0.5, roughness


def _solid(ink: np.ndarray | None, horizontal: bool, box: tuple[int, int, int, int], offset: float) -> bool:
    """Is there an unbroken stretch of raw ink along the piece's centre line?

    Small letters fused by the gap-bridging step show only their stems there (runs of a few
    pixels); a drawn line, even a faint broken one, has long runs.
    """
    if ink is None:
        return True
    x, y, bw, bh = box
    if horizontal:
        band = ink[min(y + int(offset), ink.shape[0] - 1), x : x + bw] > 0
    else:
        band = ink[y : y + bh, min(x + int(offset), ink.shape[1] - 1)] > 0
    return longest_run(band) >= min(len(band), SOLID_RUN_SHARE * len(band) + 8)


@dataclass(slots=True)
class _Piece:
    """A connected piece of a line mask: its box and the label image it comes from."""

    box: tuple[int, int, int, int]
    label: int
    labels: np.ndarray
    horizontal: bool

    @property
    def length(self) -> int:
        return self.box[2] if self.horizontal else self.box[3]

    def rough_ruling(self) -> Ruling:
        """The piece's box as a ruling through its middle (before the closer look)."""
        x, y, bw, bh = self.box
        if self.horizontal:
            return Ruling(x0=x, y0=y + bh / 2, x1=x + bw, y1=y + bh / 2, width=float(bh))
        return Ruling(x0=x + bw / 2, y0=y, x1=x + bw / 2, y1=y + bh, width=float(bw))


def mask_pieces(masks: LineMasks, thin: float) -> list[_Piece]:
    """Connected pieces of both masks that are at least twice as long as they are thin."""
    import cv2

    pieces: list[_Piece] = []
    for mask, horizontal in ((masks.horizontal, True), (masks.vertical, False)):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for i in range(1, min(n, MAX_LINES + 1)):
            x, y, bw, bh, _area = (int(v) for v in stats[i])
            length, across = (bw, bh) if horizontal else (bh, bw)
            if length >= 2 * min(across, thin):
                pieces.append(_Piece((x, y, bw, bh), i, labels, horizontal))
    return pieces


def piece_ruling(piece: _Piece, ink: np.ndarray | None, max_thickness: float, thin: float) -> Ruling | None:
    """The ruling a mask piece draws, or None when it is not a line.

    Pieces thicker than ``max_thickness`` are dropped, and so are pieces thicker than the usual
    printed line (``MAX_THICKNESS_PT``) that are not at least ``THICK_LINE_RATIO`` times longer
    than thick (bold title strokes, solid blocks), pieces with jagged edges and pieces without an
    unbroken stretch of ink along their middle (small letters fused by the gap bridging).
    """
    x, y, bw, bh = piece.box
    patch = piece.labels[y : y + bh, x : x + bw] == piece.label
    thickness, offset, roughness = _core(patch if piece.horizontal else patch.T)
    length = piece.length
    if thickness > max_thickness or (thickness > thin and length < THICK_LINE_RATIO * thickness):
        return None
    if roughness > MAX_ROUGHNESS or not _solid(ink, piece.horizontal, piece.box, offset):
        return None
    if piece.horizontal:
        return Ruling(x0=x, y0=y + offset, x1=x + bw, y1=y + offset, width=thickness)
    return Ruling(x0=x + offset, y0=y, x1=x + offset, y1=y + bh, width=thickness)


def _spans(rulings: Sequence[Ruling], horizontal: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end along their axis and position across it of rulings all running ``horizontal``."""
    if horizontal:
        rows = [(min(r.x0, r.x1), max(r.x0, r.x1), r.y0) for r in rulings]
    else:
        rows = [(min(r.y0, r.y1), max(r.y0, r.y1), r.x0) for r in rulings]
    start, end, position = np.array(rows, dtype=float).reshape(-1, 3).T
    return start, end, position


def bridging_all(shorts: list[Ruling], long_ones: list[Ruling], tol: float) -> list[bool]:
    """For each short ruling: does it run from one crossing long ruling to another?

    Text strokes that survive a short opening end in the middle of a cell; a border of a low row
    or narrow column starts and ends on the lines that bound it. Vectorised over both lists.
    """
    out = [False] * len(shorts)
    for horizontal in (True, False):
        idx = [i for i, r in enumerate(shorts) if r.horizontal == horizontal]
        cross = [r for r in long_ones if r.horizontal != horizontal]
        if not idx or not cross:
            continue
        lo, hi, pos = _spans([shorts[i] for i in idx], horizontal)
        start, stop, at = _spans(cross, not horizontal)
        spans = (start[None, :] - tol <= pos[:, None]) & (pos[:, None] <= stop[None, :] + tol)
        at_lo = (np.abs(at[None, :] - lo[:, None]) <= tol) & spans
        at_hi = (np.abs(at[None, :] - hi[:, None]) <= tol) & spans
        for k, ok in zip(idx, at_lo.any(axis=1) & at_hi.any(axis=1), strict=True):
            out[k] = bool(ok)
    return out


def detect_rulings(gray: np.ndarray, px_per_pt: float = 200 / 72) -> tuple[list[Ruling], LineMasks]:
    """The ruling lines of a grayscale image (pixels) and the mask of their pixels.

    Long pieces (at least ``MIN_LINE_PT``) are rulings outright; shorter ones (the borders of low
    rows and narrow columns) only where they bridge two long rulings. Short pieces are mostly
    text strokes, so they are first tested cheaply by their boxes.
    """
    long_px = max(12, round(MIN_LINE_PT * px_per_pt))
    short_px = max(6, round(SHORT_LINE_PT * px_per_pt))
    thin = max(4.0, MAX_THICKNESS_PT * px_per_pt)
    thick = max(thin, MAX_THICK_SHARE * min(gray.shape[:2]))
    masks = line_masks(gray, short_px)
    pieces = mask_pieces(masks, thin)
    long_ones = [r for p in pieces if p.length >= long_px and (r := piece_ruling(p, masks.ink, thick, thin))]
    tol = max(3.0, 2.5 * px_per_pt)
    short = [p for p in pieces if p.length < long_px]
    bridges = bridging_all([p.rough_ruling() for p in short], long_ones, tol)
    short_ones = [
        r
        for p, ok in zip(short, bridges, strict=True)
        if ok and (r := piece_ruling(p, masks.ink, thick, thin))
    ]
    rulings = long_ones + short_ones
    return rulings, _only(masks, rulings)


def _only(masks: LineMasks, rulings: list[Ruling], margin: int = 2) -> LineMasks:
    """The masks cut down to the pixels of the kept rulings (text strokes dropped)."""
    import cv2

    keep = np.zeros_like(masks.horizontal)
    for r in rulings:
        half = int(np.ceil(r.width / 2)) + margin
        x0, x1 = sorted((r.x0, r.x1))
        y0, y1 = sorted((r.y0, r.y1))
        if r.horizontal:
            cv2.rectangle(keep, (int(x0), int(y0) - half), (int(x1), int(y1) + half), 255, -1)
        else:
            cv2.rectangle(keep, (int(x0) - half, int(y0)), (int(x1) + half, int(y1)), 255, -1)
    return LineMasks(horizontal=masks.horizontal & keep, vertical=masks.vertical & keep)


def _length(r: Ruling) -> float:
    return max(abs(r.x1 - r.x0), abs(r.y1 - r.y0))


def grid_options(px_per_pt: float) -> GridOptions:
    """Grid tolerances for pixel coordinates at ``px_per_pt`` pixels per point (dpi / 72).

    Scanned lines wander by a pixel or two and break at faint spots, so snapping and joining
    are a little looser than for drawn vector lines.
    """
    base = GridOptions(snap=2.0, join_gap=4.0, min_length=6.0, cell_padding=1.5)
    return base.scaled(max(px_per_pt, 0.25))


def find_table_grids(rulings: Iterable[Ruling], px_per_pt: float) -> list[Grid]:
    """Table grids drawn by the rulings (each needs at least two rows and two columns).

    Heavy lines are wider than the snapping tolerance: the ends of a thick horizontal line
    overshoot the centre of the vertical one by half its width, so the tolerances grow with
    the typical line width.
    """
    rulings = list(rulings)
    options = grid_options(px_per_pt)
    if rulings:
        width = float(np.median([r.width for r in rulings]))
        options = replace(
            options, snap=max(options.snap, 0.75 * width), join_gap=max(options.join_gap, 1.5 * width)
        )
    return [g for g in find_grids(rulings, options) if _plausible(g, px_per_pt)]


def _plausible(grid: Grid, px_per_pt: float) -> bool:
    """A real table, not a framed heading or a box around a stamp: rows and columns of text size."""
    x0, y0, x1, y1 = grid.bbox
    min_side = 12 * px_per_pt
    return (x1 - x0) >= 3 * min_side and (y1 - y0) >= min_side and len(grid.regions) >= 2


def erase_lines(gray: np.ndarray, masks: LineMasks, grow: int = 1) -> np.ndarray:
    """A copy of the image with the ruling pixels painted paper-white (text left untouched)."""
    import cv2

    lines = masks.any
    if grow > 0:
        lines = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * grow + 1, 2 * grow + 1)))
    out = gray.copy()
    out[lines > 0] = _paper_level(gray)
    return out


def _paper_level(gray: np.ndarray) -> int:
    """The paper's gray level: a high percentile of a sample of the pixels."""
    sample = gray[:: max(1, gray.shape[0] // 200), :: max(1, gray.shape[1] // 200)]
    return int(np.percentile(sample, 90)) if sample.size else 255
