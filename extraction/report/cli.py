"""``zhibiao report OUT_DIR [--open]``: build the static HTML review report of an output directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_USAGE = 0, 2


def cmd_report(args: argparse.Namespace) -> int:
    from zhibiao.report.build import REPORT_DIR, build_report

    out_dir = Path(args.out_dir)
    if not out_dir.is_dir():
        print(f"zhibiao report: {out_dir} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    stats = build_report(out_dir)
    index = out_dir / REPORT_DIR / "index.html"
    if not args.quiet:
        skipped = f", {len(stats.skipped)} other JSON files skipped" if stats.skipped else ""
        print(
            f"report: {stats.documents} documents, {stats.pictures} page images{skipped} "
            f"in {stats.seconds:.1f} s -> {index}"
        )
    if args.open:
        import webbrowser

        webbrowser.open(index.resolve().as_uri())
    return EXIT_OK


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``zhibiao report``."""
    p = subparsers.add_parser(
        "report", help="write a static HTML review report of DIR's document JSONs into DIR/report/"
    )
    p.add_argument(
        "out_dir", metavar="OUT_DIR", help="directory holding the document JSONs (zhibiao extract -o)"
    )
    p.add_argument("--open", action="store_true", help="open the overview in the web browser afterwards")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=cmd_report)
