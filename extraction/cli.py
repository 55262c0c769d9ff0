"""The ``zhibiao`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from zhibiao import __version__
from zhibiao.readers.preference import SOURCES

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

OPTIONAL_COMMANDS = (
    "zhibiao.eval.cli",
    "zhibiao.batch.cli",
    "zhibiao.report.cli",
    "zhibiao.annotations.cli",
    "zhibiao.models.cli",
)
"""Modules that each register subcommands with ``add_parser(subparsers)`` (setting ``func``)."""


def output_names(paths: Sequence[Path]) -> dict[Path, str]:
    """JSON file name per input: ``<stem>.json``, or ``<name>.json`` where stems collide in one run."""
    stems = Counter(p.stem for p in paths)
    return {p: f"{p.stem if stems[p.stem] == 1 else p.name}.json" for p in paths}


def expand_inputs(items: Sequence[str]) -> list[Path]:
    """Files as given; a directory contributes the files directly inside it, sorted."""
    paths: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            paths.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
        else:
            paths.append(path)
    return paths


def collect_records(out_dir: Path) -> int:
    """Rebuild ``records.csv`` and ``records.xlsx`` from every document JSON in ``out_dir``."""
    from zhibiao.export.writers import record_rows, write_csv, write_xlsx
    from zhibiao.result import ExtractionResult

    rows = []
    for json_path in sorted(out_dir.glob("*.json")):
        try:
            payload = json.loads(json_path.read_text(encoding="utf-8"))
            result = ExtractionResult.model_validate(payload)
        except ValueError:
            continue  # not a document JSON (e.g. a report written next to them)
        rows.extend(record_rows(result))
    write_csv(rows, out_dir / "records.csv")
    write_xlsx(rows, out_dir / "records.xlsx")
    return len(rows)


def _progress(total: int, quiet: bool):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]extract"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        disable=quiet or total < 2 or not sys.stderr.isatty(),
        transient=True,
    )


def cmd_extract(args: argparse.Namespace) -> int:
    from zhibiao.export.writers import write_json
    from zhibiao.pipeline import ExtractOptions, extract

    paths = expand_inputs(args.files)
    if not paths:
        print("zhibiao extract: no input files", file=sys.stderr)
        return EXIT_USAGE
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    options = ExtractOptions(ocr=not args.no_ocr, ocr_engine=args.ocr_engine, prefer=args.prefer)
    names = output_names(paths)
    failures = 0
    with _progress(len(paths), args.quiet) as progress:
        task = progress.add_task("", total=len(paths))
        for path in paths:
            progress.update(task, description=path.name)
            result = extract(path, options)
            write_json(result, out_dir / names[path])
            n_ind = sum(len(p.indicators) for p in result.projects) + len(result.narrative_indicators)
            if result.errors:
                failures += 1
                err = result.errors[0]
                progress.console.print(
                    f"[red]✗[/red] {path}: {err.code}: {err.message}", highlight=False, soft_wrap=True
                )
            elif not args.quiet:
                progress.console.print(
                    f"[green]✓[/green] {path}: {len(result.projects)} projects, {n_ind} indicators, "
                    f"{len(result.tables)} tables",
                    highlight=False,
                )
            progress.advance(task)
    n_rows = collect_records(out_dir)
    if not args.quiet:
        print(
            f"{len(paths) - failures}/{len(paths)} files read; {n_rows} records in {out_dir / 'records.csv'}"
        )
    if not args.no_report:
        from zhibiao.report import write_report

        index = write_report(out_dir)
        if not args.quiet:
            print(f"review report: {index}")
    return EXIT_FAILED if failures else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from zhibiao.export.schema import SCHEMA_PATH, build_schema, write_schema

    if args.write:
        print(write_schema())
    else:
        print(json.dumps(build_schema(), ensure_ascii=False, indent=1))
        print(f"# published at {SCHEMA_PATH}", file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zhibiao",
        description="Performance self-evaluation reports (绩效自评表) -> checked indicator records",
    )
    parser.add_argument("--version", action="version", version=f"zhibiao {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("extract", help="extract records from files into DIR/<stem>.json + records.csv/xlsx")
    p.add_argument("files", nargs="+", help="input files (any supported format) or directories")
    p.add_argument("-o", "--output", default="out", help="output directory (default: out)")
    p.add_argument("--no-ocr", action="store_true", help="do not OCR pages without a text layer")
    p.add_argument(
        "--ocr-engine", default="rapidocr", help="OCR engine: rapidocr (default), faster-paddle, paddleocr"
    )
    p.add_argument(
        "--prefer",
        choices=SOURCES,
        default="exact",
        help="source that wins (debugging): exact (default: workbook > table > EMF > PDF text > OCR), "
        "preview (embedded objects from their EMF preview), ocr (OCR pages even with a text layer)",
    )
    p.add_argument("--no-report", action="store_true", help="skip the HTML review report (DIR/report/)")
    p.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("schema", help="print (or --write) the JSON Schema of the document JSON")
    p.add_argument("--write", action="store_true", help="regenerate extraction/schema/document.schema.json")
    p.set_defaults(func=cmd_schema)

    for module in OPTIONAL_COMMANDS:
        _add_optional(sub, module)
    return parser


def _add_optional(sub: argparse._SubParsersAction, module: str) -> None:
    """Register a subcommand that lives in another package (skipped when it is not importable)."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return
    mod.add_parser(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
