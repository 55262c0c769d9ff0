"""Page images for OCR: decoding, limits, PDF pages, colour to gray, skew."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from zhibiao.errors import ReaderError, UnsafeInputError
from zhibiao.ocr import raster
from zhibiao.ocr.raster import (
    estimate_skew,
    image_frames,
    render_pdf_pages,
    rotate,
    rotate_quarter,
    to_gray,
)


def ruled_page(width: int = 1200, height: int = 900) -> np.ndarray:
    """A white page with a 6 x 4 ruled table and some text-like blocks (gray, uint8)."""
    import cv2

    page = np.full((height, width), 245, np.uint8)
    x0, x1, y0 = 100, 1100, 150
    for r in range(7):
        cv2.line(page, (x0, y0 + 80 * r), (x1, y0 + 80 * r), 30, 2)
    for x in (x0, 350, 600, 850, x1):
        cv2.line(page, (x, y0), (x, y0 + 480), 30, 2)
    for r in range(6):
        cv2.rectangle(page, (x0 + 20, y0 + 80 * r + 30), (x0 + 180, y0 + 80 * r + 50), 60, -1)
    return page


def png_bytes(array: np.ndarray, **save: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG", **save)
    return buf.getvalue()


def test_to_gray_lightens_red_ink_but_keeps_black() -> None:
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[0, 0] = (20, 20, 230)  # red stamp (BGR)
    bgr[0, 1] = (10, 10, 10)  # black text
    bgr[1, :] = (250, 250, 250)
    gray = to_gray(bgr)
    assert gray.shape == (2, 2) and gray.dtype == np.uint8
    assert gray[0, 0] > 200 and gray[0, 1] < 30


def test_to_gray_scales_16_bit_and_composites_alpha() -> None:
    deep = np.array([[0, 65535]], np.uint16)
    assert to_gray(deep).tolist() == [[0, 255]]
    bgra = np.zeros((1, 1, 4), np.uint8)  # fully transparent black -> white paper
    assert to_gray(bgra)[0, 0] == 255


def test_image_frames_reads_every_tiff_frame() -> None:
    frames = [Image.fromarray(np.full((40, 60), v, np.uint8)) for v in (10, 200)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    pages = list(image_frames(buf.getvalue()))
    assert [p.number for p in pages] == [1, 2]
    assert pages[0].image.shape == (40, 60) and pages[1].image.mean() == pytest.approx(200)
    assert pages[0].unit_per_px == 1.0


def test_image_frames_keeps_a_real_dpi_and_ignores_screen_defaults() -> None:
    array = np.full((30, 30), 128, np.uint8)
    assert next(image_frames(png_bytes(array, dpi=(300, 300)))).dpi == pytest.approx(300, abs=1)
    assert next(image_frames(png_bytes(array, dpi=(72, 72)))).dpi is None


def test_corrupt_and_empty_images_raise_reader_errors() -> None:
    data = png_bytes(np.zeros((50, 50), np.uint8))
    with pytest.raises(ReaderError) as err:
        list(image_frames(data[: len(data) // 2]))
    assert err.value.code == "corrupt"
    with pytest.raises(ReaderError):
        list(image_frames(b""))
    with pytest.raises(ReaderError):
        list(image_frames(b"not an image at all"))


def test_oversized_image_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raster, "MAX_PIXELS", 100)
    with pytest.raises(UnsafeInputError):
        list(image_frames(png_bytes(np.zeros((20, 20), np.uint8))))


def test_scanned_pdf_page_is_decoded_at_its_native_density() -> None:
    page = ruled_page()
    buf = io.BytesIO()
    Image.fromarray(page).save(buf, format="PDF", resolution=200.0)
    (image,) = list(render_pdf_pages(buf.getvalue()))
    assert image.source == "pdf-image"
    assert image.dpi == pytest.approx(200, rel=0.01)
    assert image.image.shape == page.shape
    assert image.size == pytest.approx((1200 * 72 / 200, 900 * 72 / 200), abs=0.5)


def test_pdf_page_selection_and_corrupt_pdf() -> None:
    buf = io.BytesIO()
    pages = [Image.fromarray(ruled_page(300, 200)) for _ in range(3)]
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=150.0)
    assert [p.number for p in render_pdf_pages(buf.getvalue(), [3, 1, 9])] == [1, 3]
    with pytest.raises(ReaderError) as err:
        list(render_pdf_pages(b"%PDF-1.7\n garbage"))
    assert err.value.code in ("corrupt", "encrypted")


@pytest.mark.parametrize("angle", [-1.2, 0.6, 2.0])
def test_skew_of_a_ruled_page_is_measured(angle: float) -> None:
    tilted = rotate(ruled_page(), -angle)  # turn the content clockwise by ``angle``
    assert estimate_skew(tilted) == pytest.approx(angle, abs=0.15)


def test_skew_of_a_text_page_without_rules() -> None:
    import cv2

    page = np.full((800, 800), 250, np.uint8)
    for row in range(12):
        for word in range(6):
            x = 60 + word * 115
            cv2.rectangle(page, (x, 80 + row * 55), (x + 90, 100 + row * 55), 40, -1)
    assert estimate_skew(rotate(page, -1.5)) == pytest.approx(1.5, abs=0.25)


def test_rotate_quarter_turns_counter_clockwise() -> None:
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    turned = rotate_quarter(array, 1)
    assert turned.shape == (3, 2) and turned[0].tolist() == [2, 5]


def test_density_of_an_unlabelled_page_scan_from_its_paper_ratio() -> None:
    assert raster.paper_dpi(1654, 2339) == 200.0  # A4 at 200 dpi, portrait
    assert raster.paper_dpi(2339, 1654) == 200.0  # and landscape
    assert raster.paper_dpi(2480, 3508) == 300.0
    assert raster.paper_dpi(1700, 2200) == 200.0  # US Letter
    assert raster.paper_dpi(1000, 1000) is None and raster.paper_dpi(300, 424) is None
    page = np.full((2339, 1654), 250, np.uint8)
    (frame,) = image_frames(png_bytes(page))
    assert frame.dpi == 200.0 and frame.unit_per_px == 1.0  # geometry stays in pixels
    (stated,) = image_frames(png_bytes(page, dpi=(300, 300)))
    assert stated.dpi == pytest.approx(300.0, abs=0.01)  # a density the file states wins


def bmp_dib(gray: np.ndarray) -> bytes:
    """A packed 8-bit gray DIB (BITMAPINFOHEADER, 256-entry palette, bottom-up rows)."""
    import struct

    h, w = gray.shape
    stride = (w + 3) // 4 * 4
    rows = np.full((h, stride), 255, np.uint8)
    rows[:, :w] = gray
    header = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 0, stride * h, 7874, 7874, 256, 0)
    palette = b"".join(bytes((v, v, v, 0)) for v in range(256))
    return header + palette + rows[::-1].tobytes()


def emf_with_bitmap(gray: np.ndarray, dpi: float = 200.0) -> bytes:
    """A minimal EMF (header, one EMR_STRETCHDIBITS, EOF) drawing ``gray`` over its whole frame."""
    import struct

    h, w = gray.shape
    dib = bmp_dib(gray)
    bmi, bits = dib[: 40 + 1024], dib[40 + 1024 :]
    frame = (0, 0, round(w / dpi * 2540), round(h / dpi * 2540))
    fixed = 80
    stretch = struct.pack(
        "<II4i6i8I",
        81,
        fixed + len(dib),
        0,
        0,
        w - 1,
        h - 1,
        0,
        0,
        0,
        0,
        w,
        h,
        fixed,
        len(bmi),
        fixed + len(bmi),
        len(bits),
        0,
        0x00CC0020,
        w,
        h,
    )
    eof = struct.pack("<5I", 14, 20, 0, 16, 20)
    size = 108 + len(stretch) + len(dib) + len(eof)
    header = struct.pack("<II4i4i4sIIIHHIIIiiiiIIIii", 1, 108, 0, 0, w - 1, h - 1, *frame, b" EMF", 0x10000,
                         size, 3, 1, 0, 0, 0, 0, w, h, round(w / dpi * 25.4), round(h / dpi * 25.4), 0, 0, 0,
                         round(w / dpi * 25400), round(h / dpi * 25400))  # fmt: skip
    return header + stretch + dib + eof


def test_bitmaps_drawn_by_an_emf_are_decoded() -> None:
    page = ruled_page(400, 300)
    (image,) = raster.metafile_bitmaps(emf_with_bitmap(page), "emf")
    assert image.shape == page.shape and np.array_equal(image, page)
    assert raster.metafile_bitmaps(emf_with_bitmap(page)[:200], "emf") == []  # truncated: no crash
    assert raster.metafile_bitmaps(b"\x01\0\0\0" + b"\xff" * 60, "emf") == []
