"""The token classifier reading narrative 指标值/完成值 cells of indicator tables (``models/cell_source``)."""

from __future__ import annotations

import os

import pytest

from conftest import FakeTagger
from zhibiao.model import Table
from zhibiao.models.cell_source import FLAG_CODE, TAGGER_FACTOR, pick_value, tag_indicator_fields
from zhibiao.records.grid import TableView
from zhibiao.records.indicators import find_indicator_header, read_indicator_block
from zhibiao.result import Indicator, Value
from zhibiao.tables.html import table_from_html

# ---------------------------------------------------------------- picking a value from spans (no model)


def span(text: str, printed: str, label: str, after: int = 0) -> tuple[int, int, str]:
    """The (start, end, label) of ``printed`` in ``text`` (first occurrence at or after ``after``)."""
    start = text.index(printed, after)
    return (start, start + len(printed), label)


def test_a_lone_value_span_takes_the_column_label() -> None:
    """In a cell read alone the model cannot tell target from actual: the column decides."""
    text = "全年开展线上线下活动351场次"
    picked = pick_value("开展活动场次", text, [span(text, "351场次", "TARGET")], "ACTUAL")
    assert picked is not None and picked.label == "ACTUAL"
    assert (picked.value.value, picked.value.unit, picked.span) == (351.0, "场次", (10, 15))


def test_the_one_span_of_the_column_label_wins_over_others() -> None:
    text = "合同审核及时率≥95%，符合合同3个工作日内回复审核意见"
    spans = [
        span(text, "合同审核及时率", "INDICATOR"),
        span(text, "≥", "OP"),
        span(text, "95%", "TARGET"),
        span(text, "3", "ACTUAL"),
    ]
    picked = pick_value("合同审核及时率", text, spans, "TARGET")
    assert picked is not None and (picked.value.value, picked.value.unit, picked.operator) == (95.0, "%", "≥")
    assert picked.value.text == "95%"


def test_several_values_need_one_linked_to_the_row_name() -> None:
    text = "组织开展家庭教育讲座30场，参与家长满意度达到95%，社会反响良好"
    spans = [
        span(text, "组织开展家庭教育讲座", "INDICATOR"),
        span(text, "30场", "ACTUAL"),
        span(text, "参与家长满意度", "INDICATOR"),
        span(text, "95%", "ACTUAL"),
    ]
    picked = pick_value("参与家长满意度", text, spans, "ACTUAL")
    assert picked is not None and picked.value.value == 95.0
    assert pick_value("宣传覆盖面", text, spans, "ACTUAL") is None  # no name like the row's: ambiguous


def test_several_values_one_in_the_rows_unit() -> None:
    text = "覆盖人数达10万，开展线上线下活动351场次，群众满意率100%"
    spans = [span(text, "10万", "TARGET"), span(text, "351场次", "TARGET"), span(text, "100%", "TARGET")]
    picked = pick_value("服务对象满意率", text, spans, "ACTUAL", unit="%")  # the target reads ≥85%
    assert picked is not None and picked.label == "ACTUAL"
    assert (picked.value.value, picked.value.unit) == (100, "%")
    assert pick_value("服务对象满意率", text, spans, "ACTUAL") is None  # no unit to go by: ambiguous


def test_doubtful_spans_give_no_value() -> None:
    two = "通过开展1场风采展示活动+3个品牌课堂+351场线上线下群众性宣传教育活动"
    spans = [span(two, "3", "TARGET", two.index("+")), span(two, "351", "TARGET")]
    assert pick_value("宣传覆盖面", two, spans, "ACTUAL") is None
    deadline = "2022年11月底前完成全部建设任务并投入使用"
    assert pick_value("完成时间", deadline, [span(deadline, "2022年", "TARGET")], "TARGET") is None
    cut = "线上线下引领不少于10万人次妇女听党话跟党走"  # "10" alone: its magnitude is cut off
    assert pick_value("引领人次", cut, [span(cut, "10", "TARGET")], "TARGET") is None
    assert pick_value("引领人次", cut, [], "TARGET") is None


def test_a_unit_unlike_the_rows_is_some_other_quantity() -> None:
    text = "建立1支由公安干警、政法干部、妇联执委、基层网格员等组成的工作队伍，人数不少于30人"
    tagger = FakeTagger({text: [span(text, "30人", "ACTUAL")]})
    team = Value(text="1", value=1, unit="支")
    row = Indicator(name="建队伍", target=team, actual=Value(text=text, unit="支"))
    assert tag_indicator_fields([row], [(0, "actual")], tagger) == [row]  # 30 人 is not the 支 count
    row = row.model_copy(update={"target": Value(text="25", value=25, unit="人"), "actual": Value(text=text)})
    (done,) = tag_indicator_fields([row], [(0, "actual")], tagger)
    assert done.actual == Value(text=text, value=30, unit="人") and done.confidence == TAGGER_FACTOR
    (again,) = tag_indicator_fields([done], [(0, "actual")], tagger)
    assert again.confidence == TAGGER_FACTOR  # lowered once per record


# ---------------------------------------------------------------- a form table with the committed model

NARRATIVE_ACTUAL = "运用网络及新媒体线上线下联动开展各类妇女思想引领活动，全年开展线上线下活动351场次"
FORM = f"""<table>
<tr><td>一级指标</td><td>二级指标</td><td>三级指标</td><td>指标性质</td><td>年度指标值</td><td>度量单位</td>
<td>实际完成值</td><td>分值</td><td>得分</td></tr>
<tr><td>产出指标</td><td>数量指标</td><td>开展活动场次</td><td>≥</td><td>300</td><td>场次</td>
<td>{NARRATIVE_ACTUAL}</td><td>10</td><td>10</td></tr>
<tr><td>产出指标</td><td>质量指标</td><td>亮出妇联品牌</td><td>定性</td><td>优</td><td></td>
<td>打造“巾帼大宣讲”“母亲课堂”三大活动品牌，覆盖人数达到20万人，社会反响良好</td><td>10</td><td>10</td></tr>
<tr><td>效益指标</td><td>社会效益指标</td><td>宣传覆盖面</td><td>≥</td><td>3</td><td>类</td>
<td>通过开展1场盐都女性风采展示活动+3个品牌课堂+351场线上线下群众性宣传教育活动，打造互联网+妇联模式</td>
<td>10</td><td>9</td></tr>
</table>"""


def form_indicators() -> list[Indicator]:
    table: Table = table_from_html(FORM)
    view = TableView(table)
    layout = find_indicator_header(view)
    assert layout is not None
    return read_indicator_block(table, view, layout).indicators


def require_tagger() -> None:
    from zhibiao.models.narrative_source import unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the packaged tagger is required in CI: {reason}")
        pytest.skip(reason)


def by_name(indicators: list[Indicator]) -> dict[str, Indicator]:
    return {i.name: i for i in indicators}


def test_narrative_actual_cell_gets_its_number_from_the_tagger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZHIBIAO_TAGGER", raising=False)
    require_tagger()
    tagged = by_name(form_indicators())
    monkeypatch.setenv("ZHIBIAO_TAGGER", "off")
    plain = by_name(form_indicators())

    count = tagged["开展活动场次"]
    assert count.actual is not None
    assert (count.actual.text, count.actual.value, count.actual.unit) == (NARRATIVE_ACTUAL, 351.0, "场次")
    (flag,) = count.flags
    assert flag.code == FLAG_CODE and flag.severity == "info"
    assert flag.evidence["field"] == "actual" and flag.evidence["label"] == "ACTUAL"
    start, end = flag.evidence["span"]
    assert NARRATIVE_ACTUAL[start:end] == flag.evidence["printed"] == "351场次"
    assert count.confidence == pytest.approx(plain["开展活动场次"].confidence * TAGGER_FACTOR)
    assert count.target is not None and count.target.value == 300  # the rules' target is untouched

    # a qualitative row keeps its text only; several candidate numbers and no name to link: no number
    for name in ("亮出妇联品牌", "宣传覆盖面"):
        assert tagged[name] == plain[name]
        assert tagged[name].actual is not None and tagged[name].actual.value is None


def test_without_the_tagger_narrative_cells_keep_text_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIBIAO_TAGGER", "off")
    for indicator in form_indicators():
        assert indicator.flags == []
        assert indicator.actual is not None and indicator.actual.value is None
    count = by_name(form_indicators())["开展活动场次"]
    assert count.actual is not None and count.actual.text == NARRATIVE_ACTUAL and count.actual.unit == "场次"
