"""Domain checks: known violations raise exactly their flag codes; consistent gold data raises none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import GOLD, require, value
from zhibiao.checks import ERROR_CONFIDENCE_FACTOR, run_checks
from zhibiao.checks.rules import (
    EXECUTION_RATE,
    EXECUTION_RATE_OVER_100,
    MISSING_FIELDS,
    OPERATOR_MISSING,
    OPERATOR_UNKNOWN,
    OPERATOR_VS_NAME,
    QUALITATIVE_SCORE,
    SCORE_CUT_WITHOUT_REASON,
    SCORE_DESPITE_MISS,
    SCORE_EXCEEDS_WEIGHT,
    SCORES_TOTAL,
    WEIGHTS_TOTAL,
    operator_hint,
    units_compatible,
)
from zhibiao.model import SourceInfo
from zhibiao.records.values import normalize_operator, parse_number
from zhibiao.result import Budget, ExtractionResult, Indicator, Project, ScoreRow, ScoreTable, Value


def indicator(name: str = "亲子阅读", **fields: Any) -> Indicator:
    """A consistent ≥ indicator (target 20 场, actual 22, 10/10) with ``fields`` overriding it."""
    base: dict[str, Any] = {
        "name": name,
        "operator": "≥",
        "target": value("20", "场"),
        "actual": value("22", "场"),
        "weight": 10.0,
        "score": 10.0,
    }
    return Indicator(**{**base, **fields})


def project(*indicators: Indicator, **fields: Any) -> Project:
    return Project(name="测试项目", family="self_eval", indicators=list(indicators), **fields)


def result_of(*projects: Project, **fields: Any) -> ExtractionResult:
    return ExtractionResult(source=SourceInfo(path="test"), projects=list(projects), **fields)


def codes(flags: list[Any]) -> list[str]:
    return sorted(found.code for found in flags)


def checked_indicator(**fields: Any) -> Indicator:
    one = indicator(**fields)
    run_checks(result_of(project(one)))
    return one


# ---------------------------------------------------------------- one violation each


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, []),
        ({"score": 12.0}, [SCORE_EXCEEDS_WEIGHT]),
        ({"score": 10.005}, []),
        ({"operator": "约"}, [OPERATOR_UNKNOWN]),
        ({"operator": "＞＝"}, []),
        ({"operator": None}, [OPERATOR_MISSING]),
        ({"operator": "≤", "actual": value("18", "场"), "name": "不少于20场活动"}, [OPERATOR_VS_NAME]),
        (
            {"operator": "=", "name": "培训学员100人以上", "target": value("100"), "actual": value("120")},
            [OPERATOR_VS_NAME],
        ),
        (
            {
                "name": "春蕾计划结对帮扶困难学生100名以上",
                "target": value("100", "名"),
                "actual": value("80", "名"),
            },
            [SCORE_DESPITE_MISS],
        ),
        ({"actual": value("80", "场"), "score": 8.0, "reason": "疫情影响"}, []),
        ({"score": 8.0}, [SCORE_CUT_WITHOUT_REASON]),
        ({"score": 8.0, "reason": "无"}, [SCORE_CUT_WITHOUT_REASON]),
        (
            {"operator": "≤", "target": value("10", "公里"), "actual": value("12", "公里")},
            [SCORE_DESPITE_MISS],
        ),
        ({"operator": "≤", "target": value("10", "公里"), "actual": value("8", "公里")}, []),
        ({"operator": "=", "target": value("1", "次"), "actual": value("5", "次")}, []),
        ({"operator": "=", "target": value("5", "个"), "actual": value("3", "个")}, [SCORE_DESPITE_MISS]),
        ({"target": value("5", "万人次"), "actual": value("覆盖人数达20万")}, []),
        ({"target": value("5", "公里"), "actual": value("3", "小时")}, []),
        ({"operator": "定性", "target": value("优良中低差"), "actual": value("良")}, [QUALITATIVE_SCORE]),
        ({"operator": "定性", "target": value("优良中低差"), "actual": value("良"), "score": 8.0}, []),
        (
            {"operator": "定性", "target": value("优良中低差"), "actual": value("优"), "score": 8.0},
            [QUALITATIVE_SCORE],
        ),
        (
            {"operator": None, "target": value("合规"), "actual": value("合规"), "score": 12.0},
            [SCORE_EXCEEDS_WEIGHT],
        ),
        ({"operator": None, "target": value("合规"), "actual": value("未完成")}, [QUALITATIVE_SCORE]),
        (
            {
                "operator": None,
                "target": value("正常开展"),
                "actual": value("正常开展"),
                "weight": 15.0,
                "score": 14.0,
            },
            [QUALITATIVE_SCORE],
        ),
        ({"weight": None}, [MISSING_FIELDS]),
        ({"target": None, "actual": None}, [MISSING_FIELDS]),
    ],
)
def test_indicator_checks_raise_exactly_the_expected_codes(
    fields: dict[str, Any], expected: list[str]
) -> None:
    assert codes(checked_indicator(**fields).flags) == sorted(expected)


def test_flags_carry_the_numbers_they_compared() -> None:
    missed = checked_indicator(target=value("100", "名"), actual=value("80", "名"))
    evidence = missed.flags[0].evidence
    assert evidence == {"operator": "≥", "target": 100.0, "actual": 80.0, "weight": 10.0, "score": 10.0}
    over = checked_indicator(score=12.0)
    assert over.flags[0].evidence == {"score": 12.0, "weight": 10.0}
    assert over.flags[0].severity == "error"


def test_operator_missing_suggests_the_operator_the_name_states() -> None:
    found = checked_indicator(
        operator=None, name="满意度达95%以上", target=value("95", "%"), actual=value("96", "%")
    )
    assert codes(found.flags) == [OPERATOR_MISSING]
    assert found.flags[0].evidence["name_suggests"] == "≥"
    assert found.flags[0].severity == "info"


def test_error_lowers_confidence_once_and_rerunning_adds_nothing() -> None:
    one = indicator(score=12.0, weight=10.0, confidence=0.9)
    result = result_of(project(one))
    run_checks(result)
    run_checks(result)
    assert codes(one.flags) == [SCORE_EXCEEDS_WEIGHT]
    assert one.confidence == pytest.approx(0.9 * ERROR_CONFIDENCE_FACTOR)
    warned = indicator(score=8.0, confidence=0.9)
    run_checks(result_of(project(warned)))
    assert codes(warned.flags) == [SCORE_CUT_WITHOUT_REASON]
    assert warned.confidence == 0.9


def test_non_finite_numbers_count_as_missing() -> None:
    """``parse_number("nan")`` gives NaN: such a weight is treated as not printed, never compared."""
    odd = indicator(weight=float("nan"), score=float("inf"))
    checked = project(odd, total_weight=100.0, total_score=float("nan"))
    run_checks(result_of(checked))
    assert codes(odd.flags) == [MISSING_FIELDS]
    assert checked.flags == []


def test_target_forms_need_no_actual_or_weight() -> None:
    target_only = Indicator(name="覆盖率", operator="≥", target=value("90", "%"))
    form = Project(name="目标表", family="target", indicators=[target_only])
    run_checks(result_of(form))
    assert target_only.flags == []


# ---------------------------------------------------------------- project totals and budget


def test_weight_and_score_totals() -> None:
    first, second = (
        indicator(weight=40.0, score=40.0),
        indicator(name="满意度", weight=50.0, score=45.0, reason="疫情"),
    )
    budget = Budget(initial=10.0, executed=10.0, execution_rate=100.0, weight=10.0, score=10.0)
    good = project(first, second, budget=budget, total_weight=100.0, total_score=95.0)
    bad = project(
        indicator(weight=40.0, score=40.0),
        indicator(name="满意度", weight=50.0, score=45.0, reason="疫情"),
        budget=budget,
        total_weight=110.0,
        total_score=98.0,
    )
    run_checks(result_of(good, bad))
    assert good.flags == []
    assert codes(bad.flags) == [SCORES_TOTAL, WEIGHTS_TOTAL]
    weights = next(f for f in bad.flags if f.code == WEIGHTS_TOTAL).evidence
    assert weights["sum"] == 100.0 and weights["total"] == 110.0
    assert weights["parts"] == [["亲子阅读", 40.0], ["满意度", 50.0], ["预算执行率", 10.0]]


def test_totals_are_skipped_when_missing() -> None:
    no_totals = project(indicator(weight=40.0))
    run_checks(result_of(no_totals))
    assert no_totals.flags == []


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (Budget(initial=16.0, adjusted=15.96, executed=15.96, execution_rate=100.0), []),
        (Budget(initial=130.76, executed=130.44, execution_rate=99.96), []),
        (Budget(initial=100.0, adjusted=80.0, executed=60.0, execution_rate=60.0), [EXECUTION_RATE]),
        (Budget(initial=100.0, executed=100.0, execution_rate=1.0), [EXECUTION_RATE]),
        (Budget(initial=100.0, executed=110.0, execution_rate=110.0), [EXECUTION_RATE_OVER_100]),
        (Budget(initial=100.0, executed=110.0), [EXECUTION_RATE_OVER_100]),
        (Budget(initial=0.0, executed=1.0, execution_rate=100.0), []),
        (Budget(weight=10.0, score=11.0), [SCORE_EXCEEDS_WEIGHT]),
    ],
)
def test_budget_checks(budget: Budget, expected: list[str]) -> None:
    checked = project(budget=budget)
    run_checks(result_of(checked))
    assert codes(checked.flags) == sorted(expected)


def test_execution_rate_evidence_and_fraction_hint() -> None:
    checked = project(budget=Budget(initial=100.0, executed=100.0, execution_rate=1.0))
    run_checks(result_of(checked))
    evidence = checked.flags[0].evidence
    assert (
        evidence["computed"] == 100.0 and evidence["execution_rate"] == 1.0 and "fraction" in evidence["note"]
    )


def test_department_budget_flags_become_warnings() -> None:
    result = result_of(department_budget=Budget(initial=100.0, executed=90.0, execution_rate=99.0))
    run_checks(result)
    run_checks(result)
    assert len(result.warnings) == 1 and EXECUTION_RATE in result.warnings[0]


# ---------------------------------------------------------------- score tables


def test_score_table_rows_totals_and_groups() -> None:
    rows = [
        ScoreRow(
            level1="部门决策",
            level1_weight=20,
            level2="预算编制",
            level2_weight=10,
            name="预算编制合理性",
            weight=5,
            score=5,
        ),
        ScoreRow(
            level1="部门决策",
            level1_weight=20,
            level2="预算编制",
            level2_weight=10,
            name="绩效目标",
            weight=5,
            score=6,
        ),
        ScoreRow(
            level1="部门决策",
            level1_weight=20,
            level2="目标设定",
            level2_weight=10,
            name="目标明确性",
            weight=8,
            score=8,
        ),
    ]
    table = ScoreTable(title="自评得分一览表", rows=rows, total_weight=18, total_score=19)
    run_checks(result_of(score_tables=[table]))
    assert codes(rows[1].flags) == [SCORE_EXCEEDS_WEIGHT]
    assert codes(rows[0].flags) == [] and codes(rows[2].flags) == []
    assert codes(table.flags) == [WEIGHTS_TOTAL, WEIGHTS_TOTAL]
    scopes = sorted(f.evidence["scope"] for f in table.flags)
    assert scopes == ["level1: 部门决策", "level2: 目标设定"]


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("春蕾计划结对帮扶困难学生100名以上", "≥"),
        ("指导示范微家开展活动，全年不少于4次", "≥"),
        ("参加社区家长学校培训的居民满意度达95%以上", "≥"),
        ("区级妇女儿童活动中心服务距离10公里以内", "≤"),
        ("投诉率不高于5%", "≤"),
        ("打造安全宣传进家庭示范点5个", None),
        ("12月前关爱慰问困难妇女200名", None),
        ("2022年12底前评选出全市“最美家庭”", None),
        ("定性20项", None),
    ],
)
def test_operator_hint(name: str, expected: str | None) -> None:
    hint = operator_hint(name)
    assert (hint[0] if hint else None) == expected


def test_units_compatible() -> None:
    assert units_compatible("个（台、套、件、辆）", "个")
    assert units_compatible("万人次", "万")
    assert units_compatible(None, "%")
    assert not units_compatible("公里", "小时")


# ---------------------------------------------------------------- gold: consistent data raises no false flags


def gold_value(text: Any, unit: str | None) -> Value | None:
    if text is None or str(text).strip() == "":
        return None
    return value(str(text), unit or None)


def gold_project(data: dict[str, Any]) -> Project:
    """A gold project (``gold/NNN.json``) as the records stage would give it."""
    indicators = [
        Indicator(
            level1=row.get("level1"),
            level2=row.get("level2"),
            name=row["name"],
            operator=normalize_operator(row.get("operator")),
            target=gold_value(row.get("target"), row.get("unit")),
            actual=gold_value(row.get("actual"), row.get("unit")),
            weight=parse_number(row.get("weight")),
            score=parse_number(row.get("score")),
            reason=row.get("reason") or None,
        )
        for row in data.get("indicators", [])
    ]
    budget = data.get("budget", {})
    return Project(
        name=data.get("project_name"),
        family="self_eval",
        indicators=indicators,
        budget=Budget(
            initial=parse_number(budget.get("initial") or budget.get("annual")),
            adjusted=parse_number(budget.get("adjusted")),
            executed=parse_number(budget.get("executed")),
            execution_rate=parse_number(budget.get("execution_rate")),
            weight=parse_number(budget.get("weight")),
            score=parse_number(budget.get("score")),
        ),
        total_weight=parse_number(data.get("total_weight")),
        total_score=parse_number(data.get("total_score")),
    )


def gold_result(path: Path) -> ExtractionResult:
    gold = json.loads(require(path).read_text(encoding="utf-8"))
    return result_of(*(gold_project(p) for p in gold["projects"]))


def all_flags(result: ExtractionResult) -> list[tuple[str, str]]:
    found = [(p.name or "", f.code) for p in result.projects for f in p.flags]
    found += [(i.name, f.code) for p in result.projects for i in p.indicators for f in i.flags]
    return found


def test_gold_003_raises_no_flags() -> None:
    result = gold_result(GOLD / "003.json")
    assert len(result.projects) == 7
    run_checks(result)
    assert all_flags(result) == []
    assert result.warnings == []


def test_gold_003_sums_really_are_checked() -> None:
    """The consistent gold sums (90 + budget 10 = 100) are compared, not skipped: break one and it flags."""
    result = gold_result(GOLD / "003.json")
    first = result.projects[0]
    assert first.total_weight == 100 and sum(i.weight or 0 for i in first.indicators) == 90
    first.total_weight = 110.0
    run_checks(result)
    assert all_flags(result) == [(first.name, WEIGHTS_TOTAL)]


def test_gold_000_only_misses_operators() -> None:
    """Seed 000 prints no 指标性质: the numeric targets get operator_missing (info), nothing else."""
    result = gold_result(GOLD / "000.json")
    run_checks(result)
    assert sorted(all_flags(result)) == [
        ("交办任务完成率", OPERATOR_MISSING),
        ("资金到位率(%)", OPERATOR_MISSING),
    ]
