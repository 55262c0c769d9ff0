"""An oracle extractor: the output-contract JSON that the gold says a perfect pipeline would write.

Used to check the harness end to end (the oracle must score 1.0 everywhere) and, with damage
applied (``drop_every``), to prove that the regression gate catches a broken extractor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zhibiao.annotations.gold import FACT_KEYS, GoldDocument, GoldIndicator, GoldValue
from zhibiao.eval.normalize import is_blank, norm_operator, parse_quantity


def _number(value: Any) -> float | None:
    q = parse_quantity(value.text if isinstance(value, GoldValue) else value)
    return q.number if q else None


def _text(value: Any) -> str | None:
    return None if is_blank(value) else str(value)


def _value(value: Any, unit: str | None) -> dict[str, Any] | None:
    if isinstance(value, GoldValue):
        return value.model_dump()
    if is_blank(value):
        return None
    q = parse_quantity(value)
    return {
        "text": str(value),
        "value": q.number if q else None,
        "unit": _text(unit) or (q.unit if q else None),
    }


def _budget(budget: Any) -> dict[str, Any] | None:
    if budget is None:
        return None
    data = budget.model_dump(exclude_unset=True)
    return {k: (v if k == "unit" else _number(v)) for k, v in data.items()}


def _indicator(ind: GoldIndicator) -> dict[str, Any]:
    return {
        "level1": _text(ind.level1),
        "level2": _text(ind.level2),
        "name": ind.name,
        "operator": norm_operator(ind.operator),
        "target": _value(ind.target, ind.unit),
        "actual": _value(ind.actual, ind.unit),
        "weight": _number(ind.weight),
        "score": _number(ind.score),
        "reason": _text(ind.reason),
    }


def oracle_prediction(gold: GoldDocument, source: str = "", fmt: str = "docx") -> dict[str, Any]:
    """The contract JSON of a perfect extraction of ``gold`` (narrative facts as narrative indicators)."""
    projects, narrative = [], []
    for p in gold.projects:
        facts = [i for i in p.indicators if i.model_fields_set <= FACT_KEYS]
        rows = [i for i in p.indicators if not i.model_fields_set <= FACT_KEYS]
        narrative += [
            {
                "project": p.name,
                "name": f.name,
                "target": _value(f.target, f.unit),
                "actual": _value(f.actual, f.unit),
            }
            for f in facts
        ]
        projects.append(
            {
                "name": p.name,
                "code": p.code,
                "department": p.department,
                "implementing_unit": p.implementing_unit,
                "budget": _budget(p.budget) or {},
                "indicators": [_indicator(i) for i in rows],
                "total_weight": _number(p.total_weight),
                "total_score": _number(p.total_score),
            }
        )
    narrative += [
        {
            "project": f.project,
            "name": f.name,
            "target": _value(f.target, None),
            "actual": _value(f.actual, None),
        }
        for f in gold.narrative
    ]
    rows = [
        {k: (_number(v) if k.endswith(("weight", "score")) else v) for k, v in r.model_dump().items()}
        for r in gold.score_table
    ]
    return {
        "schema_version": "1",
        "source": {"path": source or f"{gold.doc}.{fmt}", "format": fmt, "pages": None},
        "department": gold.department,
        "year": int(gold.year) if gold.year not in (None, "") else None,
        "department_budget": _budget(gold.department_budget),
        "projects": projects,
        "score_tables": [{"rows": rows}] if rows else [],
        "narrative_indicators": narrative,
        "tables": [t.table().model_dump(mode="json") for t in gold.tables or []],
        "warnings": [],
        "errors": [],
        "timings": {},
    }


def drop_every(prediction: dict[str, Any], n: int) -> dict[str, Any]:
    """Damage: drop every ``n``-th indicator (counting across projects) and narrative indicator."""
    counter = 0

    def keep(_item: Any) -> bool:
        nonlocal counter
        counter += 1
        return counter % n != 0

    projects = [{**p, "indicators": [i for i in p["indicators"] if keep(i)]} for p in prediction["projects"]]
    narrative = [f for f in prediction["narrative_indicators"] if keep(f)]
    return {**prediction, "projects": projects, "narrative_indicators": narrative}


def _page_number(stem: str) -> int | None:
    digits = stem.removeprefix("page")
    return int(digits) if digits.isdigit() else None


def oracle_extractor(gold_docs: list[GoldDocument], damage_every: int | None = None) -> Any:
    """An extractor callable (``Path -> dict``) answering from the gold of the file's document."""
    from zhibiao.eval.gold import gold_for

    by_stem = {g.doc: g for g in gold_docs}

    def extract(path: Path) -> dict[str, Any]:
        stem = gold_for(path.name, list(by_stem)) or gold_for(path.parent.name, list(by_stem))
        if stem is None:
            raise ValueError(f"no gold for {path}")
        gold = by_stem[stem]
        prediction = oracle_prediction(gold, str(path), path.suffix.lstrip("."))
        if path.parent.name.endswith("_scan") and (page := _page_number(path.stem)) is not None:
            parts = [t.part_table(page) for t in gold.tables or []]
            prediction["tables"] = [t.model_dump(mode="json") for t in parts if t is not None]
        return drop_every(prediction, damage_every) if damage_every else prediction

    return extract
