"""Record scoring: per-field P/R/F1 with typed comparison, indicator-level P/R/F1, exact records.

Gold records are dicts holding only the keys the annotator gave (``GoldDocument`` dumped with
``exclude_unset``); predictions are output-contract dicts. For every field present in a gold
record the predicted value gets one outcome:

==========  =================================  ============
outcome     gold / prediction                  counts as
==========  =================================  ============
correct     both present and equal (typed)     TP, accurate
empty_ok    gold ``""``/null, prediction null  accurate
wrong       both present, not equal            FP + FN
missing     gold present, prediction null      FN
spurious    gold ``""``/null, prediction set   FP
==========  =================================  ============

Gold records with no matching prediction count every field ``missing`` (``unmatched_empty``, not
accurate but neither FN, where the gold value is empty); predicted records with no gold count every non-empty
field that gold annotates for that kind of record ``spurious``. ``field_accuracy`` = accurate
gold slots / gold slots. Records are matched one-to-one: projects by code, else name; indicators
by name within their project (a project's narrative indicators are pooled with its indicators).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from zhibiao.eval.matching import match_one_to_one, name_similarity
from zhibiao.eval.normalize import (
    is_blank,
    norm_operator,
    norm_text,
    numbers_equal,
    parse_quantity,
    units_compatible,
)
from zhibiao.eval.prf import PRF

# --- typed comparison ---------------------------------------------------------------------------

Comparator = Callable[[Any, Any], bool]


def _value_parts(value: Any) -> tuple[str, float | None, str | None]:
    """(text, number, unit) of a printed value, a number or a contract ``Value`` dict."""
    if isinstance(value, dict):
        text = value.get("text") or ""
        number = value.get("value")
        unit = value.get("unit")
        if number is None and (q := parse_quantity(text)):
            number, unit = q.number, unit or q.unit
        return text, number, unit
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value), float(value), None
    q = parse_quantity(value)
    return ("" if value is None else str(value)), (q.number if q else None), (q.unit if q else None)


def text_equal(gold: Any, pred: Any) -> bool:
    """Texts equal after NFKC, whitespace removal and trailing punctuation (``优,`` = ``优``)."""
    return norm_text(_value_parts(gold)[0]) == norm_text(_value_parts(pred)[0])


def number_equal(gold: Any, pred: Any) -> bool:
    """Numbers as numbers (``100.00%`` = 100 = ``100``); texts that hold no number compare as text."""
    _, g, gunit = _value_parts(gold)
    _, p, punit = _value_parts(pred)
    if g is not None and p is not None:
        return numbers_equal(g, p) and units_compatible(gunit, punit)
    return text_equal(gold, pred)


def value_equal(gold: Any, pred: Any) -> bool:
    """Target/actual: equal texts, or equal numbers with compatible units (``2,340平方米`` = 2340 平方米)."""
    return text_equal(gold, pred) or (
        _value_parts(gold)[1] is not None and _value_parts(pred)[1] is not None and number_equal(gold, pred)
    )


def operator_equal(gold: Any, pred: Any) -> bool:
    """Operators after folding printed forms (``＝`` = ``=``, ``>=`` = ``≥``)."""
    return norm_operator(gold) == norm_operator(pred)


def unit_equal(gold: Any, pred: Any) -> bool:
    """Gold 度量单位 against the predicted candidates (``target.unit``, ``actual.unit``)."""
    candidates = pred if isinstance(pred, list) else [pred]
    return any(norm_text(gold).strip("()") == norm_text(c).strip("()") for c in candidates if not is_blank(c))


def _unit_candidates(indicator: dict[str, Any]) -> list[str]:
    units = []
    for key in ("target", "actual"):
        value = indicator.get(key)
        if isinstance(value, dict) and not is_blank(value.get("unit")):
            units.append(value["unit"])
    return units


BUDGET_KEYS = ("initial", "adjusted", "executed", "execution_rate", "fiscal", "total", "weight", "score")

DOCUMENT_FIELDS: dict[str, Comparator] = {
    "department": text_equal,
    "year": number_equal,
    **{f"department_budget.{k}": number_equal for k in BUDGET_KEYS},
    "department_budget.unit": text_equal,
}
PROJECT_FIELDS: dict[str, Comparator] = {
    "name": text_equal,
    "code": text_equal,
    "department": text_equal,
    "implementing_unit": text_equal,
    **{f"budget.{k}": number_equal for k in BUDGET_KEYS},
    "budget.unit": text_equal,
    "total_weight": number_equal,
    "total_score": number_equal,
}
INDICATOR_FIELDS: dict[str, Comparator] = {
    "level1": text_equal,
    "level2": text_equal,
    "name": text_equal,
    "operator": operator_equal,
    "target": value_equal,
    "unit": unit_equal,
    "actual": value_equal,
    "weight": number_equal,
    "score": number_equal,
    "reason": text_equal,
}
SCORE_ROW_FIELDS: dict[str, Comparator] = {
    "level1": text_equal,
    "level1_weight": number_equal,
    "level2": text_equal,
    "level2_weight": number_equal,
    "name": text_equal,
    "weight": number_equal,
    "score": number_equal,
}

FIELD_SPECS: dict[str, dict[str, Comparator]] = {
    "document": DOCUMENT_FIELDS,
    "project": PROJECT_FIELDS,
    "indicator": INDICATOR_FIELDS,
    "fact": INDICATOR_FIELDS,
    "score_row": SCORE_ROW_FIELDS,
}

# --- outcomes -----------------------------------------------------------------------------------

ACCURATE = ("correct", "empty_ok")


@dataclass(frozen=True)
class FieldOutcome:
    field: str
    """``kind.key``: ``indicator.target``, ``project.budget.executed``, ``document.department``."""
    status: str
    gold: Any = None
    pred: Any = None
    where: str = ""
    """Which record: ``project[市妇联妇儿工委] / indicator[春蕾计划…]``."""
    in_gold: bool = True
    """False for a field of a predicted record that no gold record matched (no gold slot)."""


def judge(gold: Any, pred: Any, equal: Comparator) -> str:
    """The outcome of one present gold field against the predicted value."""
    gold_blank, pred_blank = is_blank(gold), is_blank(pred)
    if gold_blank:
        return "empty_ok" if pred_blank else "spurious"
    if pred_blank:
        return "missing"
    return "correct" if equal(gold, pred) else "wrong"


def flatten(record: dict[str, Any] | None) -> dict[str, Any]:
    """``{"budget": {"initial": 1}}`` -> ``{"budget.initial": 1}`` (one level; Value dicts kept whole)."""
    flat: dict[str, Any] = {}
    for key, value in (record or {}).items():
        if key in ("budget", "department_budget") and isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _pred_view(kind: str, pred: dict[str, Any]) -> dict[str, Any]:
    flat = flatten(pred)
    if kind == "indicator":
        flat["unit"] = _unit_candidates(pred)
    return flat


def compare_record(
    kind: str,
    gold: dict[str, Any] | None,
    pred: dict[str, Any] | None,
    spec: dict[str, Comparator],
    where: str,
    keys: Iterable[str] | None = None,
) -> list[FieldOutcome]:
    """Outcomes of one gold record (or ``None``: an unmatched prediction) against one prediction.

    ``keys`` are the fields scored for an unmatched prediction (what gold annotates for this kind).
    """
    gold_flat = flatten(gold) if gold is not None else None
    pred_flat = _pred_view(kind, pred) if pred is not None else {}
    if gold_flat is None:
        return [
            FieldOutcome(f"{kind}.{key}", "spurious", None, pred_flat[key], where, in_gold=False)
            for key in keys or ()
            if key in spec and not is_blank(pred_flat.get(key))
        ]
    outcomes = []
    for key, gv in gold_flat.items():
        if key not in spec:
            continue
        if pred is None:
            status = "unmatched_empty" if is_blank(gv) else "missing"
        else:
            status = judge(gv, pred_flat.get(key), spec[key])
        outcomes.append(FieldOutcome(f"{kind}.{key}", status, gv, pred_flat.get(key), where))
    return outcomes


@dataclass
class FieldStats(PRF):
    """Counts of one field over many records: gold slots, accurate slots, TP/FP/FN."""

    slots: int = 0
    accurate: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, outcome: FieldOutcome) -> None:
        status = outcome.status
        self.slots += outcome.in_gold
        self.accurate += status in ACCURATE
        self.tp += status == "correct"
        self.fp += status in ("wrong", "spurious")
        self.fn += status in ("wrong", "missing")

    def __iadd__(self, other: FieldStats) -> FieldStats:
        for name in ("slots", "accurate", "tp", "fp", "fn"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def accuracy(self) -> float:
        return self.accurate / self.slots if self.slots else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "support": self.slots,
            "accurate": self.accurate,
            "accuracy": self.accuracy,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def field_sort_key(name: str) -> tuple[int, int, str]:
    """Report order: document, project, indicator, fact, score-row fields, each in its spec's order."""
    kind, _, key = name.partition(".")
    kinds = list(FIELD_SPECS)
    spec = list(FIELD_SPECS.get(kind, {}))
    return (
        kinds.index(kind) if kind in kinds else len(kinds),
        spec.index(key) if key in spec else len(spec),
        key,
    )


def field_stats(outcomes: Iterable[FieldOutcome]) -> dict[str, FieldStats]:
    """Per-field counts (``indicator.target`` ...) of a list of outcomes, in report order."""
    stats: dict[str, FieldStats] = {}
    for outcome in outcomes:
        stats.setdefault(outcome.field, FieldStats()).add(outcome)
    return dict(sorted(stats.items(), key=lambda item: field_sort_key(item[0])))


# --- documents ----------------------------------------------------------------------------------

PROJECT_MATCH = 0.6
"""Least name similarity for a predicted project to stand for a gold project (codes match outright)."""
INDICATOR_MATCH = 0.6
"""Least name similarity for a predicted indicator to stand for a gold one within a project."""
NARRATIVE_PROJECT_MATCH = 0.6
"""Least similarity of a narrative indicator's ``project`` to a predicted project's name to pool it."""


@dataclass
class Counts(PRF):
    """Record-level counts (indicators, projects)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    exact: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.exact += other.exact
        return self

    @property
    def exact_match(self) -> float:
        """Gold records whose every annotated field is right / gold records."""
        return self.exact / (self.tp + self.fn) if self.tp + self.fn else 0.0


@dataclass
class RecordScore:
    """Everything record scoring found for one prediction."""

    outcomes: list[FieldOutcome] = field(default_factory=list)
    indicators: Counts = field(default_factory=Counts)
    projects: Counts = field(default_factory=Counts)
    rows: Counts = field(default_factory=Counts)
    """Score-table rows."""
    unmatched_gold: list[str] = field(default_factory=list)
    unmatched_pred: list[str] = field(default_factory=list)


def project_similarity(gold: dict[str, Any], pred: dict[str, Any]) -> float:
    """1 for equal codes, else the name similarity."""
    if not is_blank(gold.get("code")) and norm_text(gold.get("code")) == norm_text(pred.get("code")):
        return 1.0
    return name_similarity(gold.get("name"), pred.get("name"))


def _indicator_similarity(gold: dict[str, Any], pred: dict[str, Any]) -> float:
    return name_similarity(gold.get("name"), pred.get("name"))


def pool_narrative(pred: dict[str, Any]) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
    """Per predicted project: its indicators plus the narrative indicators naming it; and the rest."""
    projects = pred.get("projects") or []
    pooled = [list(p.get("indicators") or []) for p in projects]
    loose = []
    for fact in pred.get("narrative_indicators") or []:
        sims = [name_similarity(fact.get("project"), p.get("name")) for p in projects]
        best = max(range(len(sims)), key=sims.__getitem__, default=None)
        if best is not None and sims[best] >= NARRATIVE_PROJECT_MATCH:
            pooled[best].append(fact)
        else:
            loose.append(fact)
    return pooled, loose


def _keys(records: Iterable[dict[str, Any]], default: tuple[str, ...] = ("name",)) -> list[str]:
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(flatten(record)))
    return list(keys) or list(default)


def score_items(
    kind: str,
    gold: list[dict[str, Any]],
    pred: list[dict[str, Any]],
    spec: dict[str, Comparator],
    where: str,
    keys: list[str] | None = None,
) -> RecordScore:
    """Match ``pred`` to ``gold`` one-to-one by name and compare the pairs field by field."""
    score = RecordScore()
    pairs = match_one_to_one(gold, pred, _indicator_similarity, INDICATOR_MATCH)
    matched_gold = {i: j for i, j, _ in pairs}
    matched_pred = set(matched_gold.values())
    for i, record in enumerate(gold):
        label = f"{where}{kind}[{record.get('name')}]"
        j = matched_gold.get(i)
        outcomes = compare_record(kind, record, pred[j] if j is not None else None, spec, label)
        score.outcomes += outcomes
        if j is None:
            score.indicators.fn += 1
            score.unmatched_gold.append(label)
            continue
        score.indicators.tp += 1
        score.indicators.exact += all(o.status in ACCURATE for o in outcomes)
    scored_keys = keys or _keys(gold)
    for j, record in enumerate(pred):
        if j in matched_pred:
            continue
        label = f"{where}{kind}[{record.get('name')}]"
        score.indicators.fp += 1
        score.unmatched_pred.append(label)
        score.outcomes += compare_record(kind, None, record, spec, label, scored_keys)
    return score


def _merge(into: RecordScore, part: RecordScore, counts: str = "indicators") -> None:
    into.outcomes += part.outcomes
    getattr(into, counts).__iadd__(part.indicators)
    into.unmatched_gold += part.unmatched_gold
    into.unmatched_pred += part.unmatched_pred


def _project_fields(project: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in project.items() if k != "indicators"}
    if fields.get("budget") is None:
        fields.pop("budget", None)
    return fields


def score_projects(gold_projects: list[dict[str, Any]], pred: dict[str, Any]) -> RecordScore:
    """Projects and their indicators (a project's narrative indicators pooled with its indicators)."""
    score = RecordScore()
    pred_projects = pred.get("projects") or []
    pooled, _loose = pool_narrative(pred)
    pairs = match_one_to_one(gold_projects, pred_projects, project_similarity, PROJECT_MATCH)
    if not pairs and len(gold_projects) == 1 and len(pred_projects) == 1:
        pairs = [(0, 0, 0.0)]
    matched = {i: j for i, j, _ in pairs}
    gold_project_keys = _keys(_project_fields(p) for p in gold_projects)
    gold_indicator_keys = _keys(i for p in gold_projects for i in p.get("indicators") or [])
    for i, gp in enumerate(gold_projects):
        j = matched.get(i)
        label = f"project[{gp.get('name') or gp.get('code')}]"
        pp = pred_projects[j] if j is not None else None
        outcomes = compare_record("project", _project_fields(gp), pp, PROJECT_FIELDS, label)
        score.outcomes += outcomes
        if j is None:
            score.projects.fn += 1
            score.unmatched_gold.append(label)
        else:
            score.projects.tp += 1
            score.projects.exact += all(o.status in ACCURATE for o in outcomes)
        indicators = score_items(
            "indicator",
            list(gp.get("indicators") or []),
            pooled[j] if j is not None else [],
            INDICATOR_FIELDS,
            f"{label} / ",
            gold_indicator_keys,
        )
        _merge(score, indicators)
    matched_pred = set(matched.values())
    for j, pp in enumerate(pred_projects):
        if j in matched_pred:
            continue
        label = f"project[{pp.get('name') or pp.get('code')}]"
        score.projects.fp += 1
        score.unmatched_pred.append(label)
        score.outcomes += compare_record("project", None, pp, PROJECT_FIELDS, label, gold_project_keys)
        extra = score_items("indicator", [], pooled[j], INDICATOR_FIELDS, f"{label} / ", gold_indicator_keys)
        _merge(score, extra)
    return score


def score_document_records(gold: dict[str, Any], pred: dict[str, Any], partial: bool = False) -> RecordScore:
    """All record scores of one prediction against one gold document (``GoldDocument`` dumped unset-free).

    ``partial``: the rendition holds only some projects (one EMF table) and the caller has cut gold
    and prediction down to them; document-level fields, loose facts and score tables are not scored.
    """
    score = score_projects(list(gold.get("projects") or []), pred)
    if partial:
        return score
    doc_gold = {k: gold[k] for k in ("department", "year", "department_budget") if k in gold}
    if doc_gold.get("department_budget") is None:
        doc_gold.pop("department_budget", None)
    score.outcomes += compare_record("document", doc_gold, pred, DOCUMENT_FIELDS, "document")
    _pooled, loose = pool_narrative(pred)
    facts = score_items("fact", list(gold.get("narrative") or []), loose, INDICATOR_FIELDS, "")
    _merge(score, facts)
    rows_pred = [row for table in pred.get("score_tables") or [] for row in table.get("rows") or []]
    rows = score_items("score_row", list(gold.get("score_table") or []), rows_pred, SCORE_ROW_FIELDS, "")
    _merge(score, rows, "rows")
    return score
