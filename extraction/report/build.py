"""Build the static review report of an output directory: ``OUT_DIR/report/``.

::

    report/index.html, index-2.html …   archive overview (100 documents a page), errors.html
    report/docs/<json stem>.html         one review page per document JSON
    report/assets/report.css, report.js  style and behaviour (local files, no network)
    report/assets/pages/*.png|jpg        rendered pages (reused across runs, unused ones pruned)

Every page works from ``file://`` with no server and loads nothing remote.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from zhibiao.report.document import document_html
from zhibiao.report.overview import overview_name, overview_pages, page_name, page_of
from zhibiao.report.pages import page_views, resolve_source
from zhibiao.report.review import review_items
from zhibiao.report.summary import DocSummary, summarize, totals
from zhibiao.result import ExtractionResult

REPORT_DIR = "report"
STATIC_FILES = ("report.css", "report.js")


@dataclass
class ReportStats:
    """What one build did (for the command line and for timing tests)."""

    documents: int = 0
    skipped: list[str] = field(default_factory=list)
    pictures: int = 0
    seconds: float = 0.0


def load_result(path: Path) -> ExtractionResult | None:
    """The document JSON at ``path``, or None when the file is not one (or is unreadable)."""
    try:
        return ExtractionResult.model_validate_json(path.read_bytes())
    except (OSError, ValueError, ValidationError):
        return None


def write_static(assets: Path) -> None:
    """Copy the style sheet and script next to the pages."""
    assets.mkdir(parents=True, exist_ok=True)
    package = resources.files("zhibiao.report") / "static"
    for name in STATIC_FILES:
        (assets / name).write_text(package.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")


def _clear_pages(root: Path) -> None:
    """Remove the HTML of an earlier build (documents may have gone since); pictures are kept."""
    for stale in [*root.glob("index*.html"), root / "errors.html", *(root / "docs").glob("*.html")]:
        stale.unlink(missing_ok=True)


def _prune_pictures(pictures: Path, used: set[str]) -> None:
    for path in pictures.glob("*"):
        if path.is_file() and path.name not in used:
            path.unlink(missing_ok=True)


def _override(inputs: dict[str, Path] | None, name: str, result: ExtractionResult) -> Path | None:
    if not inputs:
        return None
    return inputs.get(name) or inputs.get(result.source.path)


def write_document_page(
    result: ExtractionResult,
    summary: DocSummary,
    position: int,
    out_dir: Path,
    root: Path,
    source_override: Path | None,
) -> set[str]:
    """Write ``docs/<name>.html``; return the names of the pictures it shows."""
    pictures = root / "assets" / "pages"
    items = review_items(result)
    source = resolve_source(result, out_dir, source_override)
    views, notes = page_views(result, items, source, pictures, root)
    back = f"../{overview_name(page_of(position))}"
    html = document_html(result, summary, items, views, notes, source, back)
    (root / "docs" / page_name(summary.name)).write_text(html, encoding="utf-8")
    return {Path(v.image).name for v in views if v.image}


BATCH_FILES = frozenset({"errors.json"})
"""JSON files a batch writes next to the documents (``zhibiao.batch.collect``): not documents."""


def document_jsons(out_dir: Path) -> list[Path]:
    """Every JSON under ``out_dir`` (a batch mirrors its input tree), outside ``report/``, hidden files and
    the batch's own files."""
    return sorted(
        path
        for path in out_dir.rglob("*.json")
        if path.relative_to(out_dir).parts[0] != REPORT_DIR
        and not path.name.startswith(".")
        and path.relative_to(out_dir).as_posix() not in BATCH_FILES
    )


def build_report(out_dir: Path, inputs: dict[str, Path] | None = None) -> ReportStats:
    """Write the report of every document JSON under ``out_dir``; return what it did."""
    start = time.perf_counter()
    out_dir = Path(out_dir)
    root = out_dir / REPORT_DIR
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "assets" / "pages").mkdir(parents=True, exist_ok=True)
    _clear_pages(root)
    write_static(root / "assets")
    stats = ReportStats()
    summaries: list[DocSummary] = []
    used: set[str] = set()
    for json_path in document_jsons(out_dir):
        result = load_result(json_path)
        rel = json_path.relative_to(out_dir)
        if result is None:
            stats.skipped.append(rel.as_posix())
            continue
        summary = summarize(rel.with_suffix("").as_posix(), result)
        override = _override(inputs, summary.name, result)
        used |= write_document_page(result, summary, len(summaries), out_dir, root, override)
        summaries.append(summary)
    source = f"{len(summaries)} document JSONs in {out_dir.resolve()}"
    if stats.skipped:
        source += f"; {len(stats.skipped)} other JSON files skipped ({', '.join(stats.skipped[:5])})"
    for name, html in overview_pages(summaries, totals(summaries), source).items():
        (root / name).write_text(html, encoding="utf-8")
    _prune_pictures(root / "assets" / "pages", used)
    stats.documents = len(summaries)
    stats.pictures = len(used)
    stats.seconds = time.perf_counter() - start
    return stats


def write_report(out_dir: Path, inputs: dict[str, Path] | None = None) -> Path:
    """Build ``out_dir/report/`` from the document JSONs in ``out_dir``; return its ``index.html``.

    ``inputs`` optionally maps a JSON's stem (or its ``source.path``) to the source file, for when
    the file has moved since extraction; pages are rendered from the source where it is found
    unchanged (same sha256), else drawn from the cells' geometry or grid.
    """
    build_report(out_dir, inputs)
    return Path(out_dir) / REPORT_DIR / "index.html"
