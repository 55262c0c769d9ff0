"""EMF reader: text and ruling lines straight from the picture's drawing records, tables rebuilt
from them without OCR.

An EMF is a list of GDI records. We play the ones that matter back on a small device context
(mapping mode, window/viewport origins and extents, world transform, SaveDC/RestoreDC, text
alignment and current position, selected font/pen/brush) and collect, in points with y down
from the picture's frame:

* text pieces from EXTTEXTOUTW/EXTTEXTOUTA/POLYTEXTOUT/SMALLTEXTOUT (per-character advances from
  the dx array; ANSI text decoded by the font's charset, cp936 for GB2312_CHARSET),
* ruling lines from MOVETOEX/LINETO, POLYLINE(TO)(16), POLYPOLYLINE(16), POLYDRAW, stroked
  rectangles and polygons, and from thin filled shapes (POLYGON/RECTANGLE/FILLRGN/PAINTRGN,
  PATBLT-style BITBLT, paths filled or stroked between BEGINPATH and ENDPATH),
* EMF+ strings (EmfPlusDrawString, EmfPlusDrawDriverString with Unicode code points) carried
  in EMR_COMMENT records.

``zhibiao.tables.grid`` turns the rulings and text into tables. Pictures whose text is drawn
by glyph index, EMF+-only pictures and pictures without text are flagged ``needs_ocr``.
Every loop is bounded by the record sizes; a malformed record is a ``ReaderError`` for the
picture (``UnsafeInputError`` for impossible record sizes), never a crash or a hang.
"""

from __future__ import annotations

import hashlib
import math
import struct
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from zhibiao.errors import ReaderError, UnsafeInputError
from zhibiao.model import BBox, Document, Page, Ruling, SourceInfo, Table, TextItem
from zhibiao.tables.grid import GridOptions, TextPiece, build_tables, group_lines, is_cjk

READER = "emf"
PT_PER_MM = 72 / 25.4
MAX_SAVED_STATES = 4096
"""SaveDC nesting kept; deeper saves drop the oldest (a hostile file cannot grow the stack)."""
THIN_FILL_PT = 3.0
"""A filled shape at most this thick (and much longer) is a ruling line."""

Affine = tuple[float, float, float, float, float, float]
"""(a, b, c, d, e, f): x' = a x + c y + e, y' = b x + d y + f."""
IDENTITY: Affine = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
Point = tuple[float, float]


def compose(first: Affine, then: Affine) -> Affine:
    """The affine map applying ``first`` and then ``then``."""
    a1, b1, c1, d1, e1, f1 = first
    a2, b2, c2, d2, e2, f2 = then
    return (
        a2 * a1 + c2 * b1,
        b2 * a1 + d2 * b1,
        a2 * c1 + c2 * d1,
        b2 * c1 + d2 * d1,
        a2 * e1 + c2 * f1 + e2,
        b2 * e1 + d2 * f1 + f2,
    )


def apply(m: Affine, x: float, y: float) -> Point:
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


# --------------------------------------------------------------------------------------------
# Text decoding

CHARSET_CODECS: dict[int, str] = {
    0: "cp1252",
    2: "latin-1",
    77: "mac_roman",
    128: "cp932",
    129: "cp949",
    130: "johab",
    134: "gbk",
    136: "cp950",
    161: "cp1253",
    162: "cp1254",
    163: "cp1258",
    177: "cp1255",
    178: "cp1256",
    186: "cp1257",
    204: "cp1251",
    222: "cp874",
    238: "cp1250",
    255: "cp437",
}
CHINESE_FACES = (
    "宋体",
    "黑体",
    "楷体",
    "仿宋",
    "微软雅黑",
    "simsun",
    "simhei",
    "kaiti",
    "fangsong",
    "yahei",
    "nsimsun",
)


def charset_codec(charset: int, face: str = "", raw: bytes = b"") -> str:
    """Codec for ANSI text drawn with a font of this charset (GB2312_CHARSET -> cp936/GBK).

    DEFAULT_CHARSET (1) follows the face name (Chinese faces -> GBK) or, failing that, whether
    the bytes read as GBK double-byte text.
    """
    if charset in CHARSET_CODECS:
        return CHARSET_CODECS[charset]
    lowered = face.lower()
    if any(name in lowered for name in CHINESE_FACES):
        return "gbk"
    if any(b >= 0x80 for b in raw):
        try:
            raw.decode("gbk")
            return "gbk"
        except UnicodeDecodeError:
            pass
    return "cp1252"


def decode_ansi(raw: bytes, codec: str, dx: Sequence[float]) -> tuple[str, tuple[float, ...]]:
    """Decode ANSI bytes; per-byte advances are summed per decoded character (DBCS: two bytes)."""
    text = raw.decode(codec, errors="replace")
    if len(dx) != len(raw):
        return text, ()
    advances: list[float] = []
    pos = 0
    for ch in text:
        width = len(ch.encode(codec, errors="replace")) if ch != "\ufffd" else 1
        advances.append(sum(dx[pos : pos + width]))
        pos += width
    if pos != len(raw):
        return text, ()
    return text, tuple(advances)


def clean_text(text: str) -> str:
    """Drop NULs and control characters a text record may carry (keep tabs as spaces)."""
    if text.isprintable():
        return text
    return "".join(" " if ch == "\t" else ch for ch in text if ch.isprintable() or ch == "\t")


def estimated_advances(text: str, em: float) -> tuple[float, ...]:
    """Advances when a record has no dx array: an em for wide characters, about half for others."""
    return tuple(em if is_cjk(ch) else 0.55 * em for ch in text)


# --------------------------------------------------------------------------------------------
# Device context


@dataclass(frozen=True, slots=True)
class Font:
    height: float = -12.0
    """lfHeight in logical units (negative: character height, positive: cell height)."""
    escapement: float = 0.0
    weight: int = 400
    charset: int = 1
    face: str = ""


@dataclass(frozen=True, slots=True)
class Pen:
    visible: bool = True
    width: float = 0.0
    """Width in logical units (0: one device pixel)."""


@dataclass(frozen=True, slots=True)
class Brush:
    visible: bool = True


STOCK_OBJECTS: dict[int, object] = {
    0: Brush(False),  # WHITE_BRUSH: paper colour, draws nothing we can see
    1: Brush(True),
    2: Brush(True),
    3: Brush(True),
    4: Brush(True),
    5: Brush(False),  # NULL_BRUSH
    6: Pen(False),  # WHITE_PEN
    7: Pen(True),
    8: Pen(False),  # NULL_PEN
    10: Font(-12, face="Courier"),
    11: Font(-12, face="Courier"),
    12: Font(-12, face="Arial"),
    13: Font(-16, face="System"),
    14: Font(-16, face="System"),
    16: Font(-16, face="Fixedsys"),
    17: Font(-11, face="MS Shell Dlg"),
    18: Brush(True),
    19: Pen(True),
}

MM_TEXT, MM_LOMETRIC, MM_HIMETRIC, MM_LOENGLISH, MM_HIENGLISH, MM_TWIPS, MM_ISOTROPIC, MM_ANISOTROPIC = range(
    1, 9
)
FIXED_MODE_MM = {
    MM_LOMETRIC: 0.1,
    MM_HIMETRIC: 0.01,
    MM_LOENGLISH: 0.254,
    MM_HIENGLISH: 0.0254,
    MM_TWIPS: 25.4 / 1440,
}

TA_UPDATECP, TA_RIGHT, TA_CENTER, TA_BOTTOM, TA_BASELINE = 1, 2, 6, 8, 24
ASCENT, DESCENT = 0.88, 0.12
"""Share of the em above and below the baseline (CJK fonts)."""


@dataclass(slots=True)
class DCState:
    """What SaveDC saves: mapping, transform, current objects, text settings, position."""

    map_mode: int = MM_TEXT
    window_org: Point = (0.0, 0.0)
    window_ext: Point = (1.0, 1.0)
    viewport_org: Point = (0.0, 0.0)
    viewport_ext: Point = (1.0, 1.0)
    world: Affine = IDENTITY
    text_align: int = 0
    font: Font = field(default_factory=Font)
    pen: Pen = field(default_factory=Pen)
    brush: Brush = field(default_factory=Brush)
    position: Point = (0.0, 0.0)

    def copy(self) -> DCState:
        return replace(self)


@dataclass(slots=True)
class Canvas:
    """What a played-back picture leaves: text pieces and rulings in points (y down)."""

    pieces: list[TextPiece] = field(default_factory=list)
    rulings: list[Ruling] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    text_records: Counter[int] = field(default_factory=Counter)
    """Text records seen per record type (POLYTEXTOUT: per string), glyph-index and empty ones included."""
    glyph_records: int = 0
    blank_text_records: int = 0
    """Text records with no characters or only blanks (ETO_OPAQUE background fills, spacers)."""
    extra_pieces: list[TextPiece] = field(default_factory=list)
    """Text from a second channel (EMF+), used where the first holds none."""
    emf_plus_only: bool = False
    size: tuple[float, float] | None = None

    def fit_page(self) -> None:
        """Make the page hold the drawing: where the drawing lies outside the header's frame (a
        header not to be trusted), move it to the origin and take its extent as the page size."""
        xs = [v for r in self.rulings for v in (r.x0, r.x1)]
        ys = [v for r in self.rulings for v in (r.y0, r.y1)]
        for piece in self.pieces:
            xs += (piece.bbox[0], piece.bbox[2])
            ys += (piece.bbox[1], piece.bbox[3])
        if not xs:
            self.size = self.size or (0.0, 0.0)
            return
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
        if self.size is not None:
            width, height = self.size
            tol = 0.05 * max(width, height) + 5
            if x0 >= -tol and y0 >= -tol and x1 <= width + tol and y1 <= height + tol:
                return
        dx, dy = -min(x0, 0.0) if self.size is None else -x0, -min(y0, 0.0) if self.size is None else -y0
        self.size = (x1 + dx, y1 + dy)
        if dx or dy:
            self.translate(dx, dy)

    def translate(self, dx: float, dy: float) -> None:
        self.rulings = [
            Ruling(x0=r.x0 + dx, y0=r.y0 + dy, x1=r.x1 + dx, y1=r.y1 + dy, width=r.width)
            for r in self.rulings
        ]
        self.pieces = [
            replace(p, bbox=(p.bbox[0] + dx, p.bbox[1] + dy, p.bbox[2] + dx, p.bbox[3] + dy))
            for p in self.pieces
        ]

    def add_segment(self, p0: Point, p1: Point, width: float) -> None:
        """A stroked straight line; only (near) horizontal and vertical ones are rulings."""
        dx, dy = abs(p1[0] - p0[0]), abs(p1[1] - p0[1])
        if dx < 1e-6 and dy < 1e-6:
            return
        if dy <= 0.02 * dx or dx <= 0.02 * dy:
            self.rulings.append(Ruling(x0=p0[0], y0=p0[1], x1=p1[0], y1=p1[1], width=round(width, 3)))

    def add_polyline(self, points: Sequence[Point], width: float, closed: bool = False) -> None:
        for i in range(1, len(points)):
            self.add_segment(points[i - 1], points[i], width)
        if closed and len(points) > 2:
            self.add_segment(points[-1], points[0], width)

    def add_fill(self, points: Sequence[Point]) -> None:
        """A filled shape; a thin, nearly rectangular one is a ruling along its long axis."""
        if len(points) < 3:
            return
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        w, h = x1 - x0, y1 - y0
        thick, long = min(w, h), max(w, h)
        if thick > THIN_FILL_PT or long < 2 * max(thick, 0.5):
            return
        if thick > 0 and polygon_area(points) < 0.7 * w * h:
            return
        if w >= h:
            cy = (y0 + y1) / 2
            self.rulings.append(Ruling(x0=x0, y0=cy, x1=x1, y1=cy, width=round(h, 3)))
        else:
            cx = (x0 + x1) / 2
            self.rulings.append(Ruling(x0=cx, y0=y0, x1=cx, y1=y1, width=round(w, 3)))


def polygon_area(points: Sequence[Point]) -> float:
    total = 0.0
    for i in range(len(points)):
        x0, y0 = points[i - 1]
        x1, y1 = points[i]
        total += x0 * y1 - x1 * y0
    return abs(total) / 2


def text_box(
    origin: Point, advance: float, em: float, align: int, escapement_deg: float, rotation: float
) -> tuple[BBox, Point]:
    """Bounding box (points) of a text run drawn at ``origin`` and the point where it ends.

    ``advance`` and ``em`` are in points; ``align`` holds the TA_* flags; the baseline runs at
    ``escapement_deg`` counter-clockwise as seen, turned further by the transform's ``rotation``.
    """
    theta = math.radians(escapement_deg) - rotation
    ux, uy = math.cos(theta), -math.sin(theta)
    upx, upy = -math.sin(theta), -math.cos(theta)
    x, y = origin
    h_align = align & TA_CENTER
    if h_align == TA_CENTER:
        x, y = x - ux * advance / 2, y - uy * advance / 2
    elif h_align == TA_RIGHT:
        x, y = x - ux * advance, y - uy * advance
    v_align = align & TA_BASELINE
    if v_align == 0:  # TA_TOP: the origin is the top of the character cell
        x, y = x - upx * ASCENT * em, y - upy * ASCENT * em
    elif v_align == TA_BOTTOM:
        x, y = x + upx * DESCENT * em, y + upy * DESCENT * em
    corners = [
        (x + upx * ASCENT * em, y + upy * ASCENT * em),
        (x - upx * DESCENT * em, y - upy * DESCENT * em),
        (x + ux * advance + upx * ASCENT * em, y + uy * advance + upy * ASCENT * em),
        (x + ux * advance - upx * DESCENT * em, y + uy * advance - upy * DESCENT * em),
    ]
    xs = [c[0] for c in corners]
    ys = [c[1] for c in corners]
    end = (x + ux * advance, y + uy * advance)
    return (min(xs), min(ys), max(xs), max(ys)), end


# --------------------------------------------------------------------------------------------
# Record iteration

EMR_HEADER, EMR_EOF, EMR_COMMENT = 1, 14, 70


@dataclass(frozen=True, slots=True)
class Record:
    index: int
    type: int
    offset: int
    size: int


def iter_records(data: bytes) -> Iterator[Record]:
    """Records up to EMR_EOF; a size of 0, not a multiple of 4 or past the end is an error."""
    offset, index, end = 0, 0, len(data)
    while offset + 8 <= end:
        rtype, size = struct.unpack_from("<II", data, offset)
        if size < 8 or size % 4:
            raise UnsafeInputError(
                f"EMF record {index} at byte {offset} has an impossible size {size}", "unsafe"
            )
        if offset + size > end:
            raise ReaderError(
                f"EMF record {index} at byte {offset} runs past the end of the picture ({size} bytes)",
                "truncated",
            )
        yield Record(index, rtype, offset, size)
        if rtype == EMR_EOF:
            return
        offset += size
        index += 1
    if offset < end:
        raise ReaderError(f"EMF picture ends inside a record header at byte {offset}", "truncated")


@dataclass(frozen=True, slots=True)
class Header:
    bounds: tuple[int, int, int, int]
    frame: tuple[int, int, int, int]
    """Picture frame in 0.01 mm."""
    mm_per_px: Point
    """Size of one device unit of the reference device, in mm."""


def parse_header(data: bytes) -> Header:
    """The EMR_HEADER record (first record, ' EMF' signature); header sizes are not trusted."""
    if len(data) < 88:
        raise ReaderError("not an EMF picture: too short for a header", "corrupt")
    rtype, size = struct.unpack_from("<II", data, 0)
    if rtype != EMR_HEADER or data[40:44] != b" EMF":
        raise ReaderError("not an EMF picture: missing EMR_HEADER signature", "corrupt")
    if size < 88 or size > len(data) or size % 4:
        raise UnsafeInputError(f"EMF header claims an impossible size {size}", "unsafe")
    bounds = struct.unpack_from("<4i", data, 8)
    frame = struct.unpack_from("<4i", data, 24)
    dev_w, dev_h, mm_w, mm_h = struct.unpack_from("<4i", data, 72)
    mm_px = (
        mm_w / dev_w if dev_w > 0 and mm_w > 0 else 25.4 / 96,
        mm_h / dev_h if dev_h > 0 and mm_h > 0 else 25.4 / 96,
    )
    if size >= 108:
        um_w, um_h = struct.unpack_from("<2i", data, 100)
        if um_w > 0 and um_h > 0 and dev_w > 0 and dev_h > 0:
            mm_px = (um_w / 1000 / dev_w, um_h / 1000 / dev_h)
    if not (1e-4 < mm_px[0] < 10 and 1e-4 < mm_px[1] < 10):
        mm_px = (25.4 / 96, 25.4 / 96)
    return Header(bounds, frame, mm_px)


# --------------------------------------------------------------------------------------------
# Playback


class Painter:
    """A GDI device context playing drawing calls onto a ``Canvas`` (shared by EMF and WMF).

    ``device_mm`` is the size of a device unit in mm and ``origin_pt`` the picture's top-left
    corner in device points; subclasses read the records and call the drawing methods.
    """

    def __init__(self, data: bytes, device_mm: Point, origin_pt: Point) -> None:
        self.data = data
        self.device_mm = device_mm
        self.origin_pt = origin_pt
        self.state = DCState()
        self.saved: list[DCState] = []
        self.objects: dict[int, object] = {}
        self.canvas = Canvas()
        self.path: list[list[Point]] | None = None
        self.in_path = False
        self._to_points: Affine | None = None

    # ---- mapping

    def to_points(self) -> Affine:
        """Logical coordinates -> points from the frame's top-left corner."""
        if self._to_points is None:
            s = self.state
            sx, sy = self._page_scale()
            page_to_device: Affine = (
                sx,
                0.0,
                0.0,
                sy,
                s.viewport_org[0] - s.window_org[0] * sx,
                s.viewport_org[1] - s.window_org[1] * sy,
            )
            mx, my = self.device_mm
            device_to_pt: Affine = (
                mx * PT_PER_MM,
                0.0,
                0.0,
                my * PT_PER_MM,
                -self.origin_pt[0],
                -self.origin_pt[1],
            )
            self._to_points = compose(compose(s.world, page_to_device), device_to_pt)
        return self._to_points

    def _page_scale(self) -> Point:
        s = self.state
        if s.map_mode in FIXED_MODE_MM:
            unit = FIXED_MODE_MM[s.map_mode]
            return unit / self.device_mm[0], -unit / self.device_mm[1]
        if s.map_mode in (MM_ISOTROPIC, MM_ANISOTROPIC):
            wx, wy = s.window_ext
            vx, vy = s.viewport_ext
            sx = vx / wx if wx else 1.0
            sy = vy / wy if wy else 1.0
            if s.map_mode == MM_ISOTROPIC and sx and sy:
                m = min(abs(sx), abs(sy))
                sx, sy = math.copysign(m, sx), math.copysign(m, sy)
            return sx, sy
        return 1.0, 1.0

    def mapping_changed(self) -> None:
        self._to_points = None

    def pt(self, x: float, y: float) -> Point:
        return apply(self.to_points(), x, y)

    def scales(self) -> tuple[float, float, float]:
        """Length in points of a logical unit along x and y, and the transform's rotation (radians)."""
        a, b, c, d, _, _ = self.to_points()
        sx, sy = math.hypot(a, b), math.hypot(c, d)
        rotation = math.atan2(b, a) if abs(b) > 1e-9 * sx else 0.0  # mirrored x alone turns nothing
        return sx, sy, rotation

    def pen_width_pt(self) -> float:
        pen = self.state.pen
        if pen.width <= 0:
            return self.device_mm[0] * PT_PER_MM
        return pen.width * self.scales()[0]

    # ---- drawing helpers

    def stroke(self, points: list[Point], closed: bool = False) -> None:
        if self.in_path:
            self._path_figure(points, closed)
            return
        if self.state.pen.visible:
            self.canvas.add_polyline([self.pt(x, y) for x, y in points], self.pen_width_pt(), closed)

    def shape(self, points: list[Point]) -> None:
        """A closed filled-and-outlined shape (polygon, rectangle)."""
        if self.in_path:
            self._path_figure(points, True)
            return
        mapped = [self.pt(x, y) for x, y in points]
        if self.state.brush.visible:
            self.canvas.add_fill(mapped)
        if self.state.pen.visible:
            self.canvas.add_polyline(mapped, self.pen_width_pt(), closed=True)

    def fill_rects(self, rects: Sequence[tuple[float, float, float, float]], visible: bool) -> None:
        if not visible:
            return
        for left, top, right, bottom in rects:
            self.canvas.add_fill(
                [self.pt(left, top), self.pt(right, top), self.pt(right, bottom), self.pt(left, bottom)]
            )

    def _path_figure(self, points: list[Point], closed: bool) -> None:
        if self.path is None:
            self.path = []
        figure = list(points)
        if closed and figure:
            figure.append(figure[0])
        self.path.append(figure)

    def line_to(self, x: float, y: float) -> None:
        start = self.state.position
        if self.in_path:
            if self.path and self.path[-1] and self.path[-1][-1] == start:
                self.path[-1].append((x, y))
            else:
                self._path_figure([start, (x, y)], False)
        elif self.state.pen.visible:
            self.canvas.add_segment(self.pt(*start), self.pt(x, y), self.pen_width_pt())
        self.state.position = (x, y)

    def finish_path(self, stroke: bool, fill: bool) -> None:
        figures = self.path or []
        for figure in figures:
            mapped = [self.pt(x, y) for x, y in figure]
            if fill and self.state.brush.visible:
                self.canvas.add_fill(mapped)
            if stroke and self.state.pen.visible:
                self.canvas.add_polyline(mapped, self.pen_width_pt())
        self.path = None
        self.in_path = False

    # ---- text

    def draw_text(
        self, index: int, ref: Point, text: str, advances: tuple[float, ...], align: int | None = None
    ) -> None:
        """Place a decoded text run; ``advances`` are logical units (empty: estimated)."""
        s = self.state
        align = s.text_align if align is None else align
        sx, sy, rotation = self.scales()
        font = s.font
        em_logical = abs(font.height) * (1.0 if font.height <= 0 else 0.8) or 12.0
        em = em_logical * sy
        if len(advances) != len(text) or not any(advances):
            advances = estimated_advances(text, em_logical)
        total = sum(advances)
        if not text.isprintable():
            kept = [(ch, a) for ch, a in zip(text, advances, strict=True) if ch.isprintable() or ch == "\t"]
            text = "".join(" " if ch == "\t" else ch for ch, _ in kept)
            advances = tuple(a for _, a in kept)
        origin = self.pt(*s.position) if align & TA_UPDATECP else self.pt(*ref)
        bbox, _ = text_box(origin, total * sx, em, align, font.escapement / 10, rotation)
        if align & TA_UPDATECP:
            step = total if align & TA_CENTER != TA_CENTER else 0.0
            direction = -1.0 if align & TA_CENTER == TA_RIGHT else 1.0
            theta = math.radians(font.escapement / 10)
            px, py = s.position
            s.position = (px + direction * step * math.cos(theta), py - direction * step * math.sin(theta))
        if text.strip():
            self.canvas.pieces.append(TextPiece(text, bbox, str(index), em, tuple(a * sx for a in advances)))
        else:
            self.canvas.blank_text_records += 1

    # ---- saved states

    def save(self) -> None:
        self.saved.append(self.state.copy())
        if len(self.saved) > MAX_SAVED_STATES:
            del self.saved[0]

    def restore(self, n: int) -> None:
        """RestoreDC: negative ``n`` counts back from the newest saved state, positive is absolute."""
        depth = len(self.saved) + n if n < 0 else n - 1
        if 0 <= depth < len(self.saved):
            self.state = self.saved[depth]
            del self.saved[depth:]
            self.mapping_changed()


class Player(Painter):
    """Plays an EMF's records onto a ``Canvas``."""

    def __init__(self, data: bytes) -> None:
        self.header = parse_header(data)
        frame = self.header.frame
        super().__init__(
            data, self.header.mm_per_px, (frame[0] / 100 * PT_PER_MM, frame[1] / 100 * PT_PER_MM)
        )
        self.emf_plus = EmfPlusState(self)
        if frame[2] > frame[0] and frame[3] > frame[1]:
            self.canvas.size = (
                (frame[2] - frame[0]) / 100 * PT_PER_MM,
                (frame[3] - frame[1]) / 100 * PT_PER_MM,
            )

    # ---- the loop

    def play(self) -> Canvas:
        data = self.data
        handlers = HANDLERS
        last = EMR_HEADER
        for rec in iter_records(data):
            last = rec.type
            handler = handlers.get(rec.type)
            if handler is None:
                continue
            try:
                handler(self, rec)
            except struct.error as exc:
                raise ReaderError(
                    f"malformed EMF record {rec.index} (type {rec.type}): {exc}", "corrupt"
                ) from exc
        if last != EMR_EOF:
            self.canvas.warnings.append("EMF picture has no EMR_EOF record: it may be truncated")
        return self.canvas

    # ---- reading record fields

    def ints(self, rec: Record, offset: int, count: int) -> tuple[int, ...]:
        """``count`` int32 at ``offset`` bytes into the record (after the 8-byte type/size)."""
        start = rec.offset + 8 + offset
        if count < 0 or start + 4 * count > rec.offset + rec.size:
            raise ReaderError(
                f"EMF record {rec.index} (type {rec.type}) is too short for its fields", "corrupt"
            )
        return struct.unpack_from(f"<{count}i", self.data, start)

    def points(self, rec: Record, offset: int, count: int, small: bool) -> list[Point]:
        """``count`` points (POINTL, or POINTS when ``small``) checked against the record size."""
        width = 4 if small else 8
        start = rec.offset + 8 + offset
        if count < 0 or start + width * count > rec.offset + rec.size:
            raise UnsafeInputError(
                f"EMF record {rec.index} (type {rec.type}) claims {count} points but is {rec.size} bytes",
                "unsafe",
            )
        values = struct.unpack_from(f"<{2 * count}{'h' if small else 'i'}", self.data, start)
        return list(zip(values[0::2], values[1::2], strict=True))


# --------------------------------------------------------------------------------------------
# Record handlers

Handler = Callable[[Player, Record], None]
HANDLERS: dict[int, Handler] = {}


def handles(*types: int) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for t in types:
            HANDLERS[t] = fn
        return fn

    return register


@handles(9, 10, 11, 12)
def _set_extent_or_origin(p: Player, rec: Record) -> None:
    x, y = p.ints(rec, 0, 2)
    s = p.state
    if rec.type == 9:
        if p.state.map_mode in (MM_ISOTROPIC, MM_ANISOTROPIC):
            s.window_ext = (float(x), float(y))
    elif rec.type == 10:
        s.window_org = (float(x), float(y))
    elif rec.type == 11:
        if p.state.map_mode in (MM_ISOTROPIC, MM_ANISOTROPIC):
            s.viewport_ext = (float(x), float(y))
    else:
        s.viewport_org = (float(x), float(y))
    p.mapping_changed()


def scale_extent(p: Painter, window: bool, x: tuple[int, int], y: tuple[int, int]) -> None:
    """Scale the window (or viewport) extent by x = (num, den), y = (num, den); zero denominators ignored."""
    (xn, xd), (yn, yd) = x, y
    if not xd or not yd:
        return
    s = p.state
    if window:
        s.window_ext = (s.window_ext[0] * xn / xd, s.window_ext[1] * yn / yd)
    else:
        s.viewport_ext = (s.viewport_ext[0] * xn / xd, s.viewport_ext[1] * yn / yd)
    p.mapping_changed()


def set_map_mode(p: Painter, mode: int) -> None:
    """Switch the map mode when ``mode`` is a valid one (others are ignored, as GDI does)."""
    if MM_TEXT <= mode <= MM_ANISOTROPIC:
        p.state.map_mode = mode
        p.mapping_changed()


@handles(31, 32)
def _scale_extent(p: Player, rec: Record) -> None:
    xn, xd, yn, yd = p.ints(rec, 0, 4)
    scale_extent(p, rec.type == 32, (xn, xd), (yn, yd))


@handles(17)
def _set_map_mode(p: Player, rec: Record) -> None:
    set_map_mode(p, p.ints(rec, 0, 1)[0])


@handles(35)
def _set_world_transform(p: Player, rec: Record) -> None:
    p.state.world = _xform(p, rec, 0)
    p.mapping_changed()


@handles(36)
def _modify_world_transform(p: Player, rec: Record) -> None:
    m = _xform(p, rec, 0)
    (mode,) = p.ints(rec, 24, 1)
    s = p.state
    if mode == 1:
        s.world = IDENTITY
    elif mode == 2:  # left multiply: the new matrix applies first
        s.world = compose(m, s.world)
    elif mode == 3:
        s.world = compose(s.world, m)
    elif mode == 4:
        s.world = m
    p.mapping_changed()


def _xform(p: Player, rec: Record, offset: int) -> Affine:
    p.ints(rec, offset, 6)  # bounds check
    values = struct.unpack_from("<6f", p.data, rec.offset + 8 + offset)
    if not all(math.isfinite(v) and abs(v) < 1e12 for v in values):
        raise ReaderError(f"EMF record {rec.index}: transform with non-finite values", "corrupt")
    return values  # type: ignore[return-value]


@handles(33)
def _save_dc(p: Player, rec: Record) -> None:
    p.save()


@handles(34)
def _restore_dc(p: Player, rec: Record) -> None:
    p.restore(p.ints(rec, 0, 1)[0])


@handles(22)
def _set_text_align(p: Player, rec: Record) -> None:
    (p.state.text_align,) = p.ints(rec, 0, 1)


@handles(27)
def _move_to(p: Player, rec: Record) -> None:
    x, y = p.ints(rec, 0, 2)
    p.state.position = (float(x), float(y))
    if p.in_path:
        p._path_figure([p.state.position], False)


@handles(54)
def _line_to(p: Player, rec: Record) -> None:
    x, y = p.ints(rec, 0, 2)
    p.line_to(float(x), float(y))


@handles(4, 87, 3, 86, 6, 89, 2, 85, 5, 88)
def _poly(p: Player, rec: Record) -> None:
    """POLYLINE(16), POLYGON(16), POLYLINETO(16); Bézier curves only move the current position."""
    small = rec.type in (87, 86, 89, 85, 88)
    (count,) = p.ints(rec, 16, 1)
    points = p.points(rec, 20, count, small)
    if not points:
        return
    kind = rec.type if not small else {87: 4, 86: 3, 89: 6, 85: 2, 88: 5}[rec.type]
    if kind == 4:
        p.stroke(points)
    elif kind == 3:
        p.shape(points)
    elif kind == 6:
        for x, y in points:
            p.line_to(x, y)
    elif kind == 5:
        p.state.position = points[-1]


@handles(7, 90, 8, 91)
def _poly_poly(p: Player, rec: Record) -> None:
    small = rec.type in (90, 91)
    n_polys, n_points = p.ints(rec, 16, 2)
    counts = p.ints(rec, 24, n_polys) if n_polys >= 0 else ()
    if any(c < 0 for c in counts) or sum(counts) != n_points:
        raise UnsafeInputError(f"EMF record {rec.index}: polygon counts do not add up", "unsafe")
    points = p.points(rec, 24 + 4 * n_polys, n_points, small)
    start = 0
    for count in counts:
        figure = points[start : start + count]
        start += count
        if rec.type in (7, 90):
            p.stroke(figure)
        else:
            p.shape(figure)


@handles(56, 92)
def _poly_draw(p: Player, rec: Record) -> None:
    small = rec.type == 92
    (count,) = p.ints(rec, 16, 1)
    points = p.points(rec, 20, count, small)
    start = rec.offset + 8 + 20 + (4 if small else 8) * count
    if start + count > rec.offset + rec.size:
        raise UnsafeInputError(f"EMF record {rec.index}: POLYDRAW point types past the record", "unsafe")
    types = p.data[start : start + count]
    for (x, y), kind in zip(points, types, strict=True):
        if kind & 0x6 == 0x6:  # PT_MOVETO
            p.state.position = (x, y)
        elif kind & 0x6 == 0x2:  # PT_LINETO
            p.line_to(x, y)
        else:  # PT_BEZIERTO: control points are skipped, the curve's end still moves the pen
            p.state.position = (x, y)


@handles(43, 44)
def _rectangle(p: Player, rec: Record) -> None:
    left, top, right, bottom = p.ints(rec, 0, 4)
    p.shape([(left, top), (right, top), (right, bottom), (left, bottom)])


@handles(59)
def _begin_path(p: Player, rec: Record) -> None:
    p.path, p.in_path = [], True


@handles(60)
def _end_path(p: Player, rec: Record) -> None:
    p.in_path = False


@handles(68, 67)
def _abort_path(p: Player, rec: Record) -> None:
    p.path, p.in_path = None, False


@handles(61)
def _close_figure(p: Player, rec: Record) -> None:
    if p.path and p.path[-1]:
        p.path[-1].append(p.path[-1][0])


@handles(62, 63, 64)
def _draw_path(p: Player, rec: Record) -> None:
    p.finish_path(stroke=rec.type in (63, 64), fill=rec.type in (62, 63))


@handles(38)
def _create_pen(p: Player, rec: Record) -> None:
    handle, style, width, _, color = p.ints(rec, 0, 5)
    p.objects[handle] = Pen(visible=style & 0xF != 5 and color & 0xFFFFFF != 0xFFFFFF, width=float(width))


@handles(95)
def _ext_create_pen(p: Player, rec: Record) -> None:
    handle = p.ints(rec, 0, 1)[0]
    style, width, brush_style, color = p.ints(rec, 20, 4)
    visible = style & 0xF != 5 and brush_style != 1 and color & 0xFFFFFF != 0xFFFFFF
    p.objects[handle] = Pen(visible=visible, width=float(width if style & 0x10000 else 0))


@handles(39)
def _create_brush(p: Player, rec: Record) -> None:
    handle, style, color = p.ints(rec, 0, 3)
    visible = style != 1 and not (style == 0 and color & 0xFFFFFF == 0xFFFFFF)
    p.objects[handle] = Brush(visible)


@handles(93, 94)
def _create_pattern_brush(p: Player, rec: Record) -> None:
    p.objects[p.ints(rec, 0, 1)[0]] = Brush(True)


@handles(49, 99, 122)
def _create_other(p: Player, rec: Record) -> None:
    p.objects[p.ints(rec, 0, 1)[0]] = None


@handles(82)
def _create_font(p: Player, rec: Record) -> None:
    handle, height, _width, escapement, _orientation, weight = p.ints(rec, 0, 6)
    p.ints(rec, 24, 2)  # italic..pitch bytes present
    charset = p.data[rec.offset + 8 + 27]
    face_start = rec.offset + 8 + 32
    face_end = min(face_start + 64, rec.offset + rec.size)
    face = p.data[face_start:face_end].decode("utf-16-le", errors="replace").split("\0")[0]
    p.objects[handle] = Font(float(height), float(escapement), weight, charset, face)


@handles(37)
def _select_object(p: Player, rec: Record) -> None:
    handle = p.ints(rec, 0, 1)[0] & 0xFFFFFFFF
    obj = STOCK_OBJECTS.get(handle & 0x7FFFFFFF) if handle & 0x80000000 else p.objects.get(handle)
    s = p.state
    if isinstance(obj, Font):
        s.font = obj
    elif isinstance(obj, Pen):
        s.pen = obj
    elif isinstance(obj, Brush):
        s.brush = obj


@handles(40)
def _delete_object(p: Player, rec: Record) -> None:
    p.objects.pop(p.ints(rec, 0, 1)[0], None)


@handles(71, 74, 72)
def _region(p: Player, rec: Record) -> None:
    """FILLRGN / PAINTRGN fill the region's rectangles; FRAMERGN outlines them."""
    (size,) = p.ints(rec, 16, 1)
    data_offset = {71: 24, 74: 20, 72: 32}[rec.type]
    brush = p.state.brush
    if rec.type in (71, 72):
        obj = p.objects.get(p.ints(rec, 20, 1)[0])
        brush = obj if isinstance(obj, Brush) else Brush(True)
    if size < 32 or data_offset + size > rec.size - 8:
        raise UnsafeInputError(f"EMF record {rec.index}: region data size {size} does not fit", "unsafe")
    _, _, count, _ = p.ints(rec, data_offset, 4)
    values = p.ints(rec, data_offset + 32, 4 * count) if count > 0 else ()
    rects = [tuple(values[i : i + 4]) for i in range(0, len(values), 4)]
    if rec.type == 72:
        for left, top, right, bottom in rects:
            if brush.visible:
                corners = [(left, top), (right, top), (right, bottom), (left, bottom)]
                p.canvas.add_polyline([p.pt(x, y) for x, y in corners], p.pen_width_pt(), closed=True)
        return
    p.fill_rects(rects, brush.visible)  # type: ignore[arg-type]


PATCOPY, BLACKNESS = 0x00F00021, 0x00000042


@handles(76)
def _bit_blt(p: Player, rec: Record) -> None:
    """A BITBLT without a source bitmap paints the destination with the brush (PatBlt)."""
    x, y, cx, cy, rop = p.ints(rec, 16, 5)
    (cb_bmi,) = p.ints(rec, 80, 1) if rec.size >= 8 + 84 else (0,)
    if cb_bmi == 0 and rop in (PATCOPY, BLACKNESS):
        visible = rop == BLACKNESS or p.state.brush.visible
        p.fill_rects([(x, y, x + cx, y + cy)], visible)


# ---- text records

ETO_NO_RECT, ETO_GLYPH_INDEX, ETO_PDY, ETO_SMALL_CHARS = 0x100, 0x10, 0x2000, 0x200


@handles(84, 83)
def _ext_text_out(p: Player, rec: Record) -> None:
    _emr_text(p, rec, 28, wide=rec.type == 84)


@handles(97, 96)
def _poly_text_out(p: Player, rec: Record) -> None:
    (count,) = p.ints(rec, 28, 1)
    if count < 0 or 32 + 40 * count > rec.size - 8:
        raise UnsafeInputError(f"EMF record {rec.index}: POLYTEXTOUT claims {count} strings", "unsafe")
    offset = 32
    for _ in range(count):
        offset = _emr_text(p, rec, offset, wide=rec.type == 97, always_rect=True)


def _emr_text(p: Player, rec: Record, offset: int, wide: bool, always_rect: bool = False) -> int:
    """One EmrText structure at ``offset``; returns the offset after it."""
    ref_x, ref_y, n_chars, off_string, options = p.ints(rec, offset, 5)
    has_rect = always_rect or not options & ETO_NO_RECT
    after = offset + 20 + (16 if has_rect else 0)
    (off_dx,) = p.ints(rec, after, 1)
    p.canvas.text_records[rec.type] += 1
    if n_chars <= 0:
        p.canvas.blank_text_records += 1
        return after + 4
    if options & ETO_GLYPH_INDEX:
        p.canvas.glyph_records += 1
        return after + 4
    unit = 2 if wide else 1
    raw = _slice(p, rec, off_string, n_chars * unit, "string")
    dx: tuple[int, ...] = ()
    if off_dx:
        pairs = 2 if options & ETO_PDY else 1
        values = _ints_at(p, rec, off_dx, n_chars * pairs)
        dx = values[0::pairs] if values else ()
    if wide:
        text = raw.decode("utf-16-le", errors="replace")
        advances: tuple[float, ...] = tuple(dx) if len(dx) == len(text) else ()
    else:
        font = p.state.font
        text, advances = decode_ansi(raw, charset_codec(font.charset, font.face, raw), dx)
    p.draw_text(rec.index, (float(ref_x), float(ref_y)), text, advances)
    return after + 4


def _slice(p: Player, rec: Record, offset: int, length: int, what: str) -> bytes:
    if offset < 8 or length < 0 or offset + length > rec.size:
        raise ReaderError(
            f"EMF record {rec.index}: {what} at {offset}+{length} lies outside the record", "corrupt"
        )
    start = rec.offset + offset
    return p.data[start : start + length]


def _ints_at(p: Player, rec: Record, offset: int, count: int) -> tuple[int, ...]:
    """int32 values at a record-relative offset (dx arrays); out of range is an error."""
    _slice(p, rec, offset, 4 * count, "dx array")
    return struct.unpack_from(f"<{count}i", p.data, rec.offset + offset)


@handles(108)
def _small_text_out(p: Player, rec: Record) -> None:
    x, y, n_chars, options, _mode = p.ints(rec, 0, 5)
    offset = 8 + 28 + (0 if options & ETO_NO_RECT else 16)
    p.canvas.text_records[rec.type] += 1
    if n_chars <= 0:
        p.canvas.blank_text_records += 1
        return
    if options & ETO_GLYPH_INDEX:
        p.canvas.glyph_records += 1
        return
    small = bool(options & ETO_SMALL_CHARS)
    raw = _slice(p, rec, offset, n_chars * (1 if small else 2), "string")
    if small:
        font = p.state.font
        text, advances = decode_ansi(raw, charset_codec(font.charset, font.face, raw), ())
    else:
        text, advances = raw.decode("utf-16-le", errors="replace"), ()
    p.draw_text(rec.index, (float(x), float(y)), text, advances)


@handles(EMR_COMMENT)
def _comment(p: Player, rec: Record) -> None:
    if rec.size < 16:
        return
    (size,) = p.ints(rec, 0, 1)
    if size < 4 or size > rec.size - 12:
        return  # private comment with a lying size: nothing of ours inside
    if p.data[rec.offset + 12 : rec.offset + 16] == b"EMF+":
        p.emf_plus.play(rec, rec.offset + 16, rec.offset + 12 + size)


# --------------------------------------------------------------------------------------------
# EMF+ (text only)

EMFPLUS_UNIT_INCHES = {2: None, 3: 1 / 72, 4: 1.0, 5: 1 / 300, 6: 1 / 25.4}


@dataclass(slots=True)
class _PlusGraphics:
    world: Affine = IDENTITY
    page_unit: int = 2
    page_scale: float = 1.0


class EmfPlusState:
    """EMF+ records inside EMR_COMMENT: header, transforms, fonts, and the two string records."""

    def __init__(self, player: Player) -> None:
        self.player = player
        self.seen = False
        self.dual = True
        self.dpi = (96.0, 96.0)
        self.graphics = _PlusGraphics()
        self.saved: dict[int, _PlusGraphics] = {}
        self.fonts: dict[int, tuple[float, int]] = {}
        self.strings = 0

    def play(self, rec: Record, start: int, end: int) -> None:
        data = self.player.data
        offset = start
        while offset + 12 <= end:
            rtype, flags, size, data_size = struct.unpack_from("<HHII", data, offset)
            if size < 12 or size % 4 or offset + size > end or data_size > size - 12:
                raise ReaderError(
                    f"EMF record {rec.index}: malformed EMF+ record at byte {offset}", "corrupt"
                )
            self.seen = True
            handler = PLUS_HANDLERS.get(rtype)
            if handler is not None:
                handler(self, rec, rtype, flags, offset + 12, data_size)
            offset += size

    def to_points(self) -> Affine:
        g = self.graphics
        unit = EMFPLUS_UNIT_INCHES.get(g.page_unit)
        px = (self.dpi[0] * unit if unit else 1.0) * g.page_scale
        py = (self.dpi[1] * unit if unit else 1.0) * g.page_scale
        ox, oy = self.player.origin_pt
        return compose(
            compose(g.world, (px, 0.0, 0.0, py, 0.0, 0.0)),
            (72 / self.dpi[0], 0, 0, 72 / self.dpi[1], -ox, -oy),
        )

    def em_points(self, font_id: int) -> float:
        size, unit = self.fonts.get(font_id, (12.0, 3))
        inches = EMFPLUS_UNIT_INCHES.get(unit)
        em_pt = size * 72 * inches if inches else size * 72 / self.dpi[1]
        a, b, *_ = self.graphics.world
        return em_pt * (math.hypot(a, b) or 1.0)

    def add_text(self, rec: Record, text: str, bbox: BBox, em: float) -> None:
        text = clean_text(text)
        if text.strip() and all(math.isfinite(v) for v in (*bbox, em)):
            self.player.canvas.extra_pieces.append(TextPiece(text, bbox, str(rec.index), em))
        self.strings += 1


PlusHandler = Callable[[EmfPlusState, Record, int, int, int, int], None]


def _plus_header(st: EmfPlusState, rec: Record, rtype: int, flags: int, at: int, size: int) -> None:
    if size >= 16:
        _, _, dpi_x, dpi_y = struct.unpack_from("<IIII", st.player.data, at)
        st.dual = bool(flags & 1)
        if 10 <= dpi_x <= 100000 and 10 <= dpi_y <= 100000:
            st.dpi = (float(dpi_x), float(dpi_y))


def _plus_object(st: EmfPlusState, rec: Record, rtype: int, flags: int, at: int, size: int) -> None:
    if (flags >> 8) & 0x7F == 6 and not flags & 0x8000 and size >= 24:
        _, em_size, unit = struct.unpack_from("<IfI", st.player.data, at)
        if math.isfinite(em_size) and 0 < em_size < 1e6:
            st.fonts[flags & 0xFF] = (em_size, unit)


def _plus_transform(st: EmfPlusState, rec: Record, rtype: int, flags: int, at: int, size: int) -> None:
    data = st.player.data
    g = st.graphics
    if rtype == 0x402B:
        g.world = IDENTITY
        return
    if rtype == 0x4030:  # SetPageTransform
        if size >= 4:
            (scale,) = struct.unpack_from("<f", data, at)
            g.page_unit = flags & 0xFF
            g.page_scale = scale if math.isfinite(scale) and 0 < scale < 1e6 else 1.0
        return
    count = {0x402A: 6, 0x402C: 6, 0x402D: 2, 0x402E: 2, 0x402F: 1}.get(rtype, 0)
    if size < 4 * count or count == 0:
        return
    values = struct.unpack_from(f"<{count}f", data, at)
    if not all(math.isfinite(v) and abs(v) < 1e12 for v in values):
        return
    if rtype in (0x402A, 0x402C):
        m: Affine = values  # type: ignore[assignment]
    elif rtype == 0x402D:
        m = (1.0, 0.0, 0.0, 1.0, values[0], values[1])
    elif rtype == 0x402E:
        m = (values[0], 0.0, 0.0, values[1], 0.0, 0.0)
    else:
        r = math.radians(values[0])
        m = (math.cos(r), math.sin(r), -math.sin(r), math.cos(r), 0.0, 0.0)
    if rtype == 0x402A:
        g.world = m
    elif flags & 0x2000:  # post-multiply (append)
        g.world = compose(g.world, m)
    else:
        g.world = compose(m, g.world)


def _plus_save(st: EmfPlusState, rec: Record, rtype: int, flags: int, at: int, size: int) -> None:
    if size < 4:
        return
    (key,) = struct.unpack_from("<I", st.player.data, at + size - 4)
    if rtype in (0x4025, 0x4027, 0x4028):
        if len(st.saved) < MAX_SAVED_STATES:
            st.saved[key] = replace(st.graphics)
    elif key in st.saved:
        st.graphics = st.saved.pop(key)


def _plus_draw_string(st: EmfPlusState, rec: Record, rtype: int, flags: int, at: int, size: int) -> None:
    if size < 28:
        raise ReaderError(f"EMF record {rec.index}: EmfPlusDrawString too short", "corrupt")
    _brush, _fmt, length, x, y, w, h = struct.unpack_from("<IIIffff", st.player.data, at)
    if length > (size - 28) // 2:
        raise UnsafeInputError(
            f"EMF record {rec.index}: EmfPlusDrawString claims {length} characters", "unsafe"
        )
    text = st.player.data[at + 28 : at + 28 + 2 * length].decode("utf-16-le", errors="replace")
    em = st.em_points(flags & 0xFF)
    m = st.to_points()
    x0, y0 = apply(m, x, y)
    if w > 0 and h > 0 and all(map(math.isfinite, (x, y, w, h))):
        x1, y1 = apply(m, x + w, y + h)
    else:
        x1, y1 = x0 + len(text) * em * 0.8, y0 + em * 1.2
    st.add_text(rec, text, (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), em)


def _plus_draw_driver_string(
    st: EmfPlusState, rec: Record, rtype: int, flags: int, at: int, size: int
) -> None:
    if size < 16:
        raise ReaderError(f"EMF record {rec.index}: EmfPlusDrawDriverString too short", "corrupt")
    _brush, options, _matrix, count = struct.unpack_from("<IIII", st.player.data, at)
    if count > (size - 16) // 10:
        raise UnsafeInputError(
            f"EMF record {rec.index}: EmfPlusDrawDriverString claims {count} glyphs", "unsafe"
        )
    if not options & 1:  # DriverStringOptionsCmapLookup unset: glyph indices, no characters
        st.player.canvas.glyph_records += 1
        return
    text = st.player.data[at + 16 : at + 16 + 2 * count].decode("utf-16-le", errors="replace")
    positions = struct.unpack_from(f"<{2 * count}f", st.player.data, at + 16 + 2 * count)
    em = st.em_points(flags & 0xFF)
    m = st.to_points()
    pts = [apply(m, positions[i], positions[i + 1]) for i in range(0, 2 * count, 2)]
    pts = [q for q in pts if math.isfinite(q[0]) and math.isfinite(q[1])]
    if not pts:
        return
    xs, ys = [q[0] for q in pts], [q[1] for q in pts]
    bbox = (min(xs), min(ys) - ASCENT * em, max(xs) + em * 0.6, max(ys) + DESCENT * em)
    st.add_text(rec, text, bbox, em)


PLUS_HANDLERS: dict[int, PlusHandler] = {
    0x4001: _plus_header,
    0x4008: _plus_object,
    0x401C: _plus_draw_string,
    0x4036: _plus_draw_driver_string,
    **{t: _plus_transform for t in (0x402A, 0x402B, 0x402C, 0x402D, 0x402E, 0x402F, 0x4030)},
    **{t: _plus_save for t in (0x4025, 0x4026, 0x4027, 0x4028, 0x4029)},
}


# --------------------------------------------------------------------------------------------
# Canvas -> Document


def play_emf(data: bytes) -> Canvas:
    """Play an EMF picture; raises ReaderError for anything that is not a readable EMF."""
    player = Player(data)
    canvas = player.play()
    plus = player.emf_plus
    canvas.emf_plus_only = plus.seen and not plus.dual
    if plus.seen and (canvas.emf_plus_only or not canvas.pieces):
        canvas.pieces.extend(canvas.extra_pieces)
    canvas.fit_page()
    return canvas


def canvas_tables(canvas: Canvas, reader: str) -> list[Table]:
    """Tables drawn on a played-back picture (page 1, cells' sources naming record indices)."""
    tables = build_tables(
        canvas.rulings,
        canvas.pieces,
        reader=reader,
        source_prefix=f"{reader}:records ",
        page=1,
        options=GridOptions(),
    )
    tables = [t for t in tables if any(c.text for c in t.cells)]  # empty line grids: plot areas, frames
    for index, table in enumerate(tables, start=1):
        table.index = index
    return tables


def ocr_reasons(canvas: Canvas, kind: str) -> list[str]:
    """Why a picture's text cannot be trusted to be complete (each becomes a warning)."""
    reasons = []
    if canvas.glyph_records:
        count = canvas.glyph_records
        reasons.append(
            f"{kind} picture draws {count} text record(s) by glyph index (no character codes): needs OCR"
        )
    if canvas.emf_plus_only:
        reasons.append(f"{kind} picture is EMF+ only: its drawing is not rebuilt, text is partial: needs OCR")
    if not any(p.text.strip() for p in canvas.pieces):
        reasons.append(f"{kind} picture has no text records: needs OCR")
    return reasons


def build_document(data: bytes, path: Path, canvas: Canvas, reader: str, started: float) -> Document:
    """One page holding the text records (reading order), the rulings and the tables found."""
    tables = canvas_tables(canvas, reader)
    items = reading_order_items(canvas.pieces, reader)
    for table in tables:
        table.source = path.name
        table.order = _table_order(table, items)
    width, height = canvas.size or (0.0, 0.0)
    page = Page(
        number=1,
        width=round(width, 2),
        height=round(height, 2),
        items=items,
        rulings=[_round_ruling(r) for r in canvas.rulings],
    )
    reasons = ocr_reasons(canvas, reader.upper())
    page.needs_ocr = bool(reasons)
    doc = Document(
        source=SourceInfo(
            path=str(path), sha256=hashlib.sha256(data).hexdigest(), format=reader, pages=1, size=len(data)
        ),
        pages=[page],
        tables=tables,
        warnings=[*canvas.warnings, *reasons],
    )
    doc.timings[reader] = round(time.perf_counter() - started, 4)
    return doc


def reading_order_items(pieces: Sequence[TextPiece], reader: str) -> list[TextItem]:
    """Text records as items, top to bottom and left to right (record order is not reading order)."""
    items = []
    for line in group_lines(pieces):
        for piece in line.pieces:
            items.append(
                TextItem(
                    text=piece.text,
                    page=1,
                    order=len(items),
                    bbox=tuple(round(v, 2) for v in piece.bbox),  # type: ignore[arg-type]
                    reader=reader,
                )
            )
    return items


def _table_order(table: Table, items: list[TextItem]) -> int:
    if table.bbox is None:
        return len(items)
    top = table.bbox[1]
    return next((it.order for it in items if it.bbox and it.bbox[3] > top), len(items))


def _round_ruling(r: Ruling) -> Ruling:
    return Ruling(x0=round(r.x0, 2), y0=round(r.y0, 2), x1=round(r.x1, 2), y1=round(r.y1, 2), width=r.width)


def read(data: bytes, path: Path) -> Document:
    """Read an EMF picture: one page of text items and rulings, and the tables they draw."""
    started = time.perf_counter()
    canvas = play_emf(data)
    return build_document(data, path, canvas, READER, started)


def tables_from_emf(data: bytes) -> list[Table]:
    """The tables drawn in an EMF picture (used for the preview pictures of embedded objects)."""
    return canvas_tables(play_emf(data), READER)
