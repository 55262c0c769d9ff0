"""Batch throughput: files/s and pages/s, local 1 vs 2 workers and Ray, on digital and on scanned inputs.

    .venv/bin/python scripts/bench_batch.py [--copies 4] [--no-ray] [--workers 2]

Builds two input sets from the dev corpus in a temp dir (digital: exact renditions docx/xlsx/txt/emf/pdf;
scanned: scan PDFs and page PNGs, OCR on), runs each configuration into a fresh output directory,
and prints the ratio of each against the 1-worker local baseline measured in the same process.
Conversion time only (the aggregate records.* step is timed apart).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from zhibiao.batch.run import BatchOptions, BatchSummary, run_batch

REPO = Path(__file__).resolve().parents[1]
DEV = Path(os.environ.get("ZHIBIAO_SHARED", REPO.parent / "shared")) / "corpus" / "dev"
DIGITAL_SUFFIXES = (".docx", ".xlsx", ".txt", ".pdf", ".emf")


def digital_files() -> list[Path]:
    return sorted(
        p for p in DEV.rglob("*")
        if p.is_file() and p.suffix in DIGITAL_SUFFIXES and "_scan" not in p.name and "gold" not in p.parts
    )  # fmt: skip


def scanned_files() -> list[Path]:
    pdfs = [p for p in sorted(DEV.glob("*_scan.pdf")) if p.stat().st_size < 4 << 20]
    pngs = sorted(DEV.glob("*_scan/page*.png"))[:6]
    return pdfs + pngs


def make_set(root: Path, files: list[Path], copies: int) -> int:
    for copy in range(copies):
        for path in files:
            target = root / f"c{copy}" / path.relative_to(DEV)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return len(files) * copies


def run(source: Path, work: Path, label: str, options: BatchOptions) -> BatchSummary:
    out = work / f"out-{label}"
    shutil.rmtree(out, ignore_errors=True)
    summary = run_batch(source, out, options)
    if summary.error or summary.timeout:
        print(f"  ! {label}: {summary.error} errors, {summary.timeout} timeouts: {summary.failed[:5]}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=3, help="copies of the digital set (default 3)")
    parser.add_argument("--scan-copies", type=int, default=1, help="copies of the scanned set (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers to compare with 1")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray executor")
    args = parser.parse_args(argv)
    if not DEV.is_dir():
        print(f"dev corpus not found at {DEV}", file=sys.stderr)
        return 2
    print(f"cores: {len(os.sched_getaffinity(0))}; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="zhibiao-bench-") as tmp:
        work = Path(tmp)
        sets = {
            "digital": (make_set(work / "digital", digital_files(), args.copies), False),
            "scanned": (make_set(work / "scanned", scanned_files(), args.scan_copies), True),
        }
        configs = [("local x1", "local", 1), (f"local x{args.workers}", "local", args.workers)]
        if not args.no_ray:
            configs.append((f"ray x{args.workers}", "ray", args.workers))
        print(f"{'set':8} {'executor':10} {'files':>5} {'pages':>5} {'seconds':>8} {'files/s':>8} "
              f"{'pages/s':>8} {'x files/s':>9}")  # fmt: skip
        for name, (count, ocr) in sets.items():
            baseline = None
            for label, executor, workers in configs:
                options = BatchOptions(
                    executor=executor, workers=workers, ocr=ocr, timeout=900, collect=False
                )
                summary = run(work / name, work, f"{name}-{executor}-{workers}", options)
                baseline = baseline or summary.files_per_s
                print(
                    f"{name:8} {label:10} {summary.processed:5d} {summary.pages:5d} {summary.seconds:8.1f} "
                    f"{summary.files_per_s:8.2f} {summary.pages_per_s:8.2f} "
                    f"{summary.files_per_s / baseline:8.2f}x"
                )
            assert count == summary.processed
    return 0


if __name__ == "__main__":
    sys.exit(main())
