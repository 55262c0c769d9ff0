"""Benchmark the OCR page pipeline: seconds per page by stage, and cell accuracy against gold.

    python scripts/bench_ocr.py                      # every gold scan page, rapidocr + faster-paddle
    python scripts/bench_ocr.py --pages 003:20 000:1 --engines rapidocr --repeat 3
    python scripts/bench_ocr.py --no-accuracy --json out.json

For each page image of ``../shared/corpus/dev/*_scan/pageN.png`` that has a gold table part
(``gold/tables/<doc>/index.json``), every engine reads the page with :func:`zhibiao.ocr.pages.ocr_page`.
The baseline is rapidocr's own end-to-end call (``RapidOCR()(image)``, det+cls+rec, stock
settings) on the same image in the same process, so the printed ratios hold even when other
work shares the CPU. Accuracy: the predicted table overlapping the gold part's box is scored
with ``zhibiao.eval`` (cell text accuracy after row/column alignment, TEDS).
Timings are the best of ``--repeat`` runs (the first, warm-up run is not counted); ``cpu`` is the
process CPU time of that run (all threads), a load-independent measure of the work done.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEV = Path(os.environ.get("ZHIBIAO_SHARED", REPO.parent / "shared")) / "corpus" / "dev"
SCAN_DPI = 200.0


@dataclass
class GoldPart:
    doc: str
    page: int
    html: Path
    bbox_pt: tuple[float, float, float, float]


@dataclass
class PageRun:
    engine: str
    doc: str
    page: int
    seconds: float
    stages: dict[str, float]
    scores: list[dict[str, Any]] = field(default_factory=list)


def gold_parts(dev: Path) -> dict[tuple[str, int], list[GoldPart]]:
    """Gold table parts per (doc, page) of the scan corpus."""
    parts: dict[tuple[str, int], list[GoldPart]] = {}
    for index in sorted((dev / "gold" / "tables").glob("*/index.json")):
        data = json.loads(index.read_text(encoding="utf-8"))
        for table in data.get("tables", []):
            for part in table.get("parts", []):
                key = (data["doc"], int(part["page"]))
                html = index.parent / (part.get("html") or table["html"])
                parts.setdefault(key, []).append(GoldPart(data["doc"], key[1], html, tuple(part["bbox_pt"])))
    return parts


def load_page(dev: Path, doc: str, page: int) -> Any:
    from zhibiao.ocr.raster import image_frames

    data = (dev / f"{doc}_scan" / f"page{page}.png").read_bytes()
    frame = next(image_frames(data))
    frame.number, frame.dpi, frame.unit_per_px = page, SCAN_DPI, 72.0 / SCAN_DPI
    return frame


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def score_page(tables: list[Any], golds: list[GoldPart]) -> list[dict[str, Any]]:
    from zhibiao.eval.cells import score_cells
    from zhibiao.eval.teds import teds
    from zhibiao.tables.html import table_from_html

    out = []
    for gold in golds:
        truth = table_from_html(gold.html.read_text(encoding="utf-8"))
        pred = max(tables, key=lambda t: overlap(t.bbox or (0, 0, 0, 0), gold.bbox_pt), default=None)
        if pred is not None and overlap(pred.bbox or (0, 0, 0, 0), gold.bbox_pt) <= 0:
            pred = None
        cells = score_cells(pred, truth)
        out.append(
            {
                "gold": gold.html.name,
                "gold_cells": cells.gold_cells,
                "text_correct": cells.text_correct,
                "cell_accuracy": round(cells.text_accuracy, 4),
                "teds": round(teds(pred, truth), 4),
                "teds_s": round(teds(pred, truth, structure_only=True), 4),
            }
        )
    return out


def time_engine(name: str, page: Any, repeat: int) -> tuple[float, dict[str, float], Any]:
    from zhibiao.ocr.engines import get_engine
    from zhibiao.ocr.pages import ocr_page

    engine = get_engine(name)
    result = ocr_page(page, engine)
    best, stages = float("inf"), result.timings
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = ocr_page(page, engine)
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best, stages = elapsed, {**result.timings, "cpu": time.process_time() - cpu}
    return best, stages, result


class Baseline:
    """rapidocr's stock end-to-end call, for ratios measured under the same CPU load."""

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        self.ocr = RapidOCR(params={"Global.log_level": "error"})

    def seconds(self, page: Any, repeat: int) -> float:
        import cv2

        image = cv2.cvtColor(page.image, cv2.COLOR_GRAY2BGR)
        self.ocr(image)
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            self.ocr(image)
            best = min(best, time.perf_counter() - start)
        return best


def parse_pages(
    values: list[str] | None, parts: dict[tuple[str, int], list[GoldPart]]
) -> list[tuple[str, int]]:
    if not values:
        return sorted(parts)
    docs = {doc for doc, _ in parts}
    chosen = []
    for value in values:
        prefix, _, page = value.partition(":")
        doc = next((d for d in sorted(docs) if d.startswith(prefix)), prefix)
        chosen.append((doc, int(page)))
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", nargs="*", help="DOC:PAGE (DOC may be a prefix such as 003)")
    parser.add_argument("--engines", nargs="*", default=["rapidocr", "faster-paddle"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-accuracy", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", type=Path, help="write the per-page results here")
    parser.add_argument("--dev", type=Path, default=DEV)
    args = parser.parse_args(argv)

    parts = gold_parts(args.dev)
    pages = parse_pages(args.pages, parts)
    baseline = None if args.no_baseline else Baseline()
    runs: list[PageRun] = []
    base_times: dict[tuple[str, int], float] = {}
    for doc, number in pages:
        page = load_page(args.dev, doc, number)
        if baseline is not None:
            base_times[(doc, number)] = baseline.seconds(page, args.repeat)
        for name in args.engines:
            seconds, stages, result = time_engine(name, page, args.repeat)
            scores = [] if args.no_accuracy else score_page(result.tables, parts.get((doc, number), []))
            run = PageRun(name, doc, number, seconds, {k: round(v, 4) for k, v in stages.items()}, scores)
            runs.append(run)
            print(_line(run, base_times.get((doc, number))), flush=True)
    _summary(runs, base_times)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "runs": [r.__dict__ for r in runs],
                    "baseline": {f"{d}:{p}": s for (d, p), s in base_times.items()},
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    return 0


def _line(run: PageRun, base: float | None) -> str:
    ratio = f" ({run.seconds / base:.2f}× stock rapidocr {base:.2f}s)" if base else ""
    stages = " ".join(f"{k}={v:.3f}" for k, v in run.stages.items())
    acc = " ".join(f"{s['gold']}: acc={s['cell_accuracy']:.3f} teds={s['teds']:.3f}" for s in run.scores)
    return f"{run.engine:20s} {run.doc[:3]} p{run.page:<3d} {run.seconds:6.3f}s{ratio}  [{stages}]  {acc}"


def _summary(runs: list[PageRun], base_times: dict[tuple[str, int], float]) -> None:
    print("\nsummary (mean seconds per page; cells correct / gold cells; mean TEDS)")
    for name in dict.fromkeys(r.engine for r in runs):
        mine = [r for r in runs if r.engine == name]
        secs = statistics.fmean(r.seconds for r in mine)
        ratio = (
            statistics.fmean(
                r.seconds / base_times[(r.doc, r.page)] for r in mine if (r.doc, r.page) in base_times
            )
            if base_times
            else None
        )
        stages: dict[str, float] = {}
        for r in mine:
            for k, v in r.stages.items():
                stages[k] = stages.get(k, 0.0) + v / len(mine)
        scores = [s for r in mine for s in r.scores]
        line = f"{name:20s} {secs:.3f} s/page"
        if ratio is not None:
            line += f" ({ratio:.2f}× stock rapidocr {statistics.fmean(base_times.values()):.3f} s/page)"
        line += "  " + " ".join(f"{k}={v:.3f}" for k, v in stages.items())
        if scores:
            correct = sum(s["text_correct"] for s in scores)
            total = sum(s["gold_cells"] for s in scores)
            line += f"  cells {correct}/{total} = {correct / max(total, 1):.4f}"
            line += f"  TEDS {statistics.fmean(s['teds'] for s in scores):.4f}"
            line += f"  TEDS-S {statistics.fmean(s['teds_s'] for s in scores):.4f}"
        print(line)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
