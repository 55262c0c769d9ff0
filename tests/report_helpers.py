"""Shared by the report tests: documents to report on, and the counts computed from their JSON
independently of the report code."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import DEV, REPO
from zhibiao.export.writers import write_json
from zhibiao.pipeline import ExtractOptions, extract
from zhibiao.report.demo import write_flagged_workbook

SAMPLES = REPO / "extraction" / "samples"
DEV_FILES = ("000_c9021f7b19f56ffc.pdf", "001_def97523c2bc9572.txt", "000_c9021f7b19f56ffc_emf/table1.emf")
"""A text-layer PDF (rendered pages), a narrative text, an EMF (drawn from geometry)."""
COUNT_KEYS = ("pages", "tables", "projects", "records", "score_rows", "flags", "errors")


def report_inputs(work: Path) -> list[Path]:
    """The bundled samples, the flagged demo workbook, and the dev files present on this machine."""
    flagged = write_flagged_workbook(work / "in" / "flagged.xlsx")
    return [*sorted(SAMPLES.iterdir()), flagged, *(DEV / n for n in DEV_FILES if (DEV / n).exists())]


def extract_all(paths: list[Path], out: Path) -> dict[str, dict]:
    """Run the pipeline on each file into ``out/<stem>.json``; return the JSON payloads by stem."""
    out.mkdir(parents=True, exist_ok=True)
    payloads = {}
    for path in paths:
        target = out / f"{path.stem}.json"
        write_json(extract(path, ExtractOptions(ocr=False)), target)
        payloads[path.stem] = json.loads(target.read_text(encoding="utf-8"))
    return payloads


def count_flags(node: object) -> int:
    """Every flag anywhere in a document JSON (any list under a ``flags`` key)."""
    if isinstance(node, dict):
        return sum(len(v) if k == "flags" else count_flags(v) for k, v in node.items())
    if isinstance(node, list):
        return sum(count_flags(v) for v in node)
    return 0


def json_counts(payload: dict) -> dict[str, int]:
    """What a document page must show, counted straight from the JSON."""
    indicators = sum(len(p["indicators"]) for p in payload["projects"])
    return {
        "pages": payload["source"]["pages"] or 0,
        "tables": len(payload["tables"]),
        "projects": len(payload["projects"]),
        "records": indicators + len(payload["narrative_indicators"]),
        "score_rows": sum(len(t["rows"]) for t in payload["score_tables"]),
        "flags": count_flags(payload),
        "errors": len(payload["errors"]),
    }


def archive_counts(payloads: dict[str, dict]) -> dict[str, int]:
    """What the overview must show: the sums over all documents, and the number of documents."""
    per_doc = [json_counts(p) for p in payloads.values()]
    totals = {key: sum(doc[key] for doc in per_doc) for key in COUNT_KEYS}
    return {"documents": len(payloads), **totals}
