"""TXT reader: tab dumps (merges rebuilt), layout dumps (forms rebuilt), prose, picture text."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEV, GOLD, require
from zhibiao.errors import ReaderError
from zhibiao.model import Document, Table
from zhibiao.readers.txt import (
    CAPTION,
    MAX_COLUMNS,
    PICTURE_TEXT,
    ProseRun,
    TabRun,
    align_values,
    classify_line,
    parse_tab_block,
    read,
    scan_segments,
    wrapped_groups,
)
from zhibiao.tables.html import table_from_html

SEED_003 = "003_4840a7d78a699b0b"
SEED_000 = "000_c9021f7b19f56ffc"
SEED_001 = "001_def97523c2bc9572"


def read_text(text: str, encoding: str = "utf-8") -> Document:
    return read(text.encode(encoding), Path("sample.txt"))


def spans(table: Table) -> list[tuple[int, int, int, int]]:
    return sorted((c.row, c.col, c.row_span, c.col_span) for c in table.cells)


def rows_of(*rows: str) -> list[str]:
    """Tab rows separated by blank lines, as an extractor prints them."""
    lines: list[str] = []
    for row in rows:
        lines.extend([*row.split("\n"), ""])
    return lines


# --- parse_tab_block: pure, hand-made inputs ------------------------------------------------


def test_merges_rebuilt_from_empty_cells() -> None:
    table = parse_tab_block(
        rows_of(
            "\t\t项目名称\t\t\t\t示范项目",
            "\t\t指标\t\t一级指标\t\t三级指标\t\t指标值\t\t\t\t得分",
            "\t\t\t\t产出指标\t\t培训人数\t\t100\t\t\t\t10",
            "\t\t\t\t\t\t满意度\t\t95%\t\t\t\t10",
            "\t\t合计\t\t\t\t\t\t\t\t\t\t20",
        )
    )
    assert table.text_rows() == [
        ["项目名称", "项目名称", "示范项目", "示范项目", "示范项目", "示范项目"],
        ["指标", "一级指标", "三级指标", "指标值", "指标值", "得分"],
        ["指标", "产出指标", "培训人数", "100", "100", "10"],
        ["指标", "产出指标", "满意度", "95%", "95%", "10"],
        ["合计", "合计", "合计", "合计", "合计", "20"],
    ]
    assert (0, 0, 1, 2) in spans(table)  # label over the first row's empty cell
    assert (0, 2, 1, 4) in spans(table)  # label-value row: the value stretches to the edge
    assert (1, 0, 3, 1) in spans(table)  # leading empties continue the cell above
    assert (2, 1, 2, 1) in spans(table)
    assert (1, 3, 1, 2) in spans(table)  # merged across the same boundary as the row above
    assert (4, 0, 1, 5) in spans(table)  # total row: label spans the empties before the numbers


def test_empty_cell_under_its_own_header_column_stays_a_cell() -> None:
    table = parse_tab_block(rows_of("\t\t名称\t\t单位\t\t值", "\t\tA\t\t\t\t5"))
    assert table.text_rows() == [["名称", "单位", "值"], ["A", "", "5"]]
    assert len(table.cells) == 6


def test_multi_line_cell_and_cells_continuing_on_a_later_line() -> None:
    lines = ["\t\t目标\t\t完成情况", "", "\t\t1.第一项", "2.第二项", "\t\t已完成", ""]
    table = parse_tab_block(lines, first_line=10)
    assert table.text_rows() == [["目标", "完成情况"], ["1.第一项\n2.第二项", "已完成"]]
    sources = {c.text: c.source for c in table.cells}
    assert sources["1.第一项\n2.第二项"] == "line 12"
    assert sources["已完成"] == "line 14"


def test_omitted_trailing_cells_note_spans_block_only_when_the_block_closes() -> None:
    table = parse_tab_block(
        rows_of(
            "\t\t类别\t\t预算\t\t执行\t\t说明",
            "\t\t总额\t\t10\t\t9\t\t执行率低于90%需说明原因",
            "\t\t其中\t\t5\t\t5",
            "\t\t指标\t\t目标\t\t完成\t\t原因",
            "\t\t培训\t\t1\t\t0\t\t疫情影响",
            "\t\t宣传\t\t2\t\t2",
            "\t\t讲座\t\t3\t\t3",
        )
    )
    rows = table.text_rows()
    assert rows[2] == ["其中", "5", "5", "执行率低于90%需说明原因"]
    assert (1, 3, 2, 1) in spans(table)
    assert rows[5] == ["宣传", "2", "2", ""]
    assert rows[6] == ["讲座", "3", "3", ""]
    assert (4, 3, 1, 1) in spans(table)


def test_trailing_omissions_stretch_the_last_cell_unless_the_column_is_its_own() -> None:
    table = parse_tab_block(
        rows_of(
            "\t\t主管部门\t\t部门A\t\t\t\t实施单位\t\t单位B",
            "\t\t基本情况\t\t目标\t\t\t\t完成情况",
            "\t\t编号\t\t名称\t\t数量\t\t单位\t\t金额\t\t备注",
            "\t\t1\t\t甲\t\t2\t\t个\t\t5",
        )
    )
    rows = table.text_rows()
    assert rows[0] == ["主管部门", "部门A", "部门A", "实施单位", "单位B", "单位B"]
    assert rows[1] == ["基本情况", "目标", "目标", "完成情况", "完成情况", "完成情况"]
    assert rows[3] == ["1", "甲", "2", "个", "5", ""]


def test_short_label_above_omitted_cells_does_not_continue_down() -> None:
    table = parse_tab_block(
        rows_of(
            "\t\t主管部门\t\t部门A\t\t实施单位\t\t单位B",
            "\t\t基本情况\t\t目标\t\t完成情况",
            "\t\t编号\t\t名称\t\t数量\t\t单位",
        )
    )
    assert table.text_rows()[1] == ["基本情况", "目标", "完成情况", ""]


def test_tab_block_with_no_rows_is_an_empty_table() -> None:
    table = parse_tab_block(["", "   ", ""])
    assert (table.n_rows, table.n_cols, table.cells) == (0, 0, [])


# --- segmentation ---------------------------------------------------------------------------


def test_scan_segments_space_led_lines_start_new_body_elements() -> None:
    segments = list(
        scan_segments(
            [
                "前言",
                "\t\tA\t\tB",
                "",
                "\t\tC\t\tD",
                " 项目名称 图片里的文字",
                " \t\t新表\t\t列二",
                "",
                "\t\tE\t\tF",
            ]
        )
    )
    kinds = [type(seg).__name__ for seg in segments]
    assert kinds == ["ProseRun", "TabRun", "ProseRun", "TabRun"]
    first, second = segments[1], segments[3]
    assert isinstance(first, TabRun) and isinstance(second, TabRun)
    assert [r.cells for r in first.rows] == [["A", "B"], ["C", "D"]]
    assert [r.cells for r in second.rows] == [["新表", "列二"], ["E", "F"]]
    prose = segments[2]
    assert isinstance(prose, ProseRun) and prose.lines == [(5, " 项目名称 图片里的文字")]


FORM = [
    "\t\t报表编号：0001",
    "",
    "\t\t项目支出绩效自评表（2022年度）",
    "",
    "\t\t项目名称\t\t\t\t社区服务",
    "",
    "\t\t指标\t\t目标\t\t完成",
    "",
    "\t\t培训人数\t\t100\t\t120",
    "",
    "\t\t负责人：张三\t\t\t\t财务：李四",
    "",
]


def test_tab_runs_split_into_titled_tables_and_repeats_share_a_fingerprint() -> None:
    doc = read_text("\n".join(["封面说明", *FORM, *FORM]))
    assert len(doc.tables) == 2
    first, second = doc.tables
    assert first.fingerprint() == second.fingerprint()
    assert first.title == "项目支出绩效自评表（2022年度）"
    assert first.source == "lines 6-10"
    assert first.text_rows() == [
        ["项目名称", "项目名称", "社区服务"],
        ["指标", "目标", "完成"],
        ["培训人数", "100", "120"],
    ]
    assert all(c.source and c.source.startswith("line ") for c in first.cells)
    captions = [it.text for it in doc.items() if it.style == CAPTION]
    assert captions[:3] == ["报表编号：0001", "项目支出绩效自评表（2022年度）", "负责人：张三  财务：李四"]
    orders = [el.order for el in doc.body()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert [t.index for t in doc.tables] == [1, 2]


def test_picture_text_after_a_table_is_marked_and_prose_is_not() -> None:
    table_rows = [
        "\t\t项目名称\t\t\t\t社区居民健康服务提升行动",
        "",
        "\t\t评价结论\t\t全年开展健康讲座二十场，服务居民三千人次，居民满意度明显提升。",
        "",
    ]
    picture = [" 项目名称 社区居民健康服务提升行动", "", "评价结", "", "论", "", "全年开展健康讲座二十场", ""]
    narrative = ["二、部门整体支出情况", "本年度部门收入合计五百万元，支出合计四百八十万元，结余为结转资金。"]
    doc = read_text("\n".join(["一、概况", *table_rows, *picture, "\t\t另一表\t\t值", "", *narrative]))
    styles = {it.text: it.style for it in doc.items()}
    assert styles["项目名称 社区居民健康服务提升行动"] == PICTURE_TEXT
    assert styles["评价结"] == PICTURE_TEXT and styles["论"] == PICTURE_TEXT
    assert styles["一、概况"] is None
    assert styles[narrative[1]] is None
    assert len(doc.tables) == 1  # picture text never becomes a table


def test_markers_are_stripped_from_prose_and_cells() -> None:
    doc = read_text("[bookmark: _Toc1]第一部分 概况[image: 图片1]\n\t\tA[bookmark: x]\t\tB\n\n\t\tC\t\tD\n")
    assert [it.text for it in doc.items()] == ["第一部分 概况"]
    assert doc.tables[0].text_rows()[0] == ["A", "B"]


# --- layout dumps ---------------------------------------------------------------------------


def test_classify_layout_lines() -> None:
    assert classify_line(1, "一级指标 二级指标 三级指标 目标值 完成值").kind == "header"
    data = classify_line(2, "其中：财政拨款 200.00 197.50")
    assert (data.kind, data.labels, data.values) == ("data", ["其中：财政拨款"], ["200.00", "197.50"])
    assert classify_line(3, "100% 95% 20 18").values == ["100%", "95%", "20", "18"]
    assert classify_line(4, "存在问题 疫情影响，活动推迟。").kind == "kv"
    assert classify_line(5, "服务居民人").kind == "frag"
    assert classify_line(6, "单位：万元").kind == "prose"
    assert classify_line(7, "本年度完成培训两期，参训人员满意。").kind == "prose"
    assert classify_line(8, "项目级次 一级 □  二级 □").tokens == ["项目级次", "一级 □  二级 □"]


def test_wrapped_groups_rejoin_fragments_as_wide_as_the_column() -> None:
    frags = [classify_line(i, text) for i, text in enumerate(["产出指标", "服务居民人", "次数"], 1)]
    assert wrapped_groups(frags, full_width=10) == [("产出指标", 1), ("服务居民人次数", 2)]
    assert wrapped_groups(frags, full_width=8) == [("产出指标", 1), ("服务居民人", 2), ("次数", 3)]


def test_align_values_anchors_percentages_under_rate_headers() -> None:
    headers = ["计划数", "支出数", "权重", "执行率", "得分"]
    assert align_values(["5", "98.50%", "4.9"], headers) == 2
    assert align_values(["200.00", "197.00"], headers) == 0
    assert align_values(["20"], ["目标值", "完成值", "分值", "得分", "说明"], to_right=True) == 3


LAYOUT_FORM = """
社区服务项目绩效自评表
单位：元

项目名称 社区服务项目 负责单位 某街道社区服务中心

经费
（元）
计划数 支出数 权重 执行率 得分

  全年合计

5 98.50% 4.9
         其中：财政拨款 200.00 197.00
               其他资金

指
标
一级指标 二级指标 三级指标 目标值 完成值 分值 得分 说明

产出指标
数量指标
服务居民人

次数
1000 1200 20 20

质量指标
居民满意度
90% 95% 20 18

效益指标
社会效益
邻里关系改
善
改善 改善 20 20

存在问题 部分活动因天气推迟。

合 计 58
说明：本表由系统导出。
"""


def test_layout_form_rebuilt_as_one_table() -> None:
    doc = read_text(LAYOUT_FORM)
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.title == "社区服务项目绩效自评表"
    assert table.reader == "txt" and table.confidence < 1.0
    before = [it.text for it in doc.items() if it.order < table.order]
    assert before == ["社区服务项目绩效自评表", "单位：元"]
    assert [it.text for it in doc.items() if it.order > table.order] == ["说明：本表由系统导出。"]
    columns = ["一级指标", "二级指标", "三级指标", "目标值", "完成值", "分值", "得分"]
    assert indicator_rows(table, "三级指标", columns) == [
        ["产出指标", "数量指标", "服务居民人次数", "1000", "1200", "20", "20"],
        ["产出指标", "质量指标", "居民满意度", "90%", "95%", "20", "18"],
        ["效益指标", "社会效益", "邻里关系改善", "改善", "改善", "20", "20"],
    ]
    budget = column_values(table, "计划数", ["计划数", "支出数", "权重", "执行率", "得分"])
    assert budget == {"计划数": "200.00", "支出数": "197.00", "权重": "5", "执行率": "98.50%", "得分": "4.9"}
    assert right_of(table, "项目名称") == "社区服务项目"
    assert right_of(table, "负责单位") == "某街道社区服务中心"
    total = next(r for r in table.text_rows() if "合 计" in r)
    header = header_row(table, "三级指标")
    assert total[header.index("得分")] == "58"


def test_prose_only_layout_text_has_no_tables() -> None:
    doc = read_text("一、基本情况\n\n全年预算数 675.58 万元，执行数 674.99 万元，完成预算的 99.9%。\n")
    assert doc.tables == []
    assert len(list(doc.items())) == 2


# --- helpers reading a table by header position (as table understanding does) --------------


def header_row(table: Table, label: str) -> list[str]:
    return next(r for r in table.text_rows() if label in r)


def indicator_rows(table: Table, key: str, columns: list[str]) -> list[list[str]]:
    """Rows under the header holding ``key`` whose ``key`` cell is a cell of that row."""
    rows = table.text_rows()
    grid = table.grid()
    h = rows.index(header_row(table, key))
    at = {name: rows[h].index(name) for name in columns}
    found = []
    for r in range(h + 1, table.n_rows):
        cell = grid[r][at[key]]
        values = [rows[r][at[name]] for name in columns]
        if cell is not None and cell.row == r and cell.col == at[key] and all(values[3:]):
            found.append(values)
    return found


def column_values(table: Table, key: str, columns: list[str]) -> dict[str, str]:
    """First non-empty value under each header column below the header holding ``key``."""
    rows = table.text_rows()
    h = rows.index(header_row(table, key))
    result = {}
    for name in columns:
        c = rows[h].index(name)
        result[name] = next(rows[r][c] for r in range(h + 1, table.n_rows) if rows[r][c])
    return result


def right_of(table: Table, label: str) -> str:
    for row in table.text_rows():
        if label in row:
            i = row.index(label)
            return next(x for x in row[i + 1 :] if x != label)
    raise AssertionError(label)


# --- seeds ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def doc_003() -> Document:
    path = require(DEV / f"{SEED_003}.txt")
    return read(path.read_bytes(), path)


def test_003_every_gold_table_has_an_identical_rebuilt_table(doc_003: Document) -> None:
    gold_dir = require(GOLD / "tables" / SEED_003)
    distinct = {t.fingerprint(): t for t in doc_003.tables}
    text_match = span_match = 0
    for k in range(1, 9):
        gold = table_from_html((gold_dir / f"table{k}.html").read_text(encoding="utf-8"))
        same = [t for t in distinct.values() if t.text_rows() == gold.text_rows()]
        text_match += bool(same)
        span_match += any(spans(t) == spans(gold) for t in same)
    assert (text_match, span_match) == (8, 8)


def test_003_tables_titles_repeats_and_picture_text(doc_003: Document) -> None:
    tables = doc_003.tables
    assert len(tables) == 59
    by_fp: dict[tuple, list[Table]] = {}
    for t in tables:
        by_fp.setdefault(t.fingerprint(), []).append(t)
    # the 8 gold tables + a revised copy of one form, a further form, a partial copy and a 2nd list
    assert len(by_fp) == 12
    assert max(len(v) for v in by_fp.values()) == 7  # each project form is dumped 7 times identically
    forms = [t for t in tables if t.text_rows()[0][0] == "项目名称"]
    assert {t.title for t in forms} == {"部门预算项目支出绩效自评表（2022年度）"}
    items = list(doc_003.items())
    assert not any("[bookmark:" in it.text or "[image:" in it.text for it in items)
    picture = [it for it in items if it.style == PICTURE_TEXT]
    assert len(picture) > 1000
    assert any(it.text == "项目名称 51030022Y000000325498-市妇联幸福家庭再提升行动" for it in picture)
    narrative = [it.text for it in items if it.style is None]
    assert narrative[:2] == ["自贡市妇女联合会", "2022年度单位决算编制的说明"]
    assert not any(it.text.startswith("项目名称 5103") for it in items if it.style is None)
    assert all(c.source and c.source.startswith("line ") for t in tables for c in t.cells)


def test_000_layout_form_gives_gold_indicators_and_budget() -> None:
    path = require(DEV / f"{SEED_000}.txt")
    gold = json.loads(require(GOLD / "000.json").read_text(encoding="utf-8"))["projects"][0]
    doc = read(path.read_bytes(), path)
    assert len(doc.tables) == 1
    table = doc.tables[0]
    before = [it.text for it in doc.items() if it.order < table.order]
    assert "（2021年度）" in before and "项目支出绩效自评表" in before
    columns = ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成指标值", "分值（权重）", "自评得分"]
    got = indicator_rows(table, "三级指标", columns)
    want = [
        [g["level1"], g["level2"], g["name"], g["target"], g["actual"], g["weight"], g["score"]]
        for g in gold["indicators"]
    ]
    assert got == want
    budget_cols = ["年度预算数", "年度预算执行数", "分值（权重）", "预算执行率", "得分"]
    budget = column_values(table, "年度预算数", budget_cols)
    b = gold["budget"]
    assert [budget[c] for c in budget_cols] == [
        b["annual"],
        b["executed"],
        b["weight"],
        b["execution_rate"],
        b["score"],
    ]
    assert right_of(table, "项目名称") == gold["project_name"]
    assert right_of(table, "主管部门") == gold["department"]
    assert right_of(table, "实施单位") == gold["implementing_unit"]
    total = next(r for r in table.text_rows() if "总 分" in r)
    assert total[header_row(table, "三级指标").index("自评得分")] == gold["total_score"]


def test_000_rebuilt_table_holds_every_gold_cell_text() -> None:
    path = require(DEV / f"{SEED_000}.txt")
    gold = table_from_html(require(GOLD / "tables" / SEED_000 / "table1.html").read_text(encoding="utf-8"))
    table = read(path.read_bytes(), path).tables[0]
    assert {c.text for c in gold.cells if c.text} == {c.text for c in table.cells if c.text}


def test_001_narrative_paragraphs_in_order_and_exact() -> None:
    path = require(DEV / f"{SEED_001}.txt")
    doc = read(path.read_bytes(), path)
    assert doc.tables == []
    items = list(doc.items())
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
    assert len(items) >= 20
    assert [it.text for it in items] == lines
    assert all(it.reader == "txt" and it.page == 1 for it in items)
    text = doc.text()
    span = text.index("信访案件办结率100%")
    assert text[span : span + len("信访案件办结率100%")] == "信访案件办结率100%"


def assert_well_formed(doc: Document) -> None:
    """Cells inside the grid, no slot covered twice, every slot covered, orders unique."""
    for table in doc.tables:
        covered: set[tuple[int, int]] = set()
        for cell in table.cells:
            assert cell.row_span >= 1 and cell.col_span >= 1
            assert cell.row + cell.row_span <= table.n_rows and cell.col + cell.col_span <= table.n_cols
            slots = {(cell.row + i, cell.col + j) for i in range(cell.row_span) for j in range(cell.col_span)}
            assert not slots & covered
            covered |= slots
        assert len(covered) == table.n_rows * table.n_cols
    orders = [el.order for el in doc.body()]
    assert len(set(orders)) == len(orders)


STRUCTURE = st.lists(
    st.sampled_from(
        [
            "\t\t",
            "\t",
            "\n",
            "\n\n",
            " ",
            "  ",
            "合计",
            "指标",
            "一级指标",
            "产出",
            "100%",
            "15",
            "□",
            "：",
            "。",
            "表",
        ]
    ),
    max_size=80,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STRUCTURE)
def test_any_structure_reads_into_well_formed_tables(text: str) -> None:
    assert_well_formed(read_text(text))


LAYOUT_LINES = [
    "一级指标 二级指标 三级指标 目标值 完成值 分值 得分",
    "计划数 支出数 权重 执行率 得分",
    "100% 95% 20 18",
    "5 98.50% 4.9",
    "其中：财政拨款 200.00 197.00",
    "  全年合计",
    "产出指标",
    "服务居民人",
    "次数",
    "存在问题 部分活动推迟。",
    "合 计 58",
    "本年度完成培训两期，参训人员满意",
    "（一）继续开展活动。",
    "项目名称 社区服务项目 负责单位 某中心",
    "",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LAYOUT_LINES), max_size=40))
def test_any_layout_line_order_reads_into_well_formed_tables(lines: list[str]) -> None:
    assert_well_formed(read_text("\n".join(lines)))


def test_seed_documents_are_well_formed(doc_003: Document) -> None:
    assert_well_formed(doc_003)
    for seed in (SEED_000, SEED_001):
        path = require(DEV / f"{seed}.txt")
        assert_well_formed(read(path.read_bytes(), path))


# --- encodings, bad input, size -------------------------------------------------------------


def test_gb18030_input_reads_like_utf8() -> None:
    text = "\n".join(["封面说明", *FORM, "结尾段落，含中文标点。"])
    utf8, gb = read_text(text), read_text(text, "gb18030")
    assert [t.text_rows() for t in gb.tables] == [t.text_rows() for t in utf8.tables]
    assert [it.text for it in gb.items()] == [it.text for it in utf8.items()]
    assert not gb.warnings


def test_crlf_line_ends_read_like_lf() -> None:
    text = "\n".join(["封面说明", *FORM, "结尾段落。"])
    lf, crlf = read_text(text), read_text(text.replace("\n", "\r\n"))
    assert [t.text_rows() for t in crlf.tables] == [t.text_rows() for t in lf.tables]
    assert [it.text for it in crlf.items()] == [it.text for it in lf.items()]


def test_gb18030_seed_reads_like_utf8() -> None:
    path = require(DEV / f"{SEED_000}.txt")
    text = path.read_text(encoding="utf-8")
    assert [t.text_rows() for t in read_text(text, "gb18030").tables] == [
        t.text_rows() for t in read_text(text).tables
    ]


def test_bad_input() -> None:
    with pytest.raises(ReaderError) as err:
        read(b"abc\x00def", Path("x.txt"))
    assert err.value.code == "corrupt"
    assert read(b"", Path("empty.txt")).warnings == ["the file holds no text"]
    garbled = read(b"\xff\xfe\xfa abc", Path("bad.txt"))
    assert any("undecodable" in w for w in garbled.warnings)
    too_wide = "\t\t" + "\t\tx" * (MAX_COLUMNS + 5)
    doc = read_text(f"{too_wide}\n\n\t\ta\t\tb\n\n\t\tc\t\td\n")
    assert len(doc.tables) == 1 and doc.tables[0].n_cols == 2


def test_block_spanning_note_over_many_rows_is_linear() -> None:
    header = "\t\t类别\t\t预算\t\t执行\t\t说明"
    body = ["\t\t行\t\t1\t\t1"] * 30_000
    lines = rows_of(header, "\t\t总额\t\t1\t\t1\t\t备注文字", *body, header)
    start = time.perf_counter()
    table = parse_tab_block(lines)
    assert time.perf_counter() - start < 3.0
    note = next(c for c in table.cells if c.text == "备注文字")
    assert note.row_span == 30_001


def mixed_dump(copies: int) -> bytes:
    """Prose, a tab form and its picture text, ``copies`` times (356 bytes each)."""
    unit = "\n".join(
        [
            "第一部分 单位概况",
            "本单位主要职责是组织开展妇女儿童工作，全年完成各项任务。",
            *FORM,
            " 项目名称 社区服务",
            "",
            "培训人数 100 120",
            "",
        ]
    )
    return (unit + "\n").encode("utf-8") * copies


def test_generated_input_of_about_one_megabyte_reads_quickly() -> None:
    copies = 3000
    data = mixed_dump(copies)
    assert len(data) > 1_000_000
    start = time.perf_counter()
    doc = read(data, Path("big.txt"))
    elapsed = time.perf_counter() - start
    assert len(doc.tables) == copies
    assert len({t.fingerprint() for t in doc.tables}) == 1
    assert elapsed < 10.0


@pytest.mark.slow
def test_fifty_megabytes_read_in_linear_time() -> None:
    copies = 50_000_000 // len(mixed_dump(1))
    small, big = mixed_dump(copies // 25), mixed_dump(copies)
    start = time.perf_counter()
    read(small, Path("small.txt"))
    t_small = time.perf_counter() - start
    start = time.perf_counter()
    doc = read(big, Path("big.txt"))
    t_big = time.perf_counter() - start
    assert len(big) >= 49_000_000
    assert len(doc.tables) == copies
    # 25 times the input: linear time allows ~25x (x3 for noise on a shared machine), quadratic ~625x
    assert t_big < 75 * t_small + 5.0
