"""Which source wins where a document holds more than one (the ``--prefer`` switch).

By default the most exact source wins (``exact``): an embedded workbook over its EMF preview, a
PDF's text layer over OCR; the other sources are cross-checks. For debugging a user may force:

- ``preview``: embedded objects are read from their preview picture (EMF/WMF records), not the workbook;
- ``ocr``: pages are rasterised and OCR'd even where a text layer exists (PDF, pictures).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SOURCES = ("exact", "preview", "ocr")

_PREFERRED: ContextVar[str] = ContextVar("zhibiao_preferred_source", default="exact")


def preferred_source() -> str:
    """The source forced for the extraction running in this context (``exact`` when none is)."""
    return _PREFERRED.get()


@contextmanager
def prefer(source: str) -> Iterator[None]:
    """Force ``source`` (one of ``SOURCES``) for the readers called inside the block."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    token = _PREFERRED.set(source)
    try:
        yield
    finally:
        _PREFERRED.reset(token)
