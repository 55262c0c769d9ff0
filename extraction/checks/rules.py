"""Domain consistency checks: small pure functions from a record to the flags it raises.

Each check returns ``list[Flag]`` and is registered in one of the tuples at the bottom
(``INDICATOR_CHECKS`` …), so a new check is one function and one entry. Every flag carries the
numbers it compared in ``evidence``.

Flag codes (severity):

- ``score_exceeds_weight`` (error): 得分 > 权重 — an indicator, a budget row, a project's 合计,
  a score-table row.
- ``weights_total`` / ``scores_total`` (error): Σ indicator 权重 (+ the budget row's) ≠ 合计,
  Σ 得分 (+ budget 得分) ≠ 总分; also the groups of a score table (Σ 三级 = 一级/二级 分值).
- ``execution_rate`` (warning): 预算执行率 ≠ 执行数 / 调整后预算数 (年初预算 when there is no
  adjusted figure) × 100, beyond ``RATE_TOLERANCE`` percentage points.
- ``execution_rate_over_100`` (warning): more spent than budgeted.
- ``operator_unknown`` (warning): 指标性质 is none of ≥ ≤ = > < 定性 after normalisation.
- ``operator_missing`` (info): no 指标性质 although the target is a number.
- ``operator_vs_name`` (warning): the name says ``…100名以上`` / ``不少于4次`` but the operator disagrees.
- ``score_despite_miss`` (warning): actual misses the target, yet full marks.
- ``score_cut_without_reason`` (warning): target met, score below the weight, no reason given.
- ``qualitative_score`` (warning): a grade / qualitative result disagrees with the score
  (``良`` with full marks, ``优`` or "as targeted" with points lost and no reason).
- ``missing_fields`` (warning): an indicator lacks the target, actual or weight its form should have.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from zhibiao.records.values import (
    OPERATOR_SUFFIXES,
    OPERATOR_SYMBOLS,
    OPERATOR_WORDS,
    clean_text,
    normalize_operator,
)
from zhibiao.result import Budget, Flag, Indicator, Project, ScoreRow, ScoreTable, Value

ERROR, WARNING, INFO = "error", "warning", "info"

SCORE_TOLERANCE = 0.01
"""Points: sums and score-vs-weight comparisons allow this much rounding."""
RATE_TOLERANCE = 0.5
"""Percentage points between a printed execution rate and the one recomputed from the amounts."""
VALUE_TOLERANCE = 1e-9

SCORE_EXCEEDS_WEIGHT = "score_exceeds_weight"
WEIGHTS_TOTAL = "weights_total"
SCORES_TOTAL = "scores_total"
EXECUTION_RATE = "execution_rate"
EXECUTION_RATE_OVER_100 = "execution_rate_over_100"
OPERATOR_UNKNOWN = "operator_unknown"
OPERATOR_MISSING = "operator_missing"
OPERATOR_VS_NAME = "operator_vs_name"
SCORE_DESPITE_MISS = "score_despite_miss"
SCORE_CUT_WITHOUT_REASON = "score_cut_without_reason"
QUALITATIVE_SCORE = "qualitative_score"
MISSING_FIELDS = "missing_fields"

COMPATIBLE_OPERATORS: dict[str, frozenset[str]] = {
    "≥": frozenset({"≥", ">"}),
    ">": frozenset({">", "≥"}),
    "≤": frozenset({"≤", "<"}),
    "<": frozenset({"<", "≤"}),
    "=": frozenset({"="}),
}
"""Operator a name states -> the 指标性质 values that agree with it."""
NUMERIC_OPERATORS = frozenset(COMPATIBLE_OPERATORS)
QUALITATIVE = "定性"

REQUIRED_FIELDS: dict[str | None, tuple[str, ...]] = {
    "target": ("target",),
    "wide": ("target", "actual"),
    "narrative": ("actual",),
}
"""Fields an indicator of each table family must have; other families need ``DEFAULT_REQUIRED``."""
DEFAULT_REQUIRED = ("target", "actual", "weight")

NO_REASON = frozenset({"", "无", "/", "-", "—", "——", "无偏差", "不适用"})
"""Texts of a 偏差原因 cell that give no reason."""
LOWER_GRADES = frozenset({"良", "中", "低", "差", "较差", "一般", "良好", "合格", "基本完成", "基本达标"})
TOP_GRADES = frozenset({"优", "优秀", "完成", "已完成", "全部完成", "达标", "合规", "正常", "好"})
SHORTFALL_WORDS = ("未完成", "未达到", "未达标", "未实现", "未开展", "不合规", "不达标", "未能")

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NUMERIC_WORDS = [w for w in [*OPERATOR_WORDS, *OPERATOR_SYMBOLS] if w != QUALITATIVE]
_WORDS = "|".join(re.escape(w) for w in sorted(_NUMERIC_WORDS, key=len, reverse=True))
_SUFFIXES = "|".join(sorted(OPERATOR_SUFFIXES, key=len, reverse=True))
NAME_PREFIX_HINT_RE = re.compile(rf"(?P<word>{_WORDS})\s*(?P<number>{_NUMBER})")
NAME_SUFFIX_HINT_RE = re.compile(
    rf"(?P<number>{_NUMBER})\s*(?:%|‰|[\u4e00-\u9fff]{{0,4}}?)(?P<word>{_SUFFIXES})"
)
UNIT_NOTE_RE = re.compile(r"[（(][^()（）]*[)）]")


# ---------------------------------------------------------------- helpers


def flag(code: str, message: str, severity: str, **evidence: Any) -> Flag:
    return Flag(code=code, message=message, severity=severity, evidence=evidence)


def finite(number: float | None) -> float | None:
    """The number, or None for a missing, NaN or infinite one (treated as not printed)."""
    return number if number is not None and math.isfinite(number) else None


def exceeds(score: float | None, weight: float | None) -> bool:
    score, weight = finite(score), finite(weight)
    return score is not None and weight is not None and score > weight + SCORE_TOLERANCE


def full_marks(score: float, weight: float) -> bool:
    return score >= weight - SCORE_TOLERANCE


def has_reason(reason: str | None) -> bool:
    return clean_text(reason).strip("，,。.；;") not in NO_REASON


def number_of(value: Value | None) -> float | None:
    return finite(value.value) if value is not None else None


def plain_text(value: Value | None) -> str:
    """A value's text folded for comparison: NFKC, no whitespace, no trailing punctuation."""
    if value is None:
        return ""
    return clean_text(unicodedata.normalize("NFKC", value.text)).strip(",.;，。；、")


def unit_key(unit: str | None) -> str:
    """``个（台、套、件、辆）`` -> ``个``: the unit without its parenthesised note."""
    return UNIT_NOTE_RE.sub("", clean_text(unit)) if unit else ""


def units_compatible(first: str | None, second: str | None) -> bool:
    """Same unit, one unit missing, or one the start of the other (``万`` / ``万人次``)."""
    a, b = unit_key(first), unit_key(second)
    return not a or not b or a.startswith(b) or b.startswith(a)


def operator_hint(name: str) -> tuple[str, str] | None:
    """The operator an indicator's name states, with the phrase that says it.

    ``…困难学生100名以上`` -> (``≥``, ``100名以上``); ``全年不少于4次`` -> (``≥``, ``不少于4``).
    """
    folded = unicodedata.normalize("NFKC", clean_text(name))
    prefix = NAME_PREFIX_HINT_RE.search(folded)
    suffix = NAME_SUFFIX_HINT_RE.search(folded)
    found = [m for m in (prefix, suffix) if m is not None]
    if not found:
        return None
    first = min(found, key=lambda m: m.start())
    word = first.group("word")
    operator = OPERATOR_WORDS.get(word) or OPERATOR_SUFFIXES.get(word) or OPERATOR_SYMBOLS.get(word)
    return (operator, first.group(0)) if operator else None


def meets_target(operator: str, actual: float, target: float) -> bool:
    """Whether ``actual`` reaches ``target`` under the operator.

    ``=`` counts as reached when the actual is at least the target: on these forms ``＝1 次`` with
    5 achieved gets full marks (seed 003), so exceeding an "equal" count is no miss.
    """
    if operator in ("≥", "="):
        return actual >= target - VALUE_TOLERANCE
    if operator == ">":
        return actual > target
    if operator == "≤":
        return actual <= target + VALUE_TOLERANCE
    return actual < target


def total_flags(
    code: str, what: str, parts: list[tuple[str, float | None]], total: float | None
) -> list[Flag]:
    """Σ parts vs a printed total; skipped when the total or any part is missing."""
    total = finite(total)
    values = [finite(value) for _, value in parts]
    if total is None or not parts or any(value is None for value in values):
        return []
    summed = round(sum(v for v in values if v is not None), 6)
    if abs(summed - total) <= SCORE_TOLERANCE:
        return []
    return [
        flag(
            code,
            f"Σ {what} = {summed:g} but the total says {total:g}",
            ERROR,
            sum=summed,
            total=total,
            difference=round(summed - total, 6),
            parts=[[label, value] for label, value in parts],
        )
    ]


# ---------------------------------------------------------------- indicator checks


def indicator_score_exceeds_weight(indicator: Indicator, project: Project) -> list[Flag]:
    if not exceeds(indicator.score, indicator.weight):
        return []
    message = f"得分 {indicator.score:g} is more than the weight {indicator.weight:g}"
    return [flag(SCORE_EXCEEDS_WEIGHT, message, ERROR, score=indicator.score, weight=indicator.weight)]


def operator_vocabulary(indicator: Indicator, project: Project) -> list[Flag]:
    """指标性质 outside the vocabulary, or missing although the target is a number."""
    printed = indicator.operator
    if printed is not None and clean_text(printed):
        if normalize_operator(printed) is None:
            message = f"指标性质 {printed!r} is none of ≥ ≤ = > < 定性"
            return [flag(OPERATOR_UNKNOWN, message, WARNING, operator=printed)]
        return []
    if number_of(indicator.target) is None:
        return []
    hint = operator_hint(indicator.name)
    message = "指标性质 is missing although the target is a number"
    return [
        flag(
            OPERATOR_MISSING,
            message,
            INFO,
            target=indicator.target.text if indicator.target else None,
            name_suggests=hint[0] if hint else None,
            phrase=hint[1] if hint else None,
        )
    ]


def operator_vs_name(indicator: Indicator, project: Project) -> list[Flag]:
    """The name says ``…以上`` / ``不少于…`` and the operator says otherwise."""
    operator = normalize_operator(indicator.operator)
    hint = operator_hint(indicator.name)
    if operator is None or operator == QUALITATIVE or hint is None:
        return []
    said, phrase = hint
    if operator in COMPATIBLE_OPERATORS.get(said, frozenset({said})):
        return []
    message = f"the name says {phrase!r} ({said}) but 指标性质 is {operator}"
    return [flag(OPERATOR_VS_NAME, message, WARNING, operator=operator, name_says=said, phrase=phrase)]


def target_actual_score(indicator: Indicator, project: Project) -> list[Flag]:
    """A numeric target missed with full marks, or met with points lost and no reason (定性 skipped)."""
    operator = normalize_operator(indicator.operator)
    target, actual = number_of(indicator.target), number_of(indicator.actual)
    weight, score = finite(indicator.weight), finite(indicator.score)
    if (
        operator not in NUMERIC_OPERATORS
        or target is None
        or actual is None
        or weight is None
        or score is None
    ):
        return []
    if not units_compatible(
        indicator.target.unit if indicator.target else None,
        indicator.actual.unit if indicator.actual else None,
    ):
        return []
    met = meets_target(operator, actual, target)
    evidence = {"operator": operator, "target": target, "actual": actual, "weight": weight, "score": score}
    if not met and full_marks(score, weight):
        message = f"actual {actual:g} misses the target {operator}{target:g} but scores full marks {score:g}"
        return [flag(SCORE_DESPITE_MISS, message, WARNING, **evidence)]
    if met and not full_marks(score, weight) and not has_reason(indicator.reason):
        message = (
            f"actual {actual:g} meets {operator}{target:g} but scores {score:g} of {weight:g} with no reason"
        )
        return [flag(SCORE_CUT_WITHOUT_REASON, message, WARNING, **evidence)]
    return []


def qualitative_score(indicator: Indicator, project: Project) -> list[Flag]:
    """A qualitative actual (优 / 良 / 未完成 / as targeted) that disagrees with the score."""
    weight, score = finite(indicator.weight), finite(indicator.score)
    operator = normalize_operator(indicator.operator)
    if indicator.actual is None or weight is None or score is None:
        return []
    if number_of(indicator.actual) is not None and operator != QUALITATIVE:
        return []
    actual, target = plain_text(indicator.actual), plain_text(indicator.target)
    evidence = {"actual": indicator.actual.text, "weight": weight, "score": score}
    full = full_marks(score, weight)
    if full and (actual in LOWER_GRADES or any(word in actual for word in SHORTFALL_WORDS)):
        message = f"actual {actual!r} is short of the top result but scores full marks {score:g}"
        return [flag(QUALITATIVE_SCORE, message, WARNING, **evidence)]
    as_targeted = actual in TOP_GRADES or (bool(actual) and actual == target)
    if not full and as_targeted and not has_reason(indicator.reason):
        message = f"actual {actual!r} is the top result but scores {score:g} of {weight:g} with no reason"
        return [flag(QUALITATIVE_SCORE, message, WARNING, **evidence)]
    return []


def missing_fields(indicator: Indicator, project: Project) -> list[Flag]:
    """Target / actual / weight the indicator's form should print but the record lacks."""
    required = REQUIRED_FIELDS.get(project.family, DEFAULT_REQUIRED)
    present = {"target": indicator.target, "actual": indicator.actual, "weight": finite(indicator.weight)}
    missing = [name for name in required if present.get(name) is None]
    if not missing:
        return []
    return [flag(MISSING_FIELDS, f"no {', '.join(missing)}", WARNING, missing=missing, family=project.family)]


# ---------------------------------------------------------------- budget and project checks


def _budget_base(budget: Budget) -> float | None:
    """调整后预算数 where printed (and not zero), else 年初预算."""
    return finite(budget.adjusted) or finite(budget.initial)


def budget_execution_rate(budget: Budget) -> list[Flag]:
    """Printed 预算执行率 vs 执行数 / 调整后预算数 (or 年初预算) × 100."""
    base = _budget_base(budget)
    rate, executed = finite(budget.execution_rate), finite(budget.executed)
    if rate is None or executed is None or not base:
        return []
    computed = round(executed / base * 100, 4)
    if abs(computed - rate) <= RATE_TOLERANCE:
        return []
    evidence: dict[str, Any] = {
        "execution_rate": rate,
        "computed": computed,
        "executed": executed,
        "base": base,
        "base_field": "adjusted" if finite(budget.adjusted) else "initial",
    }
    if abs(rate * 100 - computed) <= RATE_TOLERANCE:
        evidence["note"] = "the printed rate looks like a fraction (1 for 100%)"
    message = f"预算执行率 {rate:g}% but {executed:g} / {base:g} = {computed:g}%"
    return [flag(EXECUTION_RATE, message, WARNING, **evidence)]


def budget_rate_over_100(budget: Budget) -> list[Flag]:
    """More executed than budgeted (printed rate, or amounts when no rate is printed)."""
    base = _budget_base(budget)
    rate, executed = finite(budget.execution_rate), finite(budget.executed)
    if rate is None and executed is not None and base:
        rate = round(executed / base * 100, 4)
    if rate is None or rate <= 100 + SCORE_TOLERANCE:
        return []
    message = f"预算执行率 {rate:g}% is over 100%"
    return [
        flag(
            EXECUTION_RATE_OVER_100,
            message,
            WARNING,
            execution_rate=rate,
            executed=executed,
            base=base,
        )
    ]


def budget_score_exceeds_weight(project: Project) -> list[Flag]:
    budget = project.budget
    if not exceeds(budget.score, budget.weight):
        return []
    message = f"预算执行 得分 {budget.score:g} is more than its weight {budget.weight:g}"
    return [
        flag(SCORE_EXCEEDS_WEIGHT, message, ERROR, scope="budget", score=budget.score, weight=budget.weight)
    ]


def total_score_exceeds_weight(project: Project) -> list[Flag]:
    if not exceeds(project.total_score, project.total_weight):
        return []
    message = f"总分 {project.total_score:g} is more than the total weight {project.total_weight:g}"
    evidence = {"scope": "total", "score": project.total_score, "weight": project.total_weight}
    return [flag(SCORE_EXCEEDS_WEIGHT, message, ERROR, **evidence)]


def _project_parts(project: Project, field: str) -> list[tuple[str, float | None]]:
    """(label, value) of every indicator's weight or score, then the budget row's when printed."""
    parts: list[tuple[str, float | None]] = [(ind.name, getattr(ind, field)) for ind in project.indicators]
    budget_value = getattr(project.budget, field)
    if budget_value is not None:
        parts.append(("预算执行率", budget_value))
    return parts


def project_weights_total(project: Project) -> list[Flag]:
    if not project.indicators:
        return []
    return total_flags(WEIGHTS_TOTAL, "权重", _project_parts(project, "weight"), project.total_weight)


def project_scores_total(project: Project) -> list[Flag]:
    if not project.indicators:
        return []
    return total_flags(SCORES_TOTAL, "得分", _project_parts(project, "score"), project.total_score)


def project_budget_checks(project: Project) -> list[Flag]:
    return [found for check in BUDGET_CHECKS for found in check(project.budget)]


# ---------------------------------------------------------------- score tables


def row_score_exceeds_weight(row: ScoreRow) -> list[Flag]:
    if not exceeds(row.score, row.weight):
        return []
    message = f"得分 {row.score:g} is more than the 分值 {row.weight:g}"
    return [flag(SCORE_EXCEEDS_WEIGHT, message, ERROR, score=row.score, weight=row.weight)]


def _row_label(row: ScoreRow) -> str:
    return row.name or row.level2 or row.level1 or ""


def score_table_totals(table: ScoreTable) -> list[Flag]:
    weights = [(_row_label(row), row.weight) for row in table.rows]
    scores = [(_row_label(row), row.score) for row in table.rows]
    return [
        *total_flags(WEIGHTS_TOTAL, "分值", weights, table.total_weight),
        *total_flags(SCORES_TOTAL, "得分", scores, table.total_score),
    ]


def _groups(rows: Iterable[ScoreRow], level: str) -> dict[tuple[str, float], list[ScoreRow]]:
    """Rows grouped by their 一级 or 二级 indicator and that indicator's printed 分值."""
    groups: dict[tuple[str, float], list[ScoreRow]] = {}
    for row in rows:
        name, weight = getattr(row, level), getattr(row, f"{level}_weight")
        if name and weight is not None:
            groups.setdefault((name, weight), []).append(row)
    return groups


def score_table_groups(table: ScoreTable) -> list[Flag]:
    """Σ 三级 分值 under each 一级 / 二级 indicator vs that indicator's 分值."""
    found: list[Flag] = []
    for level in ("level1", "level2"):
        for (name, weight), rows in _groups(table.rows, level).items():
            parts = [(_row_label(row), row.weight) for row in rows]
            for raised in total_flags(WEIGHTS_TOTAL, f"分值 under {name}", parts, weight):
                raised.evidence["scope"] = f"{level}: {name}"
                found.append(raised)
    return found


# ---------------------------------------------------------------- registries

IndicatorCheck = Callable[[Indicator, Project], list[Flag]]
ProjectCheck = Callable[[Project], list[Flag]]
BudgetCheck = Callable[[Budget], list[Flag]]
ScoreRowCheck = Callable[[ScoreRow], list[Flag]]
ScoreTableCheck = Callable[[ScoreTable], list[Flag]]

INDICATOR_CHECKS: tuple[IndicatorCheck, ...] = (
    indicator_score_exceeds_weight,
    operator_vocabulary,
    operator_vs_name,
    target_actual_score,
    qualitative_score,
    missing_fields,
)
BUDGET_CHECKS: tuple[BudgetCheck, ...] = (budget_execution_rate, budget_rate_over_100)
"""Run on every project's budget (flags on the project) and on the department budget (warnings)."""
PROJECT_CHECKS: tuple[ProjectCheck, ...] = (
    budget_score_exceeds_weight,
    total_score_exceeds_weight,
    project_weights_total,
    project_scores_total,
    project_budget_checks,
)
SCORE_ROW_CHECKS: tuple[ScoreRowCheck, ...] = (row_score_exceeds_weight,)
SCORE_TABLE_CHECKS: tuple[ScoreTableCheck, ...] = (score_table_totals, score_table_groups)
