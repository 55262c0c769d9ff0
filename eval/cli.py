"""``zhibiao eval``: score predictions against gold (or extract a corpus and score it), report, gate.

    zhibiao eval --gold GOLD_DIR --pred PRED_DIR [--out DIR] [--gate eval/baselines/dev.json]
    zhibiao eval --run ../shared/corpus/dev [--peers] [--kinds pdf,docx] [--gate eval/baselines/dev.json]

``add_parser(subparsers)`` registers the sub-command on the main CLI; ``python -m zhibiao.eval``
runs it alone. Exit status: 0 scored (and the gate passed), 1 the gate failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("out/eval")


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``eval`` arguments to a parser."""
    source = parser.add_argument_group("what to score")
    source.add_argument("--gold", type=Path, help="gold directory (dev gold/*.json or annotations format)")
    source.add_argument("--pred", type=Path, help="directory of prediction JSON files (searched recursively)")
    source.add_argument(
        "--run", type=Path, metavar="CORPUS", help="extract every rendition in CORPUS, then score"
    )
    source.add_argument("--kinds", help="with --run: only these rendition kinds (comma separated)")
    source.add_argument(
        "--extractor", default="zhibiao.pipeline:extract", help="with --run: module:function to call per file"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"report directory (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--corpus", type=Path, help="corpus folder for texts and peers (default: gold's parent)"
    )
    parser.add_argument("--peers", action="store_true", help="also run the RapidOCR+RapidTable peer (slow)")
    parser.add_argument("--no-peers", action="store_true", help="skip the pdfplumber peer too")
    parser.add_argument(
        "--gate", type=Path, metavar="BASELINE", help="fail (exit 1) on a drop below this baseline"
    )
    parser.add_argument(
        "--write-baseline", type=Path, metavar="PATH", help="write the report's scores as baseline"
    )
    parser.add_argument(
        "--no-html", action="store_true", help="write report.json and report.md only, no figures"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary and the gate")
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``eval`` on the main CLI's sub-parsers; the handler is ``run``."""
    parser = subparsers.add_parser(
        "eval",
        help="score extraction against gold data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure(parser)
    parser.set_defaults(func=run)
    return parser


VERSIONED = ("zhibiao", "apted", "rapidfuzz", "pdfplumber", "rapidocr", "rapid-table", "onnxruntime")
"""Packages whose versions the report records (they change the numbers)."""


def run_meta() -> dict[str, Any]:
    """The reproducing command, time and package versions of this run."""
    import datetime
    import importlib.metadata
    import platform

    words = sys.argv[2:] if sys.argv[1:2] == ["eval"] else sys.argv[1:]
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "command": " ".join(["zhibiao eval", *words]),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "versions": versions,
    }


def _peers(args: argparse.Namespace, corpus: Path | None) -> Any:
    if args.no_peers or corpus is None:
        return None
    from zhibiao.eval.peers import run_peers

    return lambda gold_docs: run_peers(corpus, gold_docs, rapid=args.peers)


def run(args: argparse.Namespace) -> int:
    """Score, write the report, print tables, apply the gate."""
    try:
        return _run(args)
    except (OSError, ValueError) as exc:  # unreadable or invalid gold: say which, no traceback
        print(f"zhibiao eval: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from zhibiao.eval.harness import KINDS, evaluate_dirs, resolve_extractor, run_corpus

    if bool(args.run) == bool(args.pred):
        print("zhibiao eval: give either --run CORPUS or --gold DIR --pred DIR", file=sys.stderr)
        return 2
    kinds = [k for k in (args.kinds or "").split(",") if k]
    if unknown := [k for k in kinds if k not in KINDS]:
        print(f"zhibiao eval: unknown kinds {unknown}; known: {', '.join(KINDS)}", file=sys.stderr)
        return 2
    meta = run_meta()
    if args.run:
        if not args.run.is_dir():
            print(f"zhibiao eval: no corpus folder {args.run}", file=sys.stderr)
            return 2
        corpus = args.corpus or args.run
        progress = None if args.quiet else (lambda line: print(line, file=sys.stderr))
        try:
            extractor = resolve_extractor(args.extractor)
        except RuntimeError as exc:
            print(f"zhibiao eval: {exc}", file=sys.stderr)
            return 2
        peers = _peers(args, corpus)
        report = run_corpus(args.run, args.out, extractor, args.gold, kinds or None, peers, progress)
        report["meta"].update(meta)
    else:
        if args.gold is None or not args.gold.is_dir() or not args.pred.is_dir():
            print("zhibiao eval: --gold and --pred must be folders", file=sys.stderr)
            return 2
        corpus = args.corpus or args.gold.parent
        peers = _peers(args, corpus)
        from zhibiao.eval.gold import load_gold_dir

        peer_results = peers(load_gold_dir(args.gold)) if peers else None
        report = evaluate_dirs(args.gold, args.pred, corpus, peer_results, meta)
    return finish(report, args)


def finish(report: dict[str, Any], args: argparse.Namespace) -> int:
    """Write and print the report, then the baseline and the gate."""
    from zhibiao.eval.report import write_report

    written = write_report(report, args.out, html_report=not args.no_html)
    print_report(report, quiet=args.quiet)
    print("report: " + ", ".join(str(p) for p in written.values()))
    if args.write_baseline:
        from zhibiao.eval.gate import write_baseline

        print(f"baseline written: {write_baseline(report, args.write_baseline)}")
    if args.gate:
        from zhibiao.eval.gate import gate

        passed, lines = gate(report, args.gate)
        print("\n".join(lines))
        return 0 if passed else 1
    return 0


def print_report(report: dict[str, Any], quiet: bool = False) -> None:
    """Tables on the terminal: per rendition, per field, per document, peers."""
    from rich.console import Console
    from rich.table import Table as RichTable

    from zhibiao.eval import report as rep

    console = Console(width=200)
    views = [("Summary by rendition", rep.group_rows(report))]
    if not quiet:
        views += [
            ("Per field", rep.field_rows(report)),
            ("Per document", rep.document_rows(report)),
            ("Tables: zhibiao and peers", rep.peer_rows(report)),
        ]
    for title, (header, rows) in views:
        table = RichTable(title=title, show_lines=False)
        for column in header:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = configure(
        argparse.ArgumentParser(
            prog="python -m zhibiao.eval",
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    return run(parser.parse_args(argv))
