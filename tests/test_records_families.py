"""Target forms, wide multi-project tables and department score tables, each in two header phrasings."""

from __future__ import annotations

from pathlib import Path

import pytest
from records_gold import document, gold_table

from conftest import FIXTURES
from zhibiao.records import RecordSet
from zhibiao.records.classify import classify_table
from zhibiao.records.forms import records_from_tables
from zhibiao.records.score_table import parse_score_table
from zhibiao.result import Indicator, Project

HERE = FIXTURES / "records"


def fixture(name: str) -> Path:
    return HERE / f"{name}.html"


def read(name: str, texts: tuple[str, ...] = ()) -> tuple[list[Project], RecordSet]:
    records = records_from_tables(document([gold_table(fixture(name), 1)], texts))
    return records.projects, records


def by_name(indicators: list[Indicator], name: str) -> Indicator:
    return next(i for i in indicators if i.name == name)


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("target_form_label_budget", "target"),
        ("target_form_columns", "target"),
        ("wide_categories_over_roles", "wide"),
        ("wide_roles_over_categories", "wide"),
        ("score_weight_columns", "score_table"),
        ("score_label_weights", "score_table"),
    ],
)
def test_fixture_families_are_recognised(name: str, family: str) -> None:
    assert classify_table(gold_table(fixture(name), 1)) == family


# --- target forms -------------------------------------------------------------------------------


def test_target_form_with_operator_value_and_unit_in_one_cell() -> None:
    projects, records = read("target_form_label_budget", ("2023年度项目支出绩效目标表",))
    [project] = projects
    assert project.family == "target"
    assert (project.code, project.name) == ("51030023Y000000412345", "市妇联城市社区妇女儿童之家建设")
    assert project.department == "自贡市妇女联合会部门"  # [502] code prefix dropped
    assert (project.budget.total, project.budget.initial, project.budget.fiscal) == (300.0, 120.0, 120.0)
    assert project.budget.unit == "万元"
    area = by_name(project.indicators, "新建妇女儿童之家活动阵地面积")
    assert area.operator == "≥"
    assert area.target is not None
    assert (area.target.text, area.target.value, area.target.unit) == ("≥13459.00(平方米)", 13459.0, "平方米")
    assert area.actual is None and area.score is None
    rate = by_name(project.indicators, "社区妇女儿童活动参与率")
    assert (
        rate.operator == "≥"
        and rate.target is not None
        and (rate.target.value, rate.target.unit) == (50, "%")
    )
    passed = by_name(project.indicators, "项目验收合格率")
    assert passed.operator == "=" and passed.target is not None and passed.target.unit == "%"
    deadline = by_name(project.indicators, "项目完成时间")
    assert deadline.target is not None and deadline.target.value is None  # a date is not a quantity
    qualitative = by_name(project.indicators, "参与活动妇女满意度")
    assert (
        qualitative.operator is None and qualitative.target is not None and qualitative.target.value is None
    )
    assert [i.level1 for i in project.indicators] == ["产出指标"] * 3 + ["效益指标"] + ["满意度指标"] * 2
    assert records.year == 2023
    assert records.department == "自贡市妇女联合会"


def test_target_form_with_operator_and_unit_columns() -> None:
    [project], _ = read("target_form_columns")
    assert project.family == "target"
    assert project.code == "44011322A000000008765"
    assert (project.department, project.implementing_unit) == (
        "广州市番禺区妇女联合会",
        "广州市番禺区妇女联合会",
    )
    assert (project.budget.initial, project.budget.fiscal, project.budget.unit) == (85.5, 85.5, "万元")
    assert len(project.indicators) == 6
    rate = by_name(project.indicators, "维权案件办结率")
    assert (
        rate.operator == "≥"
        and rate.provenance is not None
        and rate.provenance.printed == {"operator": "＞＝"}
    )
    assert rate.target is not None and (rate.target.value, rate.target.unit) == (95, "%")
    assert rate.weight == 20
    cost = by_name(project.indicators, "人均服务成本")
    assert cost.operator == "≤" and cost.reason == "按服务人次测算"
    assert cost.target is not None and cost.target.unit == "元/人次"
    assert by_name(project.indicators, "维权服务机制").operator == "定性"
    assert sum(i.weight or 0 for i in project.indicators) == 100


# --- wide multi-project tables ------------------------------------------------------------------


def test_wide_table_with_categories_over_roles() -> None:
    projects, _ = read("wide_categories_over_roles")
    assert [p.name for p in projects] == ["法律顾问服务经费", "妇女儿童维权服务经费"]  # 合计 row skipped
    first, second = projects
    assert first.family == "wide"
    assert (first.budget.initial, first.budget.executed, first.budget.execution_rate) == (12.0, 11.8, 98.33)
    assert first.budget.unit == "万元" and first.total_score == 98
    contract = by_name(first.indicators, "合同审核及时率")
    assert contract.level1 == "产出指标" and contract.operator == "≥"
    assert contract.target is not None and (contract.target.text, contract.target.value) == ("≥95%", 95)
    assert contract.actual is not None and (contract.actual.value, contract.actual.unit) == (100, "%")
    assert contract.provenance is not None
    assert contract.provenance.printed["target"].startswith("合同审核及时率≥95%，符合合同")
    satisfaction = by_name(first.indicators, "服务对象满意度")
    assert satisfaction.level1 == "满意度指标" and satisfaction.actual is not None
    assert satisfaction.actual.value == 96
    assert [i.level1 for i in second.indicators].count("产出指标") == 2


def test_wide_cell_with_two_indicators_pairs_targets_and_actuals_by_name() -> None:
    projects, _ = read("wide_categories_over_roles")
    outputs = [i for i in projects[1].indicators if i.level1 == "产出指标"]
    pairs = {
        i.name: (i.target.value if i.target else None, i.actual.value if i.actual else None) for i in outputs
    }
    # the 完成情况 cell lists them in the other order: pairing is by name, not by position
    assert pairs == {"法律咨询服务": (1000, 1260), "维权案件办结率": (95, 98)}
    assert all(i.confidence == pytest.approx(0.9) for i in outputs)


def test_wide_table_with_roles_over_categories_and_merged_project_rows() -> None:
    projects, _ = read("wide_roles_over_categories")
    assert [p.code for p in projects] == ["44011322A000000001111", "44011322A000000002222"]
    first = projects[0]
    assert first.implementing_unit == "广州市番禺区妇女联合会"
    assert (first.budget.initial, first.budget.unit) == (250000, "元")
    names = [i.name for i in first.indicators]
    assert names == [
        "举办创业培训班",
        "带动妇女就业",
        "学员满意度",
        "培训妇女",
    ]  # second row of a merged project
    jobs = by_name(first.indicators, "带动妇女就业")
    assert jobs.level1 == "效益指标" and jobs.operator == "≥"
    assert jobs.actual is not None and (jobs.actual.value, jobs.actual.unit) == (126, "人")
    qualitative = by_name(projects[1].indicators, "家长家庭教育能力明显提升")
    assert qualitative.target is not None and qualitative.target.value is None
    assert qualitative.actual is not None and qualitative.actual.text == "家长家庭教育能力明显提升"


# --- department score tables --------------------------------------------------------------------


def test_score_table_with_weight_columns_per_level() -> None:
    _, records = read("score_weight_columns", ("部门整体支出绩效自评得分表",))
    [table] = records.score_tables
    assert table.title == "部门整体支出绩效自评得分表"
    assert (table.total_weight, table.total_score) == (100, 96.5)
    assert len(table.rows) == 9
    row = table.rows[1]
    assert (row.level1, row.level1_weight, row.level2, row.level2_weight) == ("部门决策", 20, "目标设定", 10)
    assert (row.name, row.weight, row.score) == ("绩效指标明确性", 5, 4)
    assert table.rows[6].level2 == "资产管理" and table.rows[6].level2_weight == 10
    assert sum(r.weight or 0 for r in table.rows) == table.total_weight
    assert sum(r.score or 0 for r in table.rows) == table.total_score


def test_score_table_with_weights_inside_labels() -> None:
    table = parse_score_table(gold_table(fixture("score_label_weights"), 1), "自评得分一览表")
    assert table is not None
    assert table.title == "自评得分一览表"
    assert table.total_score == 95 and table.total_weight is None
    first = table.rows[0]
    assert (first.level1, first.level1_weight, first.level2, first.level2_weight) == (
        "部门决策",
        25,
        "目标任务",
        15,
    )
    assert (first.name, first.weight, first.score) == ("相关性", 5, 5)
    budget = table.rows[3]
    assert (budget.level2, budget.level2_weight, budget.name, budget.weight) == (
        "预算编制",
        10,
        "测算依据",
        10,
    )
    last = table.rows[-1]
    assert (last.level1, last.level1_weight, last.level2) == ("部门绩效情况", 45, "满意度")
    assert sum(r.weight or 0 for r in table.rows) == 100
    assert sum(r.score or 0 for r in table.rows) == table.total_score
    assert all(r.provenance is not None and r.provenance.cells for r in table.rows)


def test_all_families_in_one_document() -> None:
    names = [
        "target_form_label_budget",
        "wide_categories_over_roles",
        "score_weight_columns",
        "target_form_columns",
    ]
    tables = [gold_table(fixture(n), i + 1) for i, n in enumerate(names)]
    records = records_from_tables(document(tables))
    assert len(records.projects) == 1 + 2 + 1
    assert len(records.score_tables) == 1
    assert [p.family for p in records.projects] == ["target", "wide", "wide", "target"]
