"""Page images and crops for annotation tasks, written under Label Studio's local-files root.

``LocalMedia(files_root, folder)`` renders PDF pages (pypdfium2) and copies image files as PNG into
``files_root/folder/`` and hands out ``/data/local-files/?d=<path relative to files_root>`` URLs, which
Label Studio serves once a local import storage covers the folder (``client.ensure_local_storage``).
No external URLs. Media without geometry (TXT, DOCX, workbooks) and EMF/WMF pictures get no images:
their tasks are text-only. Rendering failures leave a task without its image, never stop a push.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from zhibiao.annotations.tasks import CROP_MARGIN, PageImage

log = logging.getLogger(__name__)

MAX_SIDE_PX = 2000
"""Longest side of a rendered page (PDF pages are rendered at up to 2x, bounded by this)."""
PDF_SCALE = 2.0
IMAGE_FORMATS = frozenset({"png", "jpeg", "tiff", "bmp"})
MAX_TEXT_BYTES = 64 * 1024 * 1024


def local_files_url(files_root: Path, path: Path) -> str:
    """Label Studio's URL of a file under its local-files document root."""
    relative = path.resolve().relative_to(files_root.resolve()).as_posix()
    return f"/data/local-files/?d={quote(relative)}"


class LocalMedia:
    """Renders and caches page images of the documents being pushed (one folder per project)."""

    def __init__(self, files_root: Path, folder: str, pdf_scale: float = PDF_SCALE) -> None:
        self.files_root = files_root.resolve()
        self.directory = self.files_root / folder
        self.pdf_scale = pdf_scale
        self._pages: dict[tuple[str, int], tuple[Path, PageImage] | None] = {}
        self._texts: dict[str, str | None] = {}

    def _source(self, result: dict[str, Any]) -> tuple[Path, str, str] | None:
        source = result.get("source") or {}
        path = Path(str(source.get("path") or ""))
        if not source.get("sha256") or not path.is_file():
            return None
        return path, str(source["sha256"]), str(source.get("format") or "")

    def page_image(self, result: dict[str, Any], page: int) -> PageImage | None:
        """The page rendered as PNG (cached per document and page); ``None`` for media without pages."""
        found = self._render(result, page)
        return found[1] if found else None

    def _render(self, result: dict[str, Any], page: int) -> tuple[Path, PageImage] | None:
        source = self._source(result)
        if source is None:
            return None
        path, sha, fmt = source
        if (sha, page) not in self._pages:
            try:
                self._pages[(sha, page)] = self._write_page(path, sha, fmt, page)
            except Exception as exc:  # a page that cannot be rendered only loses its image
                log.warning("no image for %s page %s: %s", path.name, page, exc)
                self._pages[(sha, page)] = None
        return self._pages[(sha, page)]

    def _write_page(self, path: Path, sha: str, fmt: str, page: int) -> tuple[Path, PageImage] | None:
        target = self.directory / "pages" / sha[:16] / f"p{page}.png"
        if fmt == "pdf":
            return self._pdf_page(path, target, page)
        if fmt in IMAGE_FORMATS:
            return self._image_page(path, target, page)
        return None

    def _pdf_page(self, path: Path, target: Path, page: int) -> tuple[Path, PageImage] | None:
        import pypdfium2

        pdf = pypdfium2.PdfDocument(str(path))
        try:
            if not 1 <= page <= len(pdf):
                return None
            pdf_page = pdf[page - 1]
            width, height = pdf_page.get_size()
            scale = min(self.pdf_scale, MAX_SIDE_PX / max(width, height, 1.0))
            if not target.exists():
                image = pdf_page.render(scale=scale).to_pil()
                _save_png(image, target)
            width_px, height_px = _png_size(target)
        finally:
            pdf.close()
        return target, PageImage(local_files_url(self.files_root, target), width_px, height_px, width, height)

    def _image_page(self, path: Path, target: Path, page: int) -> tuple[Path, PageImage] | None:
        from PIL import Image

        with Image.open(path) as image:
            if page > getattr(image, "n_frames", 1):
                return None
            image.seek(page - 1)
            width, height = image.size
            if not target.exists():
                _save_png(image.convert("RGB") if image.mode not in ("L", "RGB") else image.copy(), target)
        return target, PageImage(
            local_files_url(self.files_root, target), width, height, float(width), float(height)
        )

    def crop(self, result: dict[str, Any], page: int, bbox: Sequence[float]) -> str | None:
        """A PNG of the page around ``bbox`` (full page width, a margin above and below)."""
        found = self._render(result, page)
        if found is None:
            return None
        page_path, image = found
        y0, y1 = float(bbox[1]), float(bbox[3])
        margin = max((y1 - y0) * CROP_MARGIN, 12.0)
        sy = image.height_px / image.height
        box = (
            0,
            max(0, int((y0 - margin) * sy)),
            image.width_px,
            min(image.height_px, int((y1 + margin) * sy) + 1),
        )
        if box[3] <= box[1]:
            return None
        digest = hashlib.sha1(f"{page_path}|{box}".encode()).hexdigest()[:16]
        target = page_path.parent / f"crop-{digest}.png"
        if not target.exists():
            from PIL import Image

            with Image.open(page_path) as page_image:
                _save_png(page_image.crop(box), target)
        return local_files_url(self.files_root, target)

    def source_text(self, result: dict[str, Any]) -> str | None:
        """The text of a UTF-8 text source (what gold spans of ``.txt`` renditions are offsets into)."""
        source = self._source(result)
        if source is None or source[2] != "txt":
            return None
        path, sha, _ = source
        if sha not in self._texts:
            try:
                data = path.read_bytes()[: MAX_TEXT_BYTES + 1]
                self._texts[sha] = data.decode("utf-8") if len(data) <= MAX_TEXT_BYTES else None
            except (OSError, UnicodeDecodeError):
                self._texts[sha] = None
        return self._texts[sha]


def _save_png(image: Any, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.png")
    image.save(tmp, format="PNG", optimize=False)
    tmp.replace(target)


def _png_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.size
