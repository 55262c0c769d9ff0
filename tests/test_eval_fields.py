"""Typed field comparison, per-field P/R/F1, indicator matching and exact records on hand-made records."""

from __future__ import annotations

import pytest

from zhibiao.eval.fields import (
    field_stats,
    number_equal,
    operator_equal,
    score_document_records,
    text_equal,
    unit_equal,
    value_equal,
)
from zhibiao.eval.normalize import parse_quantity


@pytest.mark.parametrize(
    ("gold", "pred"),
    [("100%", 100), ("100.00%", 100.0), ("16.00", 16), ("2,340", 2340.0), ("99.96%", 99.96)],
)
def test_numbers_compare_as_numbers(gold, pred):
    assert number_equal(gold, pred)


def test_different_numbers_differ():
    assert not number_equal("99.96%", 99.95)
    assert not number_equal("10", "100")


@pytest.mark.parametrize(
    ("gold", "pred"),
    [
        ("2,340平方米", {"text": "2,340平方米", "value": 2340, "unit": "平方米"}),
        ("2,340平方米", {"text": "2340", "value": 2340, "unit": "平方米"}),
        ("100%", {"text": "100", "value": 100, "unit": "%"}),
        ("100", {"text": "100%", "value": 100.0, "unit": "%"}),
        ("优良中低差", {"text": "优良中低差", "value": None, "unit": None}),
        ("10公里以内", {"text": "10公里以内", "value": 10, "unit": "公里"}),
        ("覆盖人数达20万", {"text": "覆盖人数达 20万。", "value": 20, "unit": "万"}),
    ],
)
def test_values_equal(gold, pred):
    assert value_equal(gold, pred)


def test_values_with_other_units_or_numbers_differ():
    assert not value_equal("2,340平方米", {"text": "2340", "value": 2340, "unit": "公里"})
    assert not value_equal("80", {"text": "86", "value": 86, "unit": None})
    assert not value_equal("优", {"text": "良", "value": None})


def test_operators_fold_full_width_and_ascii():
    assert operator_equal("＝", "=")
    assert operator_equal(">=", "≥")
    assert operator_equal("≧", "≥")
    assert not operator_equal("≥", "≤")


def test_text_is_nfkc_whitespace_and_trailing_punctuation_insensitive():
    assert text_equal("优,", "优")
    assert text_equal("资金到位率(%)", "资金到位率（%）")
    assert text_equal("项目资金\n（万元）", "项目资金(万元)")
    assert not text_equal("优", "良")


def test_unit_against_target_or_actual_unit():
    assert unit_equal("个（台、套、件、辆）", ["个(台、套、件、辆)"])
    assert not unit_equal("名", ["人"])


def test_parse_quantity():
    q = parse_quantity("≥13459.00(平方米)")
    assert (q.operator, q.number, q.unit) == ("≥", 13459.0, "平方米")
    assert parse_quantity("开展线上线下活动351场次") is None


GOLD = {
    "department": "某区妇联",
    "projects": [
        {
            "name": "项目甲",
            "code": "510300",
            "budget": {"initial": "16.00", "execution_rate": "100.00%"},
            "indicators": [
                {
                    "name": "指标一",
                    "operator": "＝",
                    "target": "5",
                    "unit": "个",
                    "actual": "5",
                    "reason": "",
                },
                {
                    "name": "指标二",
                    "operator": "≥",
                    "target": "20",
                    "unit": "场",
                    "actual": "22",
                    "reason": "",
                },
                {
                    "name": "满意度",
                    "operator": "≥",
                    "target": "95%",
                    "unit": "%",
                    "actual": "98%",
                    "reason": "",
                },
            ],
        }
    ],
}


def indicator(name, op, target, unit, actual, reason=None):
    return {
        "name": name,
        "operator": op,
        "target": {"text": target, "value": float(target.rstrip("%")), "unit": unit},
        "actual": {"text": actual, "value": float(actual.rstrip("%")), "unit": unit},
        "reason": reason,
    }


def perfect():
    return {
        "department": "某区妇联",
        "year": 2022,
        "projects": [
            {
                "name": "项目甲",
                "code": "510300",
                "budget": {"initial": 16.0, "execution_rate": 100.0, "adjusted": 15.0},
                "indicators": [
                    indicator("指标一", "=", "5", "个", "5"),
                    indicator("指标二", "≥", "20", "场", "22"),
                    indicator("满意度", "≥", "95", "%", "98"),
                ],
            }
        ],
    }


def test_perfect_prediction_scores_one_and_ignores_fields_gold_does_not_have():
    score = score_document_records(GOLD, perfect())
    stats = field_stats(score.outcomes)
    assert all(o.status in ("correct", "empty_ok") for o in score.outcomes)
    assert "document.year" not in stats and "project.budget.adjusted" not in stats
    assert (score.indicators.tp, score.indicators.fp, score.indicators.fn) == (3, 0, 0)
    assert score.indicators.exact_match == 1.0
    # 1 document field + 4 project fields + 3 x 6 indicator fields
    assert sum(s.slots for s in stats.values()) == 23


def test_one_wrong_value_gives_exact_counts():
    pred = perfect()
    pred["projects"][0]["indicators"][1]["actual"] = {"text": "21", "value": 21.0, "unit": "场"}
    score = score_document_records(GOLD, pred)
    stats = field_stats(score.outcomes)["indicator.actual"]
    assert (stats.slots, stats.accurate, stats.tp, stats.fp, stats.fn) == (3, 2, 2, 1, 1)
    assert stats.precision == pytest.approx(2 / 3) and stats.recall == pytest.approx(2 / 3)
    total_accurate = sum(s.accurate for s in field_stats(score.outcomes).values())
    assert total_accurate == 22
    assert score.indicators.exact == 2


def test_empty_gold_matches_null_and_flags_a_predicted_value():
    pred = perfect()
    pred["projects"][0]["indicators"][0]["reason"] = "疫情影响"
    statuses = {
        o.where: o.status
        for o in score_document_records(GOLD, pred).outcomes
        if o.field == "indicator.reason"
    }
    assert sorted(statuses.values()) == ["empty_ok", "empty_ok", "spurious"]


def test_dropped_indicator_is_missing_and_extra_is_spurious():
    pred = perfect()
    pred["projects"][0]["indicators"].pop(1)
    pred["projects"][0]["indicators"].append(indicator("宣传活动次数", "≥", "1", "次", "1"))
    score = score_document_records(GOLD, pred)
    assert (score.indicators.tp, score.indicators.fp, score.indicators.fn) == (2, 1, 1)
    assert score.indicators.precision == pytest.approx(2 / 3)
    assert score.indicators.recall == pytest.approx(2 / 3)
    name = field_stats(score.outcomes)["indicator.name"]
    assert (name.slots, name.tp, name.fp, name.fn) == (3, 2, 1, 1)


def test_matching_is_one_to_one_by_name():
    pred = perfect()
    indicators = pred["projects"][0]["indicators"]
    pred["projects"][0]["indicators"] = [indicators[2], indicators[0], indicators[1]]
    score = score_document_records(GOLD, pred)
    assert score.indicators.exact == 3


def test_project_matched_by_code_when_name_differs():
    pred = perfect()
    pred["projects"][0]["name"] = "完全不同的名称"
    score = score_document_records(GOLD, pred)
    assert score.projects.tp == 1
    assert field_stats(score.outcomes)["project.name"].fp == 1


def test_narrative_indicators_pool_with_their_project():
    gold = {
        "projects": [
            {"name": "阵地建设专项经费项目", "indicators": [{"name": "信访案件办结率", "actual": "100%"}]},
        ]
    }
    pred = {
        "projects": [{"name": "阵地建设专项经费项目", "indicators": []}],
        "narrative_indicators": [
            {
                "project": "阵地建设专项经费项目",
                "name": "信访案件办结率",
                "actual": {"text": "100%", "value": 100},
            }
        ],
    }
    score = score_document_records(gold, pred)
    assert score.indicators.tp == 1 and score.indicators.exact == 1


def test_unmatched_gold_project_counts_all_its_fields_missing():
    score = score_document_records(GOLD, {"projects": []})
    stats = field_stats(score.outcomes)
    assert stats["project.name"].fn == 1
    assert stats["indicator.reason"].slots == 3 and stats["indicator.reason"].accurate == 0
    assert stats["indicator.reason"].fn == 0  # gold reason is empty: nothing to recall
    assert score.indicators.fn == 3
