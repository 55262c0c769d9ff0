"""Narrative rules: budget sentences and indicator facts in prose, department and year of a report."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from conftest import GOLD, SHARED, require
from zhibiao.model import Cell, Document, Page, SourceInfo, Table, TextItem
from zhibiao.records import RecordSet
from zhibiao.records.document_info import department_and_year, year_in_title
from zhibiao.records.narrative import (
    assign_sections,
    match_budget,
    match_facts,
    parse_heading,
    project_title,
    prose_lines,
    records_from_text,
    split_sentences,
)
from zhibiao.result import Budget, Project

SEEDS = SHARED / "seeds"


def doc_from_lines(lines: list[str], path: str = "test.txt", style: dict[int, str] | None = None) -> Document:
    """A Document with one text item per non-blank line (a stand-in for the TXT reader)."""
    kept = [line.strip() for line in lines if line.strip()]
    items = [
        TextItem(text=text, order=i, reader="txt", style=(style or {}).get(i)) for i, text in enumerate(kept)
    ]
    return Document(source=SourceInfo(path=path, format="txt"), pages=[Page(number=1, items=items)])


def read_text_document(path: Path) -> Document:
    """The seed through the real TXT reader when it exists, else one item per line."""
    data = require(path).read_bytes()
    try:
        reader = importlib.import_module("zhibiao.readers.txt")
    except ImportError:
        return doc_from_lines(data.decode("utf-8").splitlines(), str(path))
    return reader.read(data, path)


def seed(prefix: str) -> Path:
    found = sorted(require(SEEDS).glob(f"{prefix}_*.txt"))
    return require(found[0] if found else SEEDS / f"{prefix}_missing.txt")


def extract(doc: Document, known: RecordSet | None = None) -> RecordSet:
    return records_from_text(doc, known or RecordSet())


# ---------------------------------------------------------------- seed 001 against its gold


@pytest.fixture(scope="module")
def seed_001() -> tuple[Document, RecordSet]:
    doc = read_text_document(seed("001"))
    return doc, extract(doc)


def test_001_matches_gold_projects_and_budgets(seed_001: tuple[Document, RecordSet]) -> None:
    _, records = seed_001
    gold = json.loads(require(GOLD / "001.json").read_text(encoding="utf-8"))
    assert records.department == gold["department"]
    assert records.year == gold["year"]
    assert records.department_budget == Budget(
        unit="万元", initial=675.58, executed=674.99, execution_rate=99.9
    )
    assert [p.name for p in records.projects] == [p["project_name"] for p in gold["projects"]]
    for project, expected in zip(records.projects, gold["projects"], strict=True):
        assert project.family == "narrative"
        assert project.budget.unit == "万元"
        assert project.budget.initial == float(expected["budget"]["annual"])
        assert project.budget.executed == float(expected["budget"]["executed"])
        assert project.budget.execution_rate == float(expected["budget"]["execution_rate"].rstrip("%"))


def test_001_matches_gold_facts_exactly(seed_001: tuple[Document, RecordSet]) -> None:
    _, records = seed_001
    gold = json.loads(require(GOLD / "001.json").read_text(encoding="utf-8"))
    expected = [
        (p["project_name"], i["name"], i["actual"]) for p in gold["projects"] for i in p["indicators"]
    ]
    found = [(f.project, f.name, f.actual.text if f.actual else None) for f in records.narrative_indicators]
    assert found == expected


def test_001_fact_values_sentences_and_provenance(seed_001: tuple[Document, RecordSet]) -> None:
    doc, records = seed_001
    text = doc.text()
    facts = {f.name: f for f in records.narrative_indicators}
    first = facts["信访案件办结率"]
    assert (first.actual.value, first.actual.unit) == (100.0, "%")
    assert first.sentence == "1.信访案件办结率100%，完成年度绩效指标。"
    area = facts["区级妇女儿童活动场所建筑面积"]
    assert (area.actual.value, area.actual.unit) == (2340.0, "平方米")
    distance = facts["区级妇女儿童活动中心服务距离"]
    assert (distance.actual.text, distance.actual.value, distance.actual.unit) == ("10公里以内", 10.0, "公里")
    for fact in records.narrative_indicators:
        assert fact.provenance is not None and fact.provenance.char_span is not None
        start, end = fact.provenance.char_span
        assert text[start:end] == f"{fact.name}{fact.actual.text}"
        assert fact.provenance.reader and fact.provenance.page == 1
        assert 0 < fact.confidence < 1


def test_001_project_provenance_points_at_the_budget_sentence(seed_001: tuple[Document, RecordSet]) -> None:
    doc, records = seed_001
    span = records.projects[1].provenance.char_span
    assert span is not None
    assert (
        doc.text()[span[0] : span[1]]
        == "支出完成情况：年度支出预算数8.24万元，预算完成数8.24万元，执行率100%。"
    )


# ---------------------------------------------------------------- no false facts from ordinary prose


def test_003_decision_prose_gives_no_narrative_records() -> None:
    """Seed 003 (a 决算 explanation: "支出决算为218.79万元，完成预算100%" …): no narrative facts in gold."""
    doc = read_text_document(seed("003"))
    records = extract(doc)
    assert records.narrative_indicators == []
    assert records.projects == []
    assert records.department_budget is None
    assert (records.department, records.year) == ("自贡市妇女联合会", 2022)


def test_000_form_text_gives_department_year_and_no_facts() -> None:
    records = extract(read_text_document(seed("000")))
    assert (records.department, records.year) == ("广州市番禺区妇女联合会", 2021)
    assert records.narrative_indicators == []


def test_unmarked_prose_with_numbers_gives_nothing() -> None:
    doc = doc_from_lines(
        [
            "（三）一般公共预算财政拨款支出决算具体情况",
            "1.一般公共服务（类）群众团体事务（款）行政运行（项）: 支出决算为218.79万元，完成预算100%。",
            "四是发挥舒心驿站作用，接待群众来信来访来电378宗，结案率100%。",
            "（1）妇联活动项目",
            "目标实际完成情况及主要成效：今年累计举办60场讲座，服务5,756人次。",
        ]
    )
    records = extract(doc)
    assert records.narrative_indicators == [] and records.projects == [] and records.department_budget is None


def test_picture_text_is_skipped() -> None:
    doc = doc_from_lines(
        ["（1）示范项目", "指标完成情况：1.培训人数200人，完成年度绩效指标。"], style={1: "picture-text"}
    )
    assert extract(doc).narrative_indicators == []


@pytest.mark.parametrize(
    "line",
    [
        "指标完成情况：" + "为" * 50_000 + "1个，完成年度绩效指标。",
        "指标完成情况：" + "1，" * 20_000 + "完成年度绩效指标",
        "指标完成情况：a" + "不低于" * 20_000 + "5%",
        "年度预算数1万元" * 10_000,
        "（1）" * 20_000,
    ],
)
def test_hostile_long_lines_finish_and_give_nothing(line: str) -> None:
    """Long runs of connectors, numbers or labels stay linear and yield no facts."""
    assert extract(doc_from_lines([line])).narrative_indicators == []


# ---------------------------------------------------------------- tables already gave projects


def test_known_table_project_is_not_duplicated() -> None:
    doc = doc_from_lines(
        [
            "（二）部门整体收支情况",
            "全年预算数 675.58 万元，执行数 674.99 万元，完成预算的 99.9%。",
            "（1）妇联活动及组织建设阵地建设专项经费项目",
            "支出完成情况：年度支出预算数 91.91 万元，预算完成数 91.91 万元，执行率 100%。",
            "指标完成情况：1.信访案件办结率100%，完成年度绩效指标。",
            "（2）表格里没有的项目",
            "支出完成情况：年度支出预算数 8.24 万元，预算完成数 8.24 万元，执行率 100%。",
        ]
    )
    known_project = Project(name="妇联活动及组织建设阵地建设专项经费项目", family="self_eval")
    known = RecordSet(projects=[known_project], department="某部门", year=2021)
    records = extract(doc, known)
    assert records.projects == [known_project]
    assert known_project.budget == Budget()
    assert [(f.project, f.name) for f in records.narrative_indicators] == [
        (known_project.name, "信访案件办结率")
    ]
    assert (records.department, records.year) == ("某部门", 2021)
    assert records.department_budget is not None and records.department_budget.initial == 675.58


def test_sections_and_numbered_lines() -> None:
    doc = doc_from_lines(
        [
            "（一）部门整体收支情况",
            "全年预算数675.58万元，执行数674.99万元，完成预算的99.9%。",
            "（二）各重点工作任务绩效目标完成情况分析",
            "（1）家庭教育指导服务项目",
            "（三）绩效指标完成情况",
            "1.家庭教育讲座42场",
            "2.服务对象满意度：年度指标值≥95%，实际完成值98%",
            "本项目总体完成较好，培训学员300人。",
            "3.不在指标段落里的编号行100人",
            "（三）主要工作成效",
            "新增示范点3个，完成年度绩效指标。",
        ]
    )
    records = extract(doc)
    found = [(f.project, f.name, f.actual.text if f.actual else None) for f in records.narrative_indicators]
    assert found == [
        ("家庭教育指导服务项目", "家庭教育讲座", "42场"),
        ("家庭教育指导服务项目", "服务对象满意度", "98%"),
        (None, "新增示范点", "3个"),
    ]
    satisfaction = records.narrative_indicators[1]
    assert satisfaction.target is not None and satisfaction.target.text == "≥95%"
    assert satisfaction.target.value == 95.0
    assert records.narrative_indicators[2].confidence < records.narrative_indicators[0].confidence
    assert records.department_budget is not None and records.department_budget.executed == 674.99
    assert [p.name for p in records.projects] == ["家庭教育指导服务项目"]


def ocr_doc(lines: list[tuple[str, tuple[float, float, float, float]]]) -> Document:
    """A page of OCR lines with boxes (points), one item per line as an OCR engine may return them."""
    items = [
        TextItem(text=text, order=i, page=3, reader="ocr", bbox=box) for i, (text, box) in enumerate(lines)
    ]
    return Document(source=SourceInfo(path="scan.pdf", format="pdf"), pages=[Page(number=3, items=items)])


def test_ocr_lines_cut_from_one_paragraph_are_joined() -> None:
    doc = ocr_doc(
        [
            ("（2）妇儿工委及妇女儿童中心工程项目", (86, 632, 292, 647)),
            ("支出完成情况：年度支出预算数8.24万元，预算完成数8.24万元，执行率", (104, 656, 520, 670)),
            ("100%。", (79, 676, 120, 694)),
            ("指标完成情况:1.信访案件办结率100%,完成年度绩效指标。2.“三八”节", (102, 700, 521, 716)),
            ("系列活动1场，完成年度绩效指标。", (81, 722, 264, 736)),
            ("3.区级妇女儿童活动中心服务距离", (81, 742, 300, 756)),
            ("10公里以内，完成年度绩效指标。", (81, 800, 300, 814)),
        ]
    )
    records = extract(doc)
    assert records.projects[0].budget == Budget(
        unit="万元", initial=8.24, executed=8.24, execution_rate=100.0
    )
    facts = {f.name: f for f in records.narrative_indicators}
    assert list(facts) == ["信访案件办结率", "“三八”节系列活动"]
    joined = facts["“三八”节系列活动"]
    assert joined.sentence == "2.“三八”节系列活动1场，完成年度绩效指标。"
    start, end = joined.provenance.char_span
    assert doc.text()[start:end] == "“三八”节\n系列活动1场"
    assert joined.provenance.page == 3 and joined.provenance.bbox == (81, 700, 521, 736)


def test_page_numbers_and_field_labels_are_not_continuations() -> None:
    items = [
        TextItem(text="支出完成情况：年度支出预算数8.24万元", order=0, page=1, bbox=(80, 700, 520, 714)),
        TextItem(text="— 22 —", order=1, page=1, bbox=(280, 800, 320, 814)),
        TextItem(text="项目负责人：宋燕萍", order=2, page=2, bbox=(80, 60, 200, 74)),
    ]
    doc = Document(
        source=SourceInfo(path="x.pdf"),
        pages=[Page(number=1, items=items[:2]), Page(number=2, items=items[2:])],
    )
    assert [len(line.items) for line in prose_lines(doc)] == [1, 1, 1]
    across = [items[0], items[2].model_copy(update={"text": "，执行率100%。"})]
    doc = Document(
        source=SourceInfo(path="x.pdf"),
        pages=[Page(number=1, items=across[:1]), Page(number=2, items=across[1:])],
    )
    assert [len(line.items) for line in prose_lines(doc)] == [2]


def test_repeated_text_yields_each_fact_once() -> None:
    lines = ["（1）示范项目", "指标完成情况：1.培训人数200人，完成年度绩效指标。"]
    records = extract(doc_from_lines(lines * 3))
    assert len(records.narrative_indicators) == 1 and len(records.projects) == 1


# ---------------------------------------------------------------- pure pieces


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "支出完成情况：年度支出预算数 91.91 万元，预算完成数 91.91 万元，执行率 100%。",
            Budget(unit="万元", initial=91.91, executed=91.91, execution_rate=100.0),
        ),
        (
            "年度支出预算数8.24万元，预算完成数8.24万元，执行率100%",
            Budget(unit="万元", initial=8.24, executed=8.24, execution_rate=100.0),
        ),
        (
            "全年预算数 675.58 万元，执行数 674.99 万元，完成预算的 99.9%。",
            Budget(unit="万元", initial=675.58, executed=674.99, execution_rate=99.9),
        ),
        (
            "年初预算数为1,200,000元，调整后预算数1,150,000元，预算执行数1,100,000元，预算执行率为95.65%。",
            Budget(
                unit="元", initial=1200000.0, adjusted=1150000.0, executed=1100000.0, execution_rate=95.65
            ),
        ),
        ("项目预算数50万元，执行率为 98.5 %", Budget(unit="万元", initial=50.0, execution_rate=98.5)),
        ("支出决算为218.79万元，完成预算100%。", None),
        ("一般公共预算财政拨款支出 674.99 万元，政府性基金预算财政拨款支出 0 万元。", None),
        ("年度预算数（万元） 年初预算 调整后预算数 预算执行数 预算执行率", None),
        ("执行率100%。", None),
    ],
)
def test_match_budget(sentence: str, expected: Budget | None) -> None:
    found = match_budget(sentence)
    assert (found.to_budget() if found else None) == expected


@pytest.mark.parametrize(
    ("sentence", "name", "actual", "target"),
    [
        ("1.信访案件办结率100%，完成年度绩效指标。", "信访案件办结率", "100%", None),
        ("2.“三八”节系列活动1场，完成年度绩效指标。", "“三八”节系列活动", "1场", None),
        (
            "1.筹备编制妇女儿童发展规划（2021-2030年）阶段工作完成率100%，完成年度绩效指标。",
            "筹备编制妇女儿童发展规划（2021-2030年）阶段工作完成率",
            "100%",
            None,
        ),
        (
            "2.区级妇女儿童活动场所建筑面积2,340平方米，完成年度绩效指标。",
            "区级妇女儿童活动场所建筑面积",
            "2,340平方米",
            None,
        ),
        (
            "3.区级妇女儿童活动中心服务距离10公里以内，完成年度绩效指标。",
            "区级妇女儿童活动中心服务距离",
            "10公里以内",
            None,
        ),
        ("服务对象满意度达95%以上", "服务对象满意度", "95%以上", None),
        ("群众满意度不低于90%", "群众满意度", "不低于90%", None),
        ("（2）服务对象满意度：年度指标值≥95%，实际完成值98%。", "服务对象满意度", "98%", "≥95%"),
        ("培训合格率98%，目标为不低于95%。", "培训合格率", "98%", "不低于95%"),
        ("家长满意度目标值90%，完成96%。", "家长满意度", "96%", "90%"),
    ],
)
def test_match_facts(sentence: str, name: str, actual: str, target: str | None) -> None:
    facts = match_facts(sentence)
    assert len(facts) == 1
    fact = facts[0]
    assert fact.name.text == name and sentence[fact.name.start : fact.name.end] == name
    assert fact.actual is not None and fact.actual.text == actual
    assert sentence[fact.actual.start : fact.actual.end] == actual
    assert (fact.target.text if fact.target else None) == target


@pytest.mark.parametrize(
    "sentence",
    [
        "完成年度绩效指标。",
        "完成12部宣传片，完成年度绩效指标。",
        "如期实现预期总体目标。",
        "100%，完成年度绩效指标。",
    ],
)
def test_match_facts_refuses_non_facts(sentence: str) -> None:
    assert match_facts(sentence) == []


def test_split_sentences_keeps_offsets() -> None:
    text = "指标完成情况：1.信访案件办结率100%，完成年度绩效指标。2.“三八”节系列活动1场，完成年度绩效指标。"
    sentences = split_sentences(text[7:], 100)
    assert [s.text for s in sentences] == [
        "1.信访案件办结率100%，完成年度绩效指标。",
        "2.“三八”节系列活动1场，完成年度绩效指标。",
    ]
    padded = " " * 100 + text[7:]
    assert all(padded[s.start : s.end] == s.text for s in sentences)
    assert [s.text for s in split_sentences("1.培训100人 2.满意度95%", 0)] == ["1.培训100人", "2.满意度95%"]
    assert [s.text for s in split_sentences("服务1.5万人次，面积2,340平方米。", 0)] == [
        "服务1.5万人次，面积2,340平方米。"
    ]


@pytest.mark.parametrize(
    ("line", "level", "project"),
    [
        ("（1）妇联活动及组织建设阵地建设专项经费项目", 4, "妇联活动及组织建设阵地建设专项经费项目"),
        ("(一) 部门职能", 2, None),
        ("二、综合评价分析", 1, None),
        ("1.人员类项目绩效分析", 3, None),
        ("（二）各重点工作任务绩效目标完成情况分析", 2, None),
    ],
)
def test_parse_heading_and_project_title(line: str, level: int, project: str | None) -> None:
    heading = parse_heading(line)
    assert heading is not None and heading.level == level
    assert project_title(heading) == project


@pytest.mark.parametrize(
    "line",
    [
        "1.家庭教育讲座42场",
        "全年预算数 675.58 万元，执行数 674.99 万元。",
        "指标完成情况：1.x",
        "普通的一行文字",
    ],
)
def test_not_headings(line: str) -> None:
    assert parse_heading(line) is None


def test_assign_sections_closes_a_project_at_an_outer_heading() -> None:
    doc = doc_from_lines(
        ["（二）分析", "（1）甲项目", "正文", "（2）乙项目", "正文", "（三）主要工作成效", "正文"]
    )
    projects = [ctx.project for ctx in assign_sections(prose_lines(doc))]
    assert projects == [None, "甲项目", "甲项目", "乙项目", "乙项目", None, None]


# ---------------------------------------------------------------- department and year


def test_department_and_year_from_titles() -> None:
    cases = {
        ("广州市荔湾区妇女联合会 2022 年部门整体 支出绩效自评报告", "一、基本情况"): (
            "广州市荔湾区妇女联合会",
            2022,
        ),
        ("自贡市妇女联合会", "2022年度单位决算编制的说明"): ("自贡市妇女联合会", 2022),
        ("附件4", "项目支出绩效自评表", "（2021年度）", "主管部门 某区妇女联合会 实施单位 某区妇女联合会"): (
            "某区妇女联合会",
            2021,
        ),
        (" 自贡市妇女联合会", "关于2022年度部门整体支出绩效自评报告"): ("自贡市妇女联合会", 2022),
        ("一、基本情况", "2022年12月，我会完成了妇女儿童发展规划（2021-2030年）编制。"): (None, None),
    }
    for lines, expected in cases.items():
        assert department_and_year(doc_from_lines(list(lines))) == expected, lines


def test_year_marker_and_department_from_a_table_only_document() -> None:
    cells = [
        Cell(row=0, col=0, col_span=4, text="部门预算项目支出绩效自评表（2022年度）"),
        Cell(row=1, col=0, text="主管部门"),
        Cell(row=1, col=1, col_span=2, text="自贡市妇女联合会部门"),
        Cell(row=1, col=3, text="实施单位"),
    ]
    table = Table(index=1, n_rows=2, n_cols=4, cells=cells)
    doc = Document(source=SourceInfo(path="t.xlsx"), tables=[table])
    assert department_and_year(doc) == ("自贡市妇女联合会", 2022)


@pytest.mark.parametrize(
    ("line", "year"),
    [
        ("广州市荔湾区妇女联合会 2022 年部门整体 支出绩效自评报告", 2022),
        ("（2021年度）", 2021),
        ("2022年12月", None),
        ("妇女儿童发展规划（2021-2030年）", None),
        ("1999年度报告", None),
    ],
)
def test_year_in_title(line: str, year: int | None) -> None:
    assert year_in_title(line) == year


# ---------------------------------------------------------------- the bundled sample


def test_bundled_sample_narrative() -> None:
    sample = Path(__file__).resolve().parents[1] / "extraction" / "samples" / "sample_narrative.txt"
    records = extract(read_text_document(sample))
    assert [p.name for p in records.projects] == ["家庭教育指导服务项目", "妇女儿童维权服务项目"]
    assert len(records.narrative_indicators) == 4
    assert records.year == 2023
