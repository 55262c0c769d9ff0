"""``zhibiao batch``: convert a whole archive, resumably, in parallel (local processes or Ray)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ABORTED = 0, 1, 2, 3


def _reporter(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from zhibiao.batch.progress import JsonLog, RichBar

    return JsonLog() if args.json_log else RichBar(quiet=args.quiet)


def cmd_collect(out_dir: Path, args: argparse.Namespace) -> int:
    from zhibiao.batch.collect import collect

    if not out_dir.is_dir():
        print(f"zhibiao batch --collect: {out_dir} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    stats = collect(out_dir)
    if not args.quiet:
        print(
            f"{stats.documents} documents, {stats.records} records, {stats.errors} failed inputs "
            f"-> {out_dir}/records.parquet|csv|xlsx, errors.csv|json",
            file=sys.stderr,
        )
        for line in [*stats.warnings, *(f"unreadable document JSON: {p}" for p in stats.unreadable)]:
            print(line, file=sys.stderr)
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from zhibiao.batch.inputs import InputError
    from zhibiao.batch.local import ExecutorError
    from zhibiao.batch.run import BatchOptions, run_batch

    if args.collect:
        return cmd_collect(Path(args.output or args.source), args)
    if not args.output:
        print("zhibiao batch: -o OUT_DIR is required", file=sys.stderr)
        return EXIT_USAGE
    options = BatchOptions(
        workers=args.workers,
        executor=args.executor,
        ray_address=args.ray_address,
        timeout=args.timeout or None,
        max_memory_mb=args.max_memory_mb,
        ocr=not args.no_ocr,
        ocr_engine=args.ocr_engine,
        max_bytes=int(args.max_file_mb * 1024 * 1024),
        retry_failed=args.retry_failed,
    )
    reporter = _reporter(args)
    out_dir = Path(args.output)
    try:
        summary = run_batch(Path(args.source), out_dir, options, reporter)
    except InputError as exc:
        print(f"zhibiao batch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ExecutorError as exc:
        print(f"zhibiao batch: stopped: {exc}", file=sys.stderr)
        return EXIT_ABORTED
    if not args.no_report:
        from zhibiao.report import write_report

        reporter.message(f"review report: {write_report(out_dir)}")
    reporter.finish(summary.as_dict())
    failed = summary.statuses.get("error", 0) + summary.statuses.get("timeout", 0)
    return EXIT_FAILED if failed else EXIT_OK


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``zhibiao batch``."""
    p = subparsers.add_parser(
        "batch",
        help="convert a directory tree or a CSV/JSONL list of files into OUT_DIR (resumable, parallel)",
        description="Converts every input into OUT_DIR/<relative path>.json, recording each file's status in "
        "OUT_DIR/batch.sqlite; a rerun skips files already done with the same content and settings. "
        "Writes records.parquet/csv/xlsx and errors.csv/json at the end. Exit status: 0 all ok, "
        "1 some files failed, 2 usage error, 3 stopped (workers cannot start).",
    )
    p.add_argument(
        "source", metavar="INPUT_DIR_OR_MANIFEST", help="directory (walked recursively) or .csv/.jsonl"
    )
    p.add_argument("-o", "--output", metavar="OUT_DIR", help="output directory (required unless --collect)")
    p.add_argument("--workers", type=int, default=None, help="parallel workers (default: one per core)")
    p.add_argument("--executor", choices=("local", "ray"), default="local", help="local processes or Ray")
    p.add_argument("--ray-address", default=None, help="Ray cluster address (default: start a local Ray)")
    p.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per file before it is killed (0: none)"
    )
    p.add_argument(
        "--max-memory-mb", type=int, default=4096, help="address-space limit per worker in MiB (0: none)"
    )
    p.add_argument("--max-file-mb", type=float, default=512, help="files larger than this are refused")
    p.add_argument("--no-ocr", action="store_true", help="do not OCR pages without a text layer")
    p.add_argument("--ocr-engine", default="rapidocr", help="OCR engine (see zhibiao extract --help)")
    p.add_argument("--retry-failed", action="store_true", help="rerun files recorded as error or timeout")
    p.add_argument(
        "--json-log", action="store_true", help="one JSON line per event on stdout, no progress bar"
    )
    p.add_argument(
        "--collect",
        action="store_true",
        help="only rebuild records.* and errors.* of OUT_DIR (no conversion)",
    )
    p.add_argument("--no-report", action="store_true", help="skip the HTML review report (OUT_DIR/report/)")
    p.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    p.set_defaults(func=cmd_batch)
