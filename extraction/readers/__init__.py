"""One reader per medium, looked up by detected format.

A reader is ``read(data: bytes, path: Path) -> Document``; it raises
``zhibiao.errors.ReaderError`` with a clear message for a file it cannot read.
Modules are imported lazily so a missing optional dependency only affects its format.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from zhibiao.errors import ReaderError
from zhibiao.model import Document

Reader = Callable[[bytes, Path], Document]

READERS: dict[str, str] = {
    "txt": "zhibiao.readers.txt:read",
    "docx": "zhibiao.readers.docx:read",
    "xlsx": "zhibiao.readers.workbook:read_xlsx",
    "xls": "zhibiao.readers.workbook:read_xls",
    "pdf": "zhibiao.readers.pdf_text:read",
    "emf": "zhibiao.readers.emf:read",
    "wmf": "zhibiao.readers.wmf:read",
    "png": "zhibiao.readers.image:read",
    "jpeg": "zhibiao.readers.image:read",
    "tiff": "zhibiao.readers.image:read",
    "bmp": "zhibiao.readers.image:read",
    "doc": "zhibiao.readers.legacy_doc:read",
}

UNREADABLE: dict[str, tuple[str, str]] = {
    "empty": ("empty", "the file is empty"),
    "encrypted": ("encrypted", "the file is password-protected (encrypted Office package)"),
    "corrupt-zip": ("corrupt", "the file starts like a zip package (DOCX/XLSX) but is corrupt or truncated"),
    "corrupt-cfb": ("corrupt", "the file starts like an OLE compound file (DOC/XLS) but is corrupt"),
    "zip": ("unsupported", "a zip archive that is neither DOCX nor XLSX"),
    "cfb": ("unsupported", "an OLE compound file that is neither DOC nor XLS"),
    "unknown": ("unsupported", "unrecognised file content"),
}


def get_reader(fmt: str) -> Reader:
    """The reader for a detected format, or a ReaderError saying why there is none."""
    if fmt in UNREADABLE:
        code, message = UNREADABLE[fmt]
        raise ReaderError(message, code)
    target = READERS.get(fmt)
    if target is None:
        raise ReaderError(f"no reader for format {fmt!r}", "unsupported")
    module_name, _, func = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("zhibiao"):
            raise ReaderError(f"the {fmt} reader is not available yet", "unsupported") from exc
        raise ReaderError(
            f"the {fmt} reader needs the package {exc.name!r}; install it to read this file",
            "missing-dependency",
        ) from exc
    return getattr(module, func)
