"""Speed from the pipeline's own timings: seconds per page and per table, by stage.

Every prediction carries ``timings`` (``{stage: seconds}``), ``source.pages`` and its ``tables``.
A rendition without pages (TXT, XLSX, a single EMF or image) counts as one page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SpeedTotals:
    """Summed seconds per stage over some predictions, with the pages and tables they covered."""

    seconds: dict[str, float] = field(default_factory=dict)
    pages: int = 0
    tables: int = 0
    documents: int = 0
    wall: float = 0.0
    """Seconds the harness measured around the extractor (``--run`` only)."""

    def add(self, timings: dict[str, float], pages: int, tables: int, wall: float | None = None) -> None:
        self.wall += wall or 0.0
        for stage, seconds in timings.items():
            if isinstance(seconds, int | float):
                self.seconds[stage] = self.seconds.get(stage, 0.0) + float(seconds)
        self.pages += pages
        self.tables += tables
        self.documents += 1

    def as_dict(self) -> dict[str, Any]:
        stages = {
            stage: {
                "seconds": s,
                "per_page": s / self.pages if self.pages else None,
                "per_table": s / self.tables if self.tables else None,
                "per_document": s / self.documents if self.documents else None,
            }
            for stage, s in self.seconds.items()
        }
        wall = {"seconds": self.wall, "per_page": self.wall / self.pages if self.pages else None}
        return {
            "documents": self.documents,
            "pages": self.pages,
            "tables": self.tables,
            "stages": stages,
            "wall": wall if self.wall else None,
        }


def prediction_speed(pred: dict[str, Any]) -> tuple[dict[str, float], int, int]:
    """``(timings, pages, tables)`` of one prediction."""
    timings = {k: float(v) for k, v in (pred.get("timings") or {}).items() if isinstance(v, int | float)}
    pages = (pred.get("source") or {}).get("pages") or 1
    return timings, int(pages), len(pred.get("tables") or [])


def speed_totals(preds: Iterable[dict[str, Any]]) -> SpeedTotals:
    totals = SpeedTotals()
    for pred in preds:
        totals.add(*prediction_speed(pred))
    return totals
