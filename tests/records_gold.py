"""Test helpers for table understanding: gold tables -> Documents, and a typed gold comparator.

The comparator follows gold/README.md: numbers compare as numbers (``100.00%`` = 100 = ``100``),
text after NFKC with whitespace and trailing punctuation removed, operators after NFKC (``＝`` = ``=``),
``""`` = null.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zhibiao.model import Document, Page, SourceInfo, Table, TextItem
from zhibiao.result import Indicator, Project, Value
from zhibiao.tables.html import table_from_html

NUMBER_RE = re.compile(r"^[-+]?\d+(?:\.\d+)?%?$")
TRAILING = "，,。.;；、:："
BUDGET_KEYS = {
    "initial": "initial",
    "annual": "initial",
    "adjusted": "adjusted",
    "executed": "executed",
    "actual_spend": "executed",
    "fiscal": "fiscal",
    "total": "total",
    "execution_rate": "execution_rate",
    "weight": "weight",
    "score": "score",
}
SCALAR_INDICATOR_KEYS = ("level1", "level2", "weight", "score", "reason")


def gold_table(path: Path, index: int, reader: str = "html") -> Table:
    """A gold HTML table as a Table with its 1-based index."""
    table = table_from_html(path.read_text(encoding="utf-8"), reader=reader)
    return table.model_copy(update={"index": index, "order": index * 10})


def document(tables: list[Table], texts: Sequence[str] = ()) -> Document:
    """A Document whose text items come before its tables (body order)."""
    items = [TextItem(text=t, page=1, order=i) for i, t in enumerate(texts)]
    placed = [t.model_copy(update={"order": len(items) + i}) for i, t in enumerate(tables)]
    return Document(source=SourceInfo(path="test"), pages=[Page(number=1, items=items)], tables=placed)


def norm(text: Any) -> str:
    """NFKC, no whitespace, no trailing punctuation."""
    return unicodedata.normalize("NFKC", "".join(str(text).split())).rstrip(TRAILING)


def as_number(text: Any) -> float | None:
    """The number a gold string (or our float) states, else None."""
    if isinstance(text, int | float):
        return float(text)
    token = norm(text)
    return float(token.rstrip("%")) if NUMBER_RE.match(token) else None


def is_null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def same(gold: Any, ours: Any) -> bool:
    """Typed equality of one gold field and ours."""
    if is_null(gold):
        return is_null(ours)
    if is_null(ours):
        return False
    g, o = as_number(gold), as_number(ours)
    if g is not None:
        return o is not None and abs(g - o) < 1e-6
    return norm(gold) == norm(ours)


def compare_value(
    where: str, gold_text: Any, gold_unit: Any, ours: Value | None, check_unit: bool
) -> list[str]:
    """A target/actual: text as printed, its number where the gold text is a number, its unit."""
    if is_null(gold_text):
        return [] if ours is None else [f"{where}: expected null, got {ours}"]
    if ours is None:
        return [f"{where}: expected {gold_text!r}, got null"]
    errors = []
    if not same(gold_text, ours.text):
        errors.append(f"{where}.text: {gold_text!r} != {ours.text!r}")
    number = as_number(gold_text)
    if number is not None and (ours.value is None or abs(ours.value - number) > 1e-6):
        errors.append(f"{where}.value: {number} != {ours.value}")
    if check_unit and not same(gold_unit, ours.unit):
        errors.append(f"{where}.unit: {gold_unit!r} != {ours.unit!r}")
    return errors


def compare_indicator(where: str, gold: dict[str, Any], ours: Indicator) -> list[str]:
    errors = []
    if norm(gold["name"]) != norm(ours.name):
        errors.append(f"{where}.name: {gold['name']!r} != {ours.name!r}")
    for key in SCALAR_INDICATOR_KEYS:
        if key in gold and not same(gold[key], getattr(ours, key)):
            errors.append(f"{where}.{key}: {gold[key]!r} != {getattr(ours, key)!r}")
    if "operator" in gold and not same(gold["operator"], ours.operator):
        errors.append(f"{where}.operator: {gold['operator']!r} != {ours.operator!r}")
    check_unit = "unit" in gold
    errors += compare_value(f"{where}.target", gold.get("target"), gold.get("unit"), ours.target, check_unit)
    errors += compare_value(f"{where}.actual", gold.get("actual"), gold.get("unit"), ours.actual, check_unit)
    return errors


def compare_project(gold: dict[str, Any], ours: Project) -> list[str]:
    """Every field the gold project states, and its indicators one-to-one in order."""
    where = gold.get("project_name", "?")
    errors = []
    for gold_key, our_key in (("project_name", "name"), ("project_code", "code")):
        if gold_key in gold and not same(gold[gold_key], getattr(ours, our_key)):
            errors.append(f"{where}.{our_key}: {gold[gold_key]!r} != {getattr(ours, our_key)!r}")
    for key in ("department", "implementing_unit", "total_weight", "total_score"):
        if key in gold and not same(gold[key], getattr(ours, key)):
            errors.append(f"{where}.{key}: {gold[key]!r} != {getattr(ours, key)!r}")
    for gold_key, value in gold.get("budget", {}).items():
        ours_value = getattr(ours.budget, BUDGET_KEYS[gold_key])
        if not same(value, ours_value):
            errors.append(f"{where}.budget.{gold_key}: {value!r} != {ours_value!r}")
    gold_indicators = gold.get("indicators", [])
    if len(gold_indicators) != len(ours.indicators):
        errors.append(f"{where}: {len(gold_indicators)} indicators expected, got {len(ours.indicators)}")
    for i, (g, o) in enumerate(zip(gold_indicators, ours.indicators, strict=False)):
        errors += compare_indicator(f"{where}[{i}]", g, o)
    return errors


def compare_projects(gold: list[dict[str, Any]], ours: list[Project]) -> list[str]:
    """Gold projects matched to ours by code, else name; extra or missing projects are errors."""
    errors = []
    if len(gold) != len(ours):
        errors.append(f"{len(gold)} projects expected, got {len(ours)}: {[p.name for p in ours]}")
    for g in gold:
        match = next(
            (p for p in ours if g.get("project_code") and p.code == g["project_code"]),
            next((p for p in ours if same(g.get("project_name"), p.name)), None),
        )
        if match is None:
            errors.append(f"project {g.get('project_name')!r} not found")
        else:
            errors += compare_project(g, match)
    return errors
