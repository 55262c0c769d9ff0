"""Page images for OCR: PDF pages (pypdfium2), image files (Pillow, multi-page TIFF), deskew.

Every page image is an 8-bit grayscale ``numpy`` array. :class:`PageImage` says how its pixels map
to the page's own units: PDF points for PDF pages (``unit_per_px = 72 / dpi``), pixels for
image files (``unit_per_px = 1``), so OCR geometry lands in the same units as the page's
other readers.

DPI: a scanned PDF page that is one full-page picture is decoded directly (its native pixels,
no resampling, ``dpi`` = pixels per inch of the picture); any other page is rendered at
``dpi`` (default: the native density of its largest picture, clamped to 150–300, else 200).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from zhibiao.errors import ReaderError, UnsafeInputError

DEFAULT_DPI = 200.0
MIN_DPI, MAX_DPI = 150.0, 300.0
MAX_PIXELS = 120_000_000
"""Largest page image accepted (about A0 at 300 dpi); bigger ones are refused as hostile."""
MAX_FRAMES = 2000
MAX_SKEW_DEGREES = 5.0


@dataclass(slots=True)
class PageImage:
    """One page or frame as a grayscale image, with the scale to the page's units."""

    number: int
    image: np.ndarray
    dpi: float | None = None
    unit_per_px: float = 1.0
    """Page units per pixel: 72/dpi for PDF pages (points), 1 for image files (pixels)."""
    source: str = ""
    """How the pixels were obtained: ``pdf-image`` (decoded picture), ``pdf-render``, ``image``."""

    @property
    def size(self) -> tuple[float, float]:
        """Page width and height in page units."""
        h, w = self.image.shape[:2]
        return (round(w * self.unit_per_px, 2), round(h * self.unit_per_px, 2))


# ---------------------------------------------------------------------------------------------
# Colour -> gray


def to_gray(image: np.ndarray) -> np.ndarray:
    """8-bit grayscale; red ink (stamps, pen marks) is lightened so it does not hide black text."""
    import cv2

    if image.ndim == 2:
        return image if image.dtype == np.uint8 else _to_uint8(image)
    image = _to_uint8(image)
    if image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = (image[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    b, g, r = (image[:, :, i].astype(np.int16) for i in range(3))
    reddish = (r - np.maximum(g, b)) > 60
    if reddish.any():
        gray = np.where(reddish, np.maximum(gray, r.astype(np.uint8)), gray)
    return gray


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == bool:
        return image.astype(np.uint8) * 255
    top = float(image.max()) if image.size else 1.0
    return np.clip(image.astype(np.float32) * (255.0 / max(top, 1.0)), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# PDF pages


def _open_pdf(data: bytes) -> object:
    import pypdfium2 as pdfium

    if not data.strip():
        raise ReaderError("the file is empty", "empty")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise ReaderError("the PDF is encrypted (password-protected)", "encrypted") from exc
        raise ReaderError(f"the PDF is corrupt or truncated ({exc})", "corrupt") from exc


def pdf_page_count(data: bytes) -> int:
    pdf = _open_pdf(data)
    try:
        return len(pdf)  # type: ignore[arg-type]
    finally:
        pdf.close()  # type: ignore[attr-defined]


def render_pdf_pages(
    data: bytes, pages: Iterable[int] | None = None, dpi: float | None = None
) -> Iterator[PageImage]:
    """Images of the given 1-based pages (all when ``None``), one page in memory at a time."""
    import pypdfium2 as pdfium

    pdf = _open_pdf(data)
    try:
        count = len(pdf)  # type: ignore[arg-type]
        wanted = range(1, count + 1) if pages is None else sorted({p for p in pages if 1 <= p <= count})
        for number in wanted:
            page = pdf[number - 1]  # type: ignore[index]
            try:
                yield _page_image(page, number, dpi)
            except pdfium.PdfiumError as exc:
                raise ReaderError(f"page {number} of the PDF cannot be rendered ({exc})", "corrupt") from exc
            finally:
                page.close()
    finally:
        pdf.close()  # type: ignore[attr-defined]


def _page_image(page: object, number: int, dpi: float | None) -> PageImage:
    width_pt, height_pt = page.get_size()  # type: ignore[attr-defined]
    picture = _full_page_picture(page, width_pt, height_pt)
    if picture is not None and dpi is None:
        obj, px_w, _px_h = picture
        native = px_w / (width_pt / 72.0)
        if MIN_DPI * 0.9 <= native <= MAX_DPI * 1.1:
            gray = to_gray(obj.get_bitmap(render=False).to_numpy())
            if gray.ndim == 3:
                gray = gray[:, :, 0]
            return PageImage(number, np.ascontiguousarray(gray), native, 72.0 / native, "pdf-image")
    if dpi is None:
        dpi = _native_dpi(page, width_pt) or DEFAULT_DPI
    scale = dpi / 72.0
    if width_pt * height_pt * scale * scale > MAX_PIXELS:
        raise UnsafeInputError(f"page {number} is too large to render ({width_pt:.0f}×{height_pt:.0f} pt)")
    bitmap = page.render(scale=scale, grayscale=True)  # type: ignore[attr-defined]
    gray = bitmap.to_numpy()
    if gray.ndim == 3:
        gray = gray[:, :, 0]
    return PageImage(number, np.ascontiguousarray(gray), dpi, 72.0 / dpi, "pdf-render")


def _images_of(page: object) -> list[object]:
    import pypdfium2 as pdfium

    return list(page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=2))  # type: ignore[attr-defined]


def _full_page_picture(page: object, width_pt: float, height_pt: float) -> tuple[object, int, int] | None:
    """The page's only picture when it covers the page unrotated (a scan), else None."""
    if page.get_rotation() != 0:  # type: ignore[attr-defined]
        return None
    images = _images_of(page)
    if len(images) != 1:
        return None
    obj = images[0]
    a, b, c, d, _e, _f = obj.get_matrix().get()  # type: ignore[attr-defined]
    if abs(b) > 1e-6 or abs(c) > 1e-6 or a <= 0 or d <= 0:
        return None
    if a * d < 0.9 * width_pt * height_pt:
        return None
    px_w, px_h = obj.get_px_size()  # type: ignore[attr-defined]
    if px_w * px_h > MAX_PIXELS or px_w < 16 or px_h < 16:
        return None
    return obj, int(px_w), int(px_h)


def _native_dpi(page: object, width_pt: float) -> float | None:
    """Pixel density of the page's largest picture, clamped to 150–300 dpi (None without one)."""
    best: tuple[float, float] | None = None
    for obj in _images_of(page)[:50]:
        x0, _y0, x1, _y1 = obj.get_bounds()  # type: ignore[attr-defined]
        px_w, _px_h = obj.get_px_size()  # type: ignore[attr-defined]
        shown = abs(x1 - x0)
        if shown < 0.2 * width_pt or px_w <= 0:
            continue
        if best is None or shown > best[0]:
            best = (shown, px_w / (shown / 72.0))
    if best is None:
        return None
    return float(min(max(best[1], MIN_DPI), MAX_DPI))


# ---------------------------------------------------------------------------------------------
# Image files


def image_frames(data: bytes) -> Iterator[PageImage]:
    """Every frame of a PNG/JPEG/TIFF/BMP/GIF (EXIF orientation applied), as grayscale pages."""
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    if not data:
        raise ReaderError("the file is empty", "empty")
    try:
        with Image.open(io.BytesIO(data)) as im:
            n_frames = int(getattr(im, "n_frames", 1) or 1)
            if n_frames > MAX_FRAMES:
                raise UnsafeInputError(f"the image has {n_frames} frames (more than {MAX_FRAMES})")
            for index, frame in enumerate(ImageSequence.Iterator(im), start=1):
                if index > MAX_FRAMES:
                    break
                w, h = frame.size
                if w * h > MAX_PIXELS:
                    raise UnsafeInputError(f"frame {index} is {w}×{h} pixels, too large to read safely")
                pixels = _pil_gray(ImageOps.exif_transpose(frame) if index == 1 else frame)
                dpi = _pil_dpi(frame.info.get("dpi")) or paper_dpi(pixels.shape[1], pixels.shape[0])
                yield PageImage(index, pixels, dpi, 1.0, "image")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ReaderError(f"the image is corrupt or truncated ({exc})", "corrupt") from exc
    except Image.DecompressionBombError as exc:
        raise UnsafeInputError(f"the image is too large to read safely ({exc})") from exc


def _pil_dpi(value: object) -> float | None:
    """The density an image file states, unless it is a screen default (72/96) or absurd."""
    try:
        dpi = float(value[0])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return None
    return dpi if 100 <= dpi <= 2400 else None


PAPER_SIZES_MM = {
    "A4": (210.0, 297.0),
    "Letter": (215.9, 279.4),
    "Legal": (215.9, 355.6),
}
"""Page sizes recognised from an image's side ratio. The ISO A sizes all share one ratio (√2), so
an A-ratio image is taken to be A4, the paper of government reports."""
PAPER_ASPECT_TOLERANCE = 0.01
"""A scan whose sides keep a paper size's ratio this closely is taken to be a page of that size."""


def paper_dpi(width_px: int, height_px: int) -> float | None:
    """The density of a page image that states none, when its sides have the ratio of a paper size
    (A4 at 200 dpi is 1654×2339 px, either way up), rounded to a whole dpi; None otherwise.

    Screenshots and photos rarely keep a paper ratio to 1 %, and a density outside 100–600 dpi is
    not believed, so other images keep ``dpi=None`` (their scale is then measured from their text).
    """
    short, long = sorted((width_px, height_px))
    if short < 400:
        return None
    for paper_short, paper_long in PAPER_SIZES_MM.values():
        if abs((long / short) / (paper_long / paper_short) - 1.0) <= PAPER_ASPECT_TOLERANCE:
            dpi = round(long / (paper_long / 25.4))
            if 100 <= dpi <= 600:
                return float(dpi)
    return None


def _pil_gray(frame: object) -> np.ndarray:
    """A Pillow frame as 8-bit gray (colour through :func:`to_gray`, alpha on white)."""
    mode = frame.mode  # type: ignore[attr-defined]
    if mode in ("L", "1"):
        return np.asarray(frame.convert("L"))  # type: ignore[attr-defined]
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _to_uint8(np.asarray(frame, dtype=np.float32))
    rgba = np.asarray(frame.convert("RGBA"))  # type: ignore[attr-defined]
    bgra = rgba[:, :, [2, 1, 0, 3]]
    return to_gray(np.ascontiguousarray(bgra))


# ---------------------------------------------------------------------------------------------
# Skew


def binarize(gray: np.ndarray) -> np.ndarray:
    """Ink mask (uint8 0/255, ink = 255) by Otsu's threshold."""
    import cv2

    _t, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask


def estimate_skew(gray: np.ndarray) -> float:
    """Page skew in degrees (positive = the content is turned clockwise), from long ruling lines
    where the page has them, else from the text rows' projection profile."""
    import cv2

    scale = min(1.0, 1000.0 / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    ink = binarize(small)
    angle = _skew_from_lines(ink)
    if angle is None:
        angle = _skew_from_profile(ink)
    return float(np.clip(angle, -MAX_SKEW_DEGREES, MAX_SKEW_DEGREES))


def _skew_from_lines(ink: np.ndarray) -> float | None:
    """Median slope of the longest horizontal strokes (table rulings, underlines)."""
    import cv2

    w = ink.shape[1]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(15, w // 40), 1))
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
    lines = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 3)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    long_ones = [i for i in range(1, n) if stats[i, cv2.CC_STAT_WIDTH] >= 0.25 * w]
    long_ones.sort(key=lambda i: -stats[i, cv2.CC_STAT_WIDTH])
    angles, weights = [], []
    for i in long_ones[:12]:
        x, y, bw, bh = stats[i, :4]
        ys, xs = np.nonzero(ink[y : y + bh, x : x + bw] & (labels[y : y + bh, x : x + bw] == i))
        if len(xs) < 20 or np.ptp(xs) < 0.2 * w:
            continue
        slope = np.polyfit(xs.astype(np.float64), ys.astype(np.float64), 1)[0]
        angles.append(math.degrees(math.atan(slope)))
        weights.append(float(bw))
    if len(angles) < 2:
        return None
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][np.searchsorted(cum, cum[-1] / 2)])


def _skew_from_profile(ink: np.ndarray) -> float:
    """The rotation that makes the row sums of ink the most peaked (text lines horizontal)."""
    if not ink.any():
        return 0.0

    def sharpness(angle: float) -> float:
        rows = rotate(ink, angle, fill=0).sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(rows)).sum())

    best = max(np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.01, 0.5), key=sharpness)
    fine = np.arange(best - 0.5, best + 0.51, 0.1)
    return float(max(fine, key=sharpness))


def rotate(gray: np.ndarray, angle: float, fill: int = 255) -> np.ndarray:
    """The image turned by ``angle`` degrees counter-clockwise about its centre (same size)."""
    import cv2

    if abs(angle) < 1e-3:
        return gray
    h, w = gray.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def deskew(gray: np.ndarray, min_angle: float = 0.05) -> tuple[np.ndarray, float]:
    """The image straightened, and the skew angle that was removed (degrees)."""
    angle = estimate_skew(gray)
    if abs(angle) < min_angle:
        return gray, 0.0
    return rotate(gray, angle), angle


def rotate_quarter(gray: np.ndarray, quarter_turns: int) -> np.ndarray:
    """The image turned counter-clockwise by ``quarter_turns`` × 90°."""
    return np.ascontiguousarray(np.rot90(gray, quarter_turns % 4))


# ---------------------------------------------------------------------------------------------
# Bitmaps inside EMF / WMF pictures (a scan or screenshot pasted as a metafile)

EMR_BITMAP_RECORDS = {
    76: (84, 88, 92, 96),  # EMR_BITBLT: offBmiSrc, cbBmiSrc, offBitsSrc, cbBitsSrc
    77: (84, 88, 92, 96),  # EMR_STRETCHBLT
    80: (48, 52, 56, 60),  # EMR_SETDIBITSTODEVICE
    81: (48, 52, 56, 60),  # EMR_STRETCHDIBITS
}
"""EMF record types that carry a device-independent bitmap, with the byte positions (from the
record's start) of the fields locating its header and its pixels."""
WMF_DIB_OFFSETS = {0x0F43: 28, 0x0B41: 26, 0x0940: 22, 0x0D33: 24}
"""WMF records carrying a packed DIB (META_STRETCHDIB, META_DIBSTRETCHBLT, META_DIBBITBLT,
META_SETDIBTODEV) -> byte position of the DIB in the record."""
MAX_RECORDS = 1_000_000
MAX_BITMAPS = 64


def metafile_bitmaps(data: bytes, fmt: str) -> list[np.ndarray]:
    """The bitmaps an EMF or WMF picture draws, as grayscale images, largest first.

    Records are walked by their own sizes (bounded by the data); a bitmap that does not decode
    is skipped. An image larger than ``MAX_PIXELS`` is refused as hostile.
    """
    dibs = _emf_dibs(data) if fmt == "emf" else _wmf_dibs(data) if fmt == "wmf" else []
    images = []
    for dib in dibs[:MAX_BITMAPS]:
        image = decode_dib(dib)
        if image is not None:
            images.append(image)
    return sorted(images, key=lambda im: -im.size)


def _emf_dibs(data: bytes) -> list[bytes]:
    """Packed DIBs (header + colour table + pixels) of an EMF's bitmap records."""
    import struct

    out, offset = [], 0
    for _ in range(MAX_RECORDS):
        if offset + 8 > len(data):
            break
        rtype, size = struct.unpack_from("<II", data, offset)
        if size < 8 or size % 4 or offset + size > len(data):
            break
        fields = EMR_BITMAP_RECORDS.get(rtype)
        if fields and size >= fields[3] + 4:
            at = [struct.unpack_from("<I", data, offset + f)[0] for f in fields]
            off_bmi, cb_bmi, off_bits, cb_bits = at
            if cb_bmi and cb_bits and off_bmi + cb_bmi <= size and off_bits + cb_bits <= size:
                record = data[offset : offset + size]
                out.append(record[off_bmi : off_bmi + cb_bmi] + record[off_bits : off_bits + cb_bits])
        if rtype == 14:  # EMR_EOF
            break
        offset += size
    return out


def _wmf_dibs(data: bytes) -> list[bytes]:
    """Packed DIBs of a WMF's bitmap records (after the optional placeable header)."""
    import struct

    start = 22 if data[:4] == b"\xd7\xcd\xc6\x9a" else 0
    if len(data) < start + 18:
        return []
    header_words = struct.unpack_from("<H", data, start + 2)[0]
    offset = start + 2 * header_words
    out = []
    for _ in range(MAX_RECORDS):
        if offset + 6 > len(data):
            break
        words, function = struct.unpack_from("<IH", data, offset)
        size = 2 * words
        if size < 6 or offset + size > len(data):
            break
        at = WMF_DIB_OFFSETS.get(function)
        if at is not None and size > at + 40:
            out.append(data[offset + at : offset + size])
        if function == 0:  # META_EOF
            break
        offset += size
    return out


def decode_dib(dib: bytes) -> np.ndarray | None:
    """A packed DIB as 8-bit gray (via a BMP file header; embedded JPEG/PNG decoded directly)."""
    import struct

    from PIL import Image

    if len(dib) < 16:
        return None
    header_size = struct.unpack_from("<I", dib, 0)[0]
    if header_size < 12 or header_size > len(dib):
        return None
    if header_size == 12:
        width, height, _planes, bits = struct.unpack_from("<HHHH", dib, 4)
        compression, colours, entry = 0, 0, 3
    else:
        width, height, _planes, bits, compression = struct.unpack_from("<iiHHI", dib, 4)
        colours = struct.unpack_from("<I", dib, 32)[0] if header_size >= 36 else 0
        entry = 4
    if width <= 0 or height == 0 or abs(width * height) > MAX_PIXELS:
        return None
    try:
        if compression in (4, 5):  # BI_JPEG, BI_PNG: the pixels are a whole image file
            with Image.open(io.BytesIO(dib[header_size:])) as im:
                return _pil_gray(im)
        palette = (colours or (1 << bits if bits <= 8 else 0)) * entry
        masks = 12 if compression == 3 and header_size == 40 else 0
        pixels_at = 14 + header_size + masks + palette
        bmp = b"BM" + struct.pack("<IHHI", 14 + len(dib), 0, 0, pixels_at) + dib
        with Image.open(io.BytesIO(bmp)) as im:
            return _pil_gray(im)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
