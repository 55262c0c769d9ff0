"""Static HTML review report: a page per document and an archive overview (``zhibiao report``).

``write_report(out_dir)`` builds ``out_dir/report/index.html`` and the pages it links to from the
document JSONs in ``out_dir``; see :mod:`zhibiao.report.build`. Importing this package is cheap
(the builder loads on first use), so the command line stays fast.
"""

from __future__ import annotations

from pathlib import Path


def write_report(out_dir: Path, inputs: dict[str, Path] | None = None) -> Path:
    """Build ``out_dir/report/`` from the document JSONs in ``out_dir``; return its ``index.html``."""
    from zhibiao.report.build import write_report as build

    return build(Path(out_dir), inputs)


__all__ = ["write_report"]
