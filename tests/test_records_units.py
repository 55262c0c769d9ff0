"""Pure building blocks of table understanding: header vocabulary, sentences, identities, totals, merging."""

from __future__ import annotations

import pytest
from records_gold import document

from zhibiao.model import Cell, Table
from zhibiao.records.classify import classify_table
from zhibiao.records.context import year_in
from zhibiao.records.forms import document_department, records_from_tables
from zhibiao.records.headers import (
    compile_vocabulary,
    match_field,
    money_unit,
    normalize_header,
    split_qualifiers,
)
from zhibiao.records.identity import split_code
from zhibiao.records.indicators import assign_totals
from zhibiao.records.merge import ProjectCollector
from zhibiao.records.sentences import pair_phrases, parse_phrase, split_items
from zhibiao.result import Indicator, Project, Value


@pytest.mark.parametrize(
    ("text", "group", "field"),
    [
        ("分值（权重）", "indicator_column", "weight"),
        ("年度\n指标值", "indicator_column", "target"),
        ("实际完成值（B）", "indicator_column", "actual"),
        ("偏差原因分析及改进措施", "indicator_column", "reason"),
        ("实施单位 （盖章）", "identity", "implementing_unit"),
        ("年度预算数（万元）", "budget_column", "initial"),
        ("年度预算执行数", "budget_column", "executed"),
        ("调整预算数", "budget_column", "adjusted"),
        ("其中：当年财政拨款", "budget_row", "fiscal"),
        ("总 分", "row_marker", "total"),
        ("1.项目名称", "identity", "project_name"),
        ("部门整体支出绩效自评得分表", "title", "score_table"),
        ("项目支出绩效目标表", "title", "target"),
        ("一级指标", "indicator_column", "level1"),
        ("项目基本情况", "identity", None),
        ("财政专户管理资金", "budget_row", "other"),
    ],
)
def test_header_phrasings_map_to_fields(text: str, group: str, field: str | None) -> None:
    assert match_field(text, group) == field


def test_header_normalisation_and_qualifiers() -> None:
    assert normalize_header(" 2. 三级\n指标 ") == "三级指标"
    assert split_qualifiers("分值(权重)") == ("分值", ["权重"])
    assert split_qualifiers("(万元)") == ("(万元)", [])
    assert money_unit("项目资金\n（万元）") == "万元"
    assert money_unit("单位：元") == "元"
    assert money_unit("预算执行情况（10分）") is None


def test_a_new_phrasing_is_a_data_change() -> None:
    vocab = compile_vocabulary({"indicator_column": {"target": ["年度预期值", "re:目标值\\d"]}})
    assert match_field("年度预期值（A）", "indicator_column", vocab) == "target"
    assert match_field("目标值2", "indicator_column", vocab) == "target"
    assert match_field("年度预期值", "indicator_column") is None


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (
            "1.法律咨询办结率不低于90%；2.合同审核及时率≥95%",
            ["法律咨询办结率不低于90%", "合同审核及时率≥95%"],
        ),
        ("（1）培训人数500人次以上（2）群众满意度≥90%", ["培训人数500人次以上", "群众满意度≥90%"]),
        ("①开展讲座12场②覆盖家长1.5万人次", ["开展讲座12场", "覆盖家长1.5万人次"]),
        ("培训人数达到1.5万人次；满意度98%。", ["培训人数达到1.5万人次", "满意度98%"]),
        ("合同审核及时率达到100%。", ["合同审核及时率达到100%"]),
        ("", []),
    ],
)
def test_split_items(text: str, items: list[str]) -> None:
    assert split_items(text) == items


@pytest.mark.parametrize(
    ("item", "name", "value_text", "value", "unit", "operator"),
    [
        ("合同审核及时率≥95%，符合合同3个工作日内回复审核意见", "合同审核及时率", "≥95%", 95, "%", "≥"),
        ("合同审核及时率达到100%", "合同审核及时率", "100%", 100, "%", None),
        ("培训人数500人次以上", "培训人数", "500人次以上", 500, "人次", "≥"),
        ("举办培训班不少于3期", "举办培训班", "不少于3期", 3, "期", "≥"),
        ("培训人数达到1,200人次，超额完成", "培训人数", "1,200人次", 1200, "人次", None),
        ("2022年12月底前完成验收", "2022年12月底前完成验收", "2022年12月底前完成验收", None, None, None),
        ("服务质量明显提升，群众好评", "服务质量明显提升", "服务质量明显提升，群众好评", None, None, None),
    ],
)
def test_parse_phrase(
    item: str, name: str, value_text: str, value: float | None, unit: str | None, operator: str | None
) -> None:
    phrase = parse_phrase(item)
    assert phrase.name == name
    assert phrase.value is not None
    assert (phrase.value.text, phrase.value.value, phrase.value.unit) == (value_text, value, unit)
    assert phrase.operator == operator


def test_pairing_by_name_then_by_position() -> None:
    targets = [parse_phrase(t) for t in ("法律咨询服务不少于1000人次", "维权案件办结率≥95%", "宣传活动≥10场")]
    actuals = [parse_phrase(a) for a in ("维权案件办结率达到98%", "全年提供法律咨询服务1260人次", "开展12次")]
    pairs = pair_phrases(targets, actuals)
    got = [(t.name if t else None, a.text if a else None, s > 0) for t, a, s in pairs]
    assert got == [
        ("法律咨询服务", "全年提供法律咨询服务1260人次", True),
        ("维权案件办结率", "维权案件办结率达到98%", True),
        ("宣传活动", "开展12次", False),  # no name in common: paired by position, flagged by score -1
    ]
    assert pair_phrases(targets[:1], []) == [(targets[0], None, 0.0)]
    assert [p[1] for p in pair_phrases([], actuals[:1])] == [actuals[0]]


@pytest.mark.parametrize(
    ("text", "code", "name"),
    [
        (
            "51030022Y000000325498-市妇联幸福家庭再提升行动",
            "51030022Y000000325498",
            "市妇联幸福家庭再提升行动",
        ),
        ("[502]自贡市妇女联合会部门", "502", "自贡市妇女联合会部门"),
        ("业务工作经费", None, "业务工作经费"),
        ("2022年妇女儿童维权项目", None, "2022年妇女儿童维权项目"),
        ("", None, None),
    ],
)
def test_split_code(text: str, code: str | None, name: str | None) -> None:
    assert split_code(text) == (code, name)


def test_year_from_titles() -> None:
    assert year_in(["部门预算项目支出绩效自评表（2022年度）"]) == 2022
    assert year_in(["与2021年相比", "（2022年度）"]) == 2022
    assert year_in(["附件4"]) is None


def test_totals_go_by_column_then_by_meaning() -> None:
    cell = Cell(row=0, col=0)
    columns = {"weight": 8, "score": 9}
    assert assign_totals([(8, 100.0, cell), (9, 98.0, cell)], columns, "合计") == (100.0, 98.0)
    assert assign_totals([(3, 100.0, cell), (4, 98.0, cell)], columns, "合计") == (100.0, 98.0)
    assert assign_totals([(7, 99.98, cell)], {"weight": 6, "score": 7}, "总分") == (None, 99.98)
    assert assign_totals([(2, 90.0, cell)], {}, "合计", [90.0]) == (90.0, None)
    assert assign_totals([(2, 88.0, cell)], {}, "合计", [90.0]) == (None, 88.0)


def test_collector_merges_by_code_and_name_but_not_across_codes() -> None:
    collector = ProjectCollector()
    first = Project(
        name="市妇联妇儿工委", code="A1", indicators=[Indicator(name="x", target=Value(text="1"))]
    )
    collector.add(first)
    collector.add(Project(name="市妇联妇儿工委", indicators=[Indicator(name="y")]))
    collector.add(Project(name="市妇联妇儿工委", code="B2"))
    collector.add(
        Project(
            code="A1",
            department="自贡市妇女联合会部门",
            indicators=[Indicator(name="x", target=Value(text="1"))],
        )
    )
    assert [p.code for p in collector.projects] == ["A1", "B2"]
    assert [i.name for i in first.indicators] == ["x", "y"]
    assert first.department == "自贡市妇女联合会部门"


def test_document_department_drops_the_budget_system_suffix() -> None:
    assert document_department([Project(department="自贡市妇女联合会部门")] * 2) == "自贡市妇女联合会"
    assert document_department([Project(department="广州市番禺区妇女联合会")]) == "广州市番禺区妇女联合会"
    assert document_department([]) is None


def test_unrelated_and_empty_tables_yield_nothing() -> None:
    empty = Table(index=1)
    prose = Table(
        index=2,
        n_rows=2,
        n_cols=2,
        cells=[Cell(row=r, col=c, text=f"文字{r}{c}") for r in range(2) for c in range(2)],
    )
    assert classify_table(empty) == "other"
    assert classify_table(prose) == "other"
    records = records_from_tables(document([empty, prose]))
    assert records.projects == [] and records.score_tables == [] and records.year is None


def test_large_table_is_read_in_bounded_time() -> None:
    header = ["一级指标", "二级指标", "三级指标", "指标值", "完成值", "权重", "得分"]
    rows = [header] + [["产出指标", "数量指标", f"指标{i}", "≥1", "2", "1", "1"] for i in range(2000)]
    cells = [Cell(row=r, col=c, text=t) for r, row in enumerate(rows) for c, t in enumerate(row)]
    table = Table(index=1, n_rows=len(rows), n_cols=len(header), cells=cells)
    records = records_from_tables(document([table]))
    assert len(records.projects[0].indicators) == 2000


def test_a_same_width_table_after_a_form_is_not_taken_for_its_continuation() -> None:
    header = ["一级指标", "二级指标", "三级指标", "指标值", "完成值", "权重", "得分"]
    rows = [header, ["产出指标", "数量指标", "培训人次", "≥100", "120", "50", "50"]]
    form = Table(
        index=1,
        n_rows=2,
        n_cols=7,
        cells=[Cell(row=r, col=c, text=t) for r, row in enumerate(rows) for c, t in enumerate(row)],
    )
    notes = Table(
        index=2,
        n_rows=1,
        n_cols=7,
        cells=[
            Cell(row=0, col=c, text=t) for c, t in enumerate(["联系人", "甲", "乙", "丙", "丁", "戊", "己"])
        ],
    )
    more = Table(
        index=3,
        n_rows=1,
        n_cols=7,
        cells=[
            Cell(row=0, col=c, text=t) for c, t in enumerate(["", "", "满意度", "≥90%", "95%", "50", "48"])
        ],
    )
    projects = records_from_tables(document([form, notes])).projects
    assert [i.name for i in projects[0].indicators] == ["培训人次"]
    projects = records_from_tables(document([form, more])).projects
    assert [(i.level1, i.name, i.score) for i in projects[0].indicators] == [
        ("产出指标", "培训人次", 50),
        ("产出指标", "满意度", 48),
    ]
