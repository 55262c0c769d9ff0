"""CI gate: fail when a report's scores drop below the checked-in baseline.

    python scripts/eval_gate.py out/eval/report.json [--baseline eval/baselines/dev.json]

Exit status 0 when every gated score (per rendition kind: field_accuracy, indicator_f1, teds) is at
least ``baseline - tolerance``, 1 on a regression, 2 when a file is missing. The tolerance is
explained in ``zhibiao.eval.gate``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zhibiao.eval.gate import gate

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("report", type=Path, help="report.json written by zhibiao eval")
    parser.add_argument("--baseline", type=Path, default=REPO / "eval" / "baselines" / "dev.json")
    args = parser.parse_args(argv)
    for path in (args.report, args.baseline):
        if not path.is_file():
            print(f"eval_gate: no file {path}", file=sys.stderr)
            return 2
    passed, lines = gate(json.loads(args.report.read_text(encoding="utf-8")), args.baseline)
    print("\n".join(lines))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
