"""Loading gold for the harness: a directory of gold files, in this project's format or the dev corpus'.

``load_gold_dir`` reads every ``*.json`` directly in the directory (``tables/`` and other folders
are read by the converter, not listed). A gold file's ``doc`` names the document; predictions are
matched to it by file stem (``gold_for``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zhibiao.annotations.gold import GoldDocument, load_gold_file


def load_gold_dir(gold_dir: Path) -> list[GoldDocument]:
    """Every gold document in ``gold_dir`` (sorted by file name); files that are not gold are skipped."""
    docs = []
    for path in sorted(gold_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"gold file {path} is not valid JSON: {exc}") from exc
        if isinstance(data, dict) and "doc" in data:
            docs.append(load_gold_file(path))
    return docs


def gold_for(name: str, stems: list[str]) -> str | None:
    """The gold stem a prediction/rendition name belongs to: a prefix followed by end, ``_`` or ``.``.

    The longest such stem wins (``003_x`` over ``003``).
    """
    best = None
    for stem in stems:
        prefix = name == stem or (name.startswith(stem) and name[len(stem)] in "_.")
        if prefix and (best is None or len(stem) > len(best)):
            best = stem
    return best


def gold_records(doc: GoldDocument) -> dict[str, Any]:
    """The gold records as plain dicts with only the annotated keys (what ``zhibiao.eval.fields`` scores)."""
    return doc.model_dump(exclude_unset=True, exclude={"tables", "spans"})
