"""Make the README's screenshots of the review report: docs/img/overview.png and docs/img/document.png.

    WITH_CJK_FONTS=1 bash scripts/setup_browser.sh   # chromium, playwright, a CJK font
    .venv/bin/python scripts/make_screenshots.py [--out docs/img]

Extracts the bundled samples, the flagged demo workbook and (where ../shared is present) a few
dev corpus files into a temporary directory, builds the report, and photographs the overview
and a document page with a record selected in headless Chromium at 1280×800; the PNGs are
re-saved with a 128-colour palette to stay small.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from zhibiao.export.writers import write_json
from zhibiao.pipeline import ExtractOptions, extract
from zhibiao.report import write_report
from zhibiao.report.browser import launch, missing_browser, shrink_png
from zhibiao.report.demo import write_flagged_workbook

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ZHIBIAO_SHARED", REPO.parent / "shared"))
DEV = SHARED / "corpus" / "dev"
DEV_FILES = (
    "000_c9021f7b19f56ffc.pdf",
    "000_c9021f7b19f56ffc_ole.docx",
    "001_def97523c2bc9572.txt",
    "003_4840a7d78a699b0b.xlsx",
    "000_c9021f7b19f56ffc_emf/table1.emf",
)
DOCUMENT_SHOT = "000_c9021f7b19f56ffc"
"""The document photographed (a text-layer PDF: its pages rendered, cells over them), else the demo."""
VIEWPORT = {"width": 1280, "height": 800}
MAX_BYTES = 200_000


def build(work: Path) -> Path:
    """Extract the demo inputs into ``work/out`` and build the report; return the report root."""
    inputs = [
        *sorted((REPO / "extraction" / "samples").iterdir()),
        write_flagged_workbook(work / "flagged.xlsx"),
    ]
    inputs += [DEV / name for name in DEV_FILES if (DEV / name).exists()]
    out = work / "out"
    for path in inputs:
        write_json(extract(path, ExtractOptions(ocr=False)), out / f"{path.stem}.json")
    return write_report(out).parent


def photograph(root: Path, out_dir: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    document = DOCUMENT_SHOT if (root / "docs" / f"{DOCUMENT_SHOT}.html").exists() else "flagged"
    shots = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
        page.goto((root / "index.html").as_uri())
        shots.append(_save(page, out_dir / "overview.png"))
        page.goto((root / "docs" / f"{document}.html").as_uri())
        flagged = page.locator("tr[data-flag]").first
        flagged.click()
        page.wait_for_timeout(200)
        shots.append(_save(page, out_dir / "document.png"))
        browser.close()  # type: ignore[attr-defined]
    return shots


def _save(page: object, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    size = shrink_png(path)
    if size > MAX_BYTES:
        size = shrink_png(path, colors=48)
    print(f"{path}: {size // 1024} KB")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img", help="where the PNGs go")
    args = parser.parse_args(argv)
    reason = missing_browser()
    if reason:
        print(f"make_screenshots: {reason}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="zhibiao-shots-") as tmp:
        photograph(build(Path(tmp)), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
