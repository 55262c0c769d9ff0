"""Headless Chromium for looking at the report: the system's Debian ``chromium`` driven by the
Playwright Python package (no browser download), for the browser tests and README screenshots.

``scripts/setup_browser.sh`` installs ``chromium`` where it is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
"""Offline, quiet and root-friendly: no update checks, no sync, no first-run pages."""
CHROMIUM_ENV = "ZHIBIAO_CHROMIUM"
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> Path | None:
    """The Chromium executable: ``$ZHIBIAO_CHROMIUM``, Debian's ``/usr/bin/chromium``, or on PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(found) if found else None


def missing_browser() -> str | None:
    """Why the browser cannot run here (None when it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright; no browser download)"
    if chromium_path() is None:
        return "no chromium executable (bash scripts/setup_browser.sh, or set ZHIBIAO_CHROMIUM)"
    return None


def launch(playwright: object) -> object:
    """A headless Chromium browser from a running ``sync_playwright()`` context."""
    path = chromium_path()
    if path is None:
        raise RuntimeError(missing_browser() or "no chromium")
    return playwright.chromium.launch(executable_path=str(path), args=list(CHROMIUM_ARGS))  # type: ignore[attr-defined]


def shrink_png(path: Path, colors: int = 128) -> int:
    """Re-save a screenshot as a palette PNG (a fraction of the size); return the new size in bytes."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    small.save(path, format="PNG", optimize=True)
    return path.stat().st_size
