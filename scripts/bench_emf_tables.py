"""Tables per second from EMF pictures (the EMF reader + grid reconstruction), serial and parallel.

    python scripts/bench_emf_tables.py [DIR_OR_FILES ...] [--workers 2] [--rounds 5]

Defaults to the dev corpus pictures (../shared/corpus/dev/*_emf/*.emf).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from zhibiao.readers.emf import tables_from_emf

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "dev"


def _tables(path: str) -> int:
    return len(tables_from_emf(Path(path).read_bytes()))


def pictures(args: list[str]) -> list[Path]:
    paths: list[Path] = []
    for arg in args or [str(DEFAULT)]:
        p = Path(arg)
        paths += sorted(p.glob("**/*.emf")) if p.is_dir() else [p]
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args()
    files = [str(p) for p in pictures(opts.paths)] * opts.rounds
    start = time.perf_counter()
    serial = sum(_tables(f) for f in files)
    serial_s = time.perf_counter() - start
    with ProcessPoolExecutor(opts.workers) as pool:
        list(pool.map(_tables, files[: opts.workers]))  # warm the workers up
        start = time.perf_counter()
        parallel = sum(pool.map(_tables, files, chunksize=4))
        parallel_s = time.perf_counter() - start
    print(f"{len(files)} pictures, {serial} tables")
    print(f"serial:   {serial / serial_s:6.1f} tables/s ({1000 * serial_s / len(files):.1f} ms per picture)")
    print(f"{opts.workers} workers: {parallel / parallel_s:6.1f} tables/s")


if __name__ == "__main__":
    main()
