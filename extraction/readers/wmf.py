"""WMF reader: the 16-bit Windows Metafile, played like an EMF (see ``zhibiao.readers.emf``).

Text from META_TEXTOUT / META_EXTTEXTOUT (bytes decoded by the font's charset, cp936 for
GB2312_CHARSET; per-byte dx advances), ruling lines from MoveTo/LineTo, Polyline, Polygon,
PolyPolygon, Rectangle, RoundRect and thin PatBlt rectangles, mapped through
SetWindowOrg/SetWindowExt (and viewport records), SaveDC/RestoreDC and the optional
placeable header (its bounding box and units per inch give the size in points). Tables are
rebuilt by ``zhibiao.tables.grid``; a picture without text is flagged ``needs_ocr``.
Records are bounded by their sizes: a size of 0 or past the end is an error for the picture.
"""

from __future__ import annotations

import heapq
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from zhibiao.errors import ReaderError, UnsafeInputError
from zhibiao.model import Document, Table
from zhibiao.readers.emf import (
    ETO_GLYPH_INDEX,
    PT_PER_MM,
    Affine,
    Brush,
    Canvas,
    Font,
    Painter,
    Pen,
    Point,
    build_document,
    canvas_tables,
    charset_codec,
    decode_ansi,
    scale_extent,
    set_map_mode,
)

READER = "wmf"
PLACEABLE_KEY = 0x9AC6CDD7
PX_MM = 25.4 / 96
"""Device unit assumed without a placeable header: a 96 dpi pixel."""

META_EOF = 0x0000
ETO_OPAQUE, ETO_CLIPPED = 0x0002, 0x0004


@dataclass(frozen=True, slots=True)
class Placeable:
    left: int
    top: int
    right: int
    bottom: int
    inch: int
    """Logical units per inch."""


@dataclass(frozen=True, slots=True)
class WmfRecord:
    index: int
    function: int
    offset: int
    size: int
    """In bytes (the file stores 16-bit words)."""


def parse_placeable(data: bytes) -> tuple[Placeable | None, int]:
    """The placeable header, if any, and the offset of the META_HEADER."""
    if len(data) >= 22 and struct.unpack_from("<I", data, 0)[0] == PLACEABLE_KEY:
        left, top, right, bottom, inch = struct.unpack_from("<4hH", data, 6)
        if right == left or bottom == top or inch == 0:
            return None, 22  # a placeable header that says nothing usable
        return Placeable(left, top, right, bottom, inch), 22
    return None, 0


def iter_wmf_records(data: bytes, start: int) -> Iterator[WmfRecord]:
    """Records after the META_HEADER at ``start``, up to META_EOF; sizes are checked."""
    if len(data) < start + 18:
        raise ReaderError("not a WMF picture: too short for a header", "corrupt")
    file_type, header_words = struct.unpack_from("<HH", data, start)
    if file_type not in (1, 2) or header_words != 9:
        raise ReaderError("not a WMF picture: bad META_HEADER", "corrupt")
    offset, index, end = start + 18, 0, len(data)
    while offset + 6 <= end:
        words, function = struct.unpack_from("<IH", data, offset)
        size = 2 * words
        if words < 3:
            raise UnsafeInputError(
                f"WMF record {index} at byte {offset} has an impossible size {size}", "unsafe"
            )
        if offset + size > end:
            raise ReaderError(
                f"WMF record {index} at byte {offset} runs past the end of the picture", "truncated"
            )
        yield WmfRecord(index, function, offset, size)
        if function == META_EOF:
            return
        offset += size
        index += 1


class WmfPlayer(Painter):
    """Plays a WMF's records onto a ``Canvas``."""

    def __init__(self, data: bytes) -> None:
        self.placeable, self.header_at = parse_placeable(data)
        place = self.placeable
        if place is not None:
            unit_mm = 25.4 / place.inch
            origin = (
                min(place.left, place.right) * unit_mm * PT_PER_MM,
                min(place.top, place.bottom) * unit_mm * PT_PER_MM,
            )
            super().__init__(data, (unit_mm, unit_mm), origin)
            self.canvas.size = (
                abs(place.right - place.left) * unit_mm * PT_PER_MM,
                abs(place.bottom - place.top) * unit_mm * PT_PER_MM,
            )
            self.state.window_org = (float(place.left), float(place.top))
            self.state.window_ext = (float(place.right - place.left), float(place.bottom - place.top))
        else:
            super().__init__(data, (PX_MM, PX_MM), (0.0, 0.0))
        self.viewport_set = False
        self.free_slots: list[int] = []
        self.next_slot = 0

    def to_points(self) -> Affine:
        """With a placeable header the window is stretched onto its box (what players do)."""
        place = self.placeable
        if place is None or self._to_points is not None:
            if place is None and not self.viewport_set:
                self.state.viewport_ext = self.state.window_ext  # no viewport: a logical unit per pixel
            return super().to_points()
        s = self.state
        wx, wy = s.window_ext
        sx = (place.right - place.left) / wx if wx else 1.0
        sy = (place.bottom - place.top) / wy if wy else 1.0
        k = self.device_mm[0] * PT_PER_MM
        ox, oy = self.origin_pt
        self._to_points = (
            sx * k,
            0.0,
            0.0,
            sy * k,
            (place.left - s.window_org[0] * sx) * k - ox,
            (place.top - s.window_org[1] * sy) * k - oy,
        )
        return self._to_points

    # ---- object table: a new object takes the lowest free slot

    def add_object(self, obj: object) -> None:
        if self.free_slots:
            slot = heapq.heappop(self.free_slots)
        else:
            slot = self.next_slot
            self.next_slot += 1
        self.objects[slot] = obj

    def delete_object(self, slot: int) -> None:
        if slot in self.objects:
            del self.objects[slot]
            heapq.heappush(self.free_slots, slot)

    # ---- reading

    def play(self) -> Canvas:
        last = -1
        for rec in iter_wmf_records(self.data, self.header_at):
            last = rec.function
            handler = WMF_HANDLERS.get(rec.function)
            if handler is None:
                continue
            try:
                handler(self, rec)
            except struct.error as exc:
                raise ReaderError(
                    f"malformed WMF record {rec.index} (function {rec.function:#06x})", "corrupt"
                ) from exc
        if last != META_EOF:
            self.canvas.warnings.append("WMF picture has no META_EOF record: it may be truncated")
        return self.canvas

    def shorts(self, rec: WmfRecord, offset: int, count: int, fmt: str = "h") -> tuple[int, ...]:
        """``count`` 16-bit parameters at byte ``offset`` of the parameters (after size and function)."""
        start = rec.offset + 6 + offset
        if count < 0 or start + 2 * count > rec.offset + rec.size:
            raise ReaderError(
                f"WMF record {rec.index} (function {rec.function:#06x}) is too short", "corrupt"
            )
        return struct.unpack_from(f"<{count}{fmt}", self.data, start)

    def point_list(self, rec: WmfRecord, offset: int, count: int) -> list[Point]:
        if count < 0 or offset + 4 * count > rec.size - 6:
            raise UnsafeInputError(
                f"WMF record {rec.index} claims {count} points but is {rec.size} bytes", "unsafe"
            )
        values = self.shorts(rec, offset, 2 * count)
        return list(zip(values[0::2], values[1::2], strict=True))


WmfHandler = Callable[[WmfPlayer, WmfRecord], None]
WMF_HANDLERS: dict[int, WmfHandler] = {}


def wmf_handles(*functions: int) -> Callable[[WmfHandler], WmfHandler]:
    def register(fn: WmfHandler) -> WmfHandler:
        for f in functions:
            WMF_HANDLERS[f] = fn
        return fn

    return register


@wmf_handles(0x020B, 0x020C, 0x020D, 0x020E, 0x020F, 0x0211)
def _window_viewport(p: WmfPlayer, rec: WmfRecord) -> None:
    y, x = p.shorts(rec, 0, 2)
    s = p.state
    if rec.function == 0x020B:
        s.window_org = (float(x), float(y))
    elif rec.function == 0x020C:
        s.window_ext = (float(x), float(y))
    elif rec.function == 0x020D:
        s.viewport_org = (float(x), float(y))
    elif rec.function == 0x020E:
        s.viewport_ext = (float(x), float(y))
        p.viewport_set = True
    elif rec.function == 0x020F:  # OffsetWindowOrg
        s.window_org = (s.window_org[0] + x, s.window_org[1] + y)
    else:
        s.viewport_org = (s.viewport_org[0] + x, s.viewport_org[1] + y)
    p.mapping_changed()


@wmf_handles(0x0410, 0x0412)
def _scale_extent(p: WmfPlayer, rec: WmfRecord) -> None:
    y_den, y_num, x_den, x_num = p.shorts(rec, 0, 4)
    scale_extent(p, rec.function == 0x0410, (x_num, x_den), (y_num, y_den))


@wmf_handles(0x0103)
def _set_map_mode(p: WmfPlayer, rec: WmfRecord) -> None:
    set_map_mode(p, p.shorts(rec, 0, 1)[0])


@wmf_handles(0x001E)
def _save_dc(p: WmfPlayer, rec: WmfRecord) -> None:
    p.save()


@wmf_handles(0x0127)
def _restore_dc(p: WmfPlayer, rec: WmfRecord) -> None:
    p.restore(p.shorts(rec, 0, 1)[0])


@wmf_handles(0x012E)
def _set_text_align(p: WmfPlayer, rec: WmfRecord) -> None:
    (p.state.text_align,) = p.shorts(rec, 0, 1, "H")


@wmf_handles(0x0214)
def _move_to(p: WmfPlayer, rec: WmfRecord) -> None:
    y, x = p.shorts(rec, 0, 2)
    p.state.position = (float(x), float(y))


@wmf_handles(0x0213)
def _line_to(p: WmfPlayer, rec: WmfRecord) -> None:
    y, x = p.shorts(rec, 0, 2)
    p.line_to(float(x), float(y))


@wmf_handles(0x0325, 0x0324)
def _poly(p: WmfPlayer, rec: WmfRecord) -> None:
    (count,) = p.shorts(rec, 0, 1)
    points = p.point_list(rec, 2, count)
    if rec.function == 0x0325:
        p.stroke(points)
    else:
        p.shape(points)


@wmf_handles(0x0538)
def _poly_polygon(p: WmfPlayer, rec: WmfRecord) -> None:
    (n_polys,) = p.shorts(rec, 0, 1, "H")
    counts = p.shorts(rec, 2, n_polys, "H")
    points = p.point_list(rec, 2 + 2 * n_polys, sum(counts))
    start = 0
    for count in counts:
        p.shape(points[start : start + count])
        start += count


@wmf_handles(0x041B, 0x061C)
def _rectangle(p: WmfPlayer, rec: WmfRecord) -> None:
    offset = 4 if rec.function == 0x061C else 0  # RoundRect: corner height and width first
    bottom, right, top, left = p.shorts(rec, offset, 4)
    p.shape([(left, top), (right, top), (right, bottom), (left, bottom)])


@wmf_handles(0x061D)
def _pat_blt(p: WmfPlayer, rec: WmfRecord) -> None:
    rop_low, rop_high, height, width, y, x = p.shorts(rec, 0, 6, "H")
    rop = rop_low | rop_high << 16
    height, width, y, x = (v - 0x10000 if v >= 0x8000 else v for v in (height, width, y, x))
    if rop in (0x00F00021, 0x00000042):
        p.fill_rects([(x, y, x + width, y + height)], rop == 0x42 or p.state.brush.visible)


@wmf_handles(0x02FA)
def _create_pen(p: WmfPlayer, rec: WmfRecord) -> None:
    style, width, _, color_low, color_high = p.shorts(rec, 0, 5, "H")
    color = color_low | color_high << 16
    p.add_object(Pen(visible=style & 0xF != 5 and color & 0xFFFFFF != 0xFFFFFF, width=float(width)))


@wmf_handles(0x02FC)
def _create_brush(p: WmfPlayer, rec: WmfRecord) -> None:
    style, color_low, color_high = p.shorts(rec, 0, 3, "H")
    color = color_low | color_high << 16
    p.add_object(Brush(style != 1 and not (style == 0 and color & 0xFFFFFF == 0xFFFFFF)))


@wmf_handles(0x01F9, 0x0142)
def _create_pattern_brush(p: WmfPlayer, rec: WmfRecord) -> None:
    p.add_object(Brush(True))


@wmf_handles(0x00F7, 0x06FF)
def _create_other(p: WmfPlayer, rec: WmfRecord) -> None:
    p.add_object(None)


@wmf_handles(0x02FB)
def _create_font(p: WmfPlayer, rec: WmfRecord) -> None:
    height, _width, escapement, _orientation, weight = p.shorts(rec, 0, 5)
    p.shorts(rec, 10, 4)  # italic .. pitch bytes present
    charset = p.data[rec.offset + 6 + 13]
    face_start = rec.offset + 6 + 18
    face_raw = p.data[face_start : min(face_start + 32, rec.offset + rec.size)].split(b"\0")[0]
    face = face_raw.decode(charset_codec(charset, "", face_raw), errors="replace")
    p.add_object(Font(float(height), float(escapement), weight, charset, face))


@wmf_handles(0x012D)
def _select_object(p: WmfPlayer, rec: WmfRecord) -> None:
    (slot,) = p.shorts(rec, 0, 1, "H")
    obj = p.objects.get(slot)
    s = p.state
    if isinstance(obj, Font):
        s.font = obj
    elif isinstance(obj, Pen):
        s.pen = obj
    elif isinstance(obj, Brush):
        s.brush = obj


@wmf_handles(0x01F0)
def _delete_object(p: WmfPlayer, rec: WmfRecord) -> None:
    p.delete_object(p.shorts(rec, 0, 1, "H")[0])


@wmf_handles(0x0521)
def _text_out(p: WmfPlayer, rec: WmfRecord) -> None:
    (length,) = p.shorts(rec, 0, 1)
    padded = length + (length & 1)
    if length < 0 or 2 + padded + 4 > rec.size - 6:
        raise UnsafeInputError(f"WMF record {rec.index}: TEXTOUT claims {length} bytes", "unsafe")
    raw = p.data[rec.offset + 8 : rec.offset + 8 + length]
    y, x = p.shorts(rec, 2 + padded, 2)
    _draw(p, rec, (float(x), float(y)), raw, ())


@wmf_handles(0x0A32)
def _ext_text_out(p: WmfPlayer, rec: WmfRecord) -> None:
    y, x, length, options = p.shorts(rec, 0, 4)
    at = 8 + (8 if options & (ETO_OPAQUE | ETO_CLIPPED) else 0)
    if length < 0 or at + length > rec.size - 6:
        raise UnsafeInputError(f"WMF record {rec.index}: EXTTEXTOUT claims {length} bytes", "unsafe")
    p.canvas.text_records[rec.function] += 1
    if length == 0:
        p.canvas.blank_text_records += 1
        return
    if options & ETO_GLYPH_INDEX:
        p.canvas.glyph_records += 1
        return
    raw = p.data[rec.offset + 6 + at : rec.offset + 6 + at + length]
    dx_at = at + length + (length & 1)
    dx = p.shorts(rec, dx_at, length) if dx_at + 2 * length <= rec.size - 6 else ()
    _draw(p, rec, (float(x), float(y)), raw, dx, counted=True)


def _draw(
    p: WmfPlayer, rec: WmfRecord, ref: Point, raw: bytes, dx: tuple[int, ...], counted: bool = False
) -> None:
    if not counted:
        p.canvas.text_records[rec.function] += 1
    if not raw:
        p.canvas.blank_text_records += 1
        return
    font = p.state.font
    text, advances = decode_ansi(raw, charset_codec(font.charset, font.face, raw), dx)
    p.draw_text(rec.index, ref, text, advances)


def play_wmf(data: bytes) -> Canvas:
    """Play a WMF picture; raises ReaderError for anything that is not a readable WMF."""
    canvas = WmfPlayer(data).play()
    canvas.fit_page()
    return canvas


def read(data: bytes, path: Path) -> Document:
    """Read a WMF picture: one page of text items and rulings, and the tables they draw."""
    started = time.perf_counter()
    return build_document(data, path, play_wmf(data), READER, started)


def tables_from_wmf(data: bytes) -> list[Table]:
    """The tables drawn in a WMF picture (pictures inside DOCX files)."""
    return canvas_tables(play_wmf(data), READER)
