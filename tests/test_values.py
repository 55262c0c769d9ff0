"""The value parser: operators, numbers and units as printed in 指标值 / 完成值 cells and sentences."""

from __future__ import annotations

import pytest

from zhibiao.records.values import clean_text, normalize_operator, parse_number, parse_value


@pytest.mark.parametrize(
    ("text", "value", "unit", "operator"),
    [
        ("≥13459.00(平方米)", 13459.0, "平方米", "≥"),
        ("=100.00(%)", 100.0, "%", "="),
        ("＝100.00（%）", 100.0, "%", "="),
        ("不低于50%", 50.0, "%", "≥"),
        ("100%", 100.0, "%", None),
        ("2,340平方米", 2340.0, "平方米", None),
        ("10公里以内", 10.0, "公里", "≤"),
        ("100名以上", 100.0, "名", "≥"),
        ("不少于4次", 4.0, "次", "≥"),
        ("开展线上线下活动351场次", 351.0, "场次", None),
        ("合同审核及时率达到100%。", 100.0, "%", None),
        ("合规", None, None, None),
        ("优良中低差", None, None, None),
    ],
)
def test_parse_value(text: str, value: float | None, unit: str | None, operator: str | None) -> None:
    parsed, op = parse_value(text)
    assert parsed is not None
    assert parsed.text == text
    assert parsed.value == value
    assert parsed.unit == unit
    assert op == operator


def test_unit_column_wins_over_text() -> None:
    parsed, _ = parse_value("5", unit="个（台、套、件、辆）")
    assert parsed is not None and parsed.value == 5 and parsed.unit == "个（台、套、件、辆）"


def test_empty_value_is_none() -> None:
    assert parse_value("  ") == (None, None)
    assert parse_value(None) == (None, None)


@pytest.mark.parametrize(
    ("printed", "canonical"),
    [
        ("≥", "≥"),
        ("＞＝", "≥"),
        ("＝", "="),
        ("=", "="),
        ("≤", "≤"),
        ("定性", "定性"),
        ("＜", "<"),
        ("x", None),
    ],
)
def test_normalize_operator(printed: str, canonical: str | None) -> None:
    assert normalize_operator(printed) == canonical


def test_numbers() -> None:
    assert parse_number("99.96%") == 99.96
    assert parse_number("１００") == 100.0
    assert parse_number("2,340") == 2340.0
    assert parse_number("约100") is None
    assert clean_text(" 交办任务完\n成率 ") == "交办任务完成率"


@pytest.mark.parametrize(
    ("text", "value", "unit", "operator"),
    [
        ("2023年12月底前", None, None, None),
        ("2022年度完成100%", 100.0, "%", None),
        ("合同审核及时率≥95%", 95.0, "%", "≥"),
        ("3个工作日内", 3.0, "个工作日", "≤"),
        ("线上推送100期、组织开展活动", 100.0, "期", None),
    ],
)
def test_dates_symbols_inside_and_suffixes(
    text: str, value: float | None, unit: str | None, operator: str | None
) -> None:
    parsed, op = parse_value(text)
    assert parsed is not None
    assert (parsed.value, parsed.unit, op) == (value, unit, operator)
