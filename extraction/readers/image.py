"""Image files (PNG, JPEG, TIFF incl. multi-page, BMP, GIF): one page per frame, all needing OCR.

The reader only decodes and checks the image (size limits, corrupt data) and describes its pages
(width/height in pixels, the unit of every OCR bbox on them); the text, rulings and tables come
from :func:`zhibiao.ocr.pages.ocr_document`, which the pipeline runs for pages marked
``needs_ocr``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from zhibiao.detect import detect_format
from zhibiao.model import Document, Page, SourceInfo
from zhibiao.ocr.raster import image_frames

READER = "image"


def read(data: bytes, path: Path) -> Document:
    """Pages of an image file, each ``needs_ocr`` with its size in pixels."""
    doc = Document(
        source=SourceInfo(
            path=str(path),
            sha256=hashlib.sha256(data).hexdigest(),
            format=detect_format(data),
            size=len(data),
        )
    )
    for frame in image_frames(data):
        height, width = frame.image.shape[:2]
        doc.pages.append(Page(number=frame.number, width=float(width), height=float(height), needs_ocr=True))
    doc.source.pages = len(doc.pages)
    return doc
