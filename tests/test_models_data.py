"""Weak-label data for the span tagger: table rows rendered into sentences, rules and gold on prose,
splits by document, JSONL / DocBin storage and the data version."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from conftest import GOLD, SHARED, require
from zhibiao.models.examples import Example, data_version, read_jsonl, valid_spans, write_jsonl
from zhibiao.models.render import Row, cell_fragment, name_fragment, render_row, short_unit, value_text
from zhibiao.models.weak import (
    BuildConfig,
    TextSentence,
    assign_splits,
    build_examples,
    check_splits,
    sentence_examples,
    with_reach_operators,
)


def texts_of(text: str, spans: tuple | list) -> list[tuple[str, str]]:
    return [(text[s:e], label) for s, e, label in spans]


# ---------------------------------------------------------------- rendering table roles


def test_a_name_that_states_its_target_is_split_into_indicator_and_target() -> None:
    fragment = name_fragment("春蕾计划结对帮扶困难学生100名以上")
    assert fragment is not None
    assert texts_of(fragment.text, fragment.spans) == [
        ("春蕾计划结对帮扶困难学生", "INDICATOR"),
        ("100名以上", "TARGET"),
    ]
    leading = name_fragment("不少于20场线上线下各类活动")
    assert leading is not None
    assert texts_of(leading.text, leading.spans) == [
        ("不少于", "OP"),
        ("20场", "TARGET"),
        ("线上线下各类活动", "INDICATOR"),
    ]


def test_plain_and_unusable_names() -> None:
    plain = name_fragment("合同审核及时率")
    assert plain is not None and plain.spans == ((0, 7, "INDICATOR"),)
    assert name_fragment("开展家校社合作共同育，开展回家行动") is None  # a description of several clauses


def test_sentence_like_value_cells() -> None:
    cell = cell_fragment("开展线上线下活动351场次", "ACTUAL")
    assert texts_of(cell.text, cell.spans) == [("开展线上线下活动", "INDICATOR"), ("351场次", "ACTUAL")]
    target = cell_fragment("≥95%", "TARGET")
    assert texts_of(target.text, target.spans) == [("≥", "OP"), ("95%", "TARGET")]


def test_units_attach_to_bare_numbers_only() -> None:
    assert short_unit("个（台、套、件、辆）") == "个"
    assert value_text("95", "%") == "95%"
    assert value_text("2,340", "平方米") == "2,340平方米"
    assert value_text("合规", "") == "合规"


def test_rendered_rows_carry_the_cells_as_spans() -> None:
    row = Row("合同审核及时率", "≥", "95", "%", "100", "doc")
    rendered = render_row(random.Random(3), row, 9)
    assert len(rendered) >= 5
    for fragment in rendered:
        found = texts_of(fragment.text, fragment.spans)
        assert ("合同审核及时率", "INDICATOR") in found
        assert ("95%", "TARGET") in found or ("100%", "ACTUAL") in found
        assert valid_spans(fragment.spans, len(fragment.text)) == tuple(sorted(fragment.spans))


def test_reach_word_before_a_value_is_an_operator() -> None:
    text = "合同审核及时率达到100%"
    spans = with_reach_operators(text, [(0, 7, "INDICATOR"), (9, 13, "ACTUAL")])
    assert texts_of(text, spans) == [("合同审核及时率", "INDICATOR"), ("达到", "OP"), ("100%", "ACTUAL")]


# ---------------------------------------------------------------- prose: gold beats rules, negatives


def test_sentences_take_gold_spans_where_the_gold_has_facts() -> None:
    sentences = [
        TextSentence("1.信访案件办结率100%，完成年度绩效指标。", 10, True),
        TextSentence("支出决算为218.79万元，完成预算100%。", 60, False),
        TextSentence("深化实施妇儿规划工作。", 90, False),
    ]
    gold = [(12, 19, "INDICATOR"), (19, 23, "ACTUAL")]
    found = sentence_examples("doc", sentences, gold, random.Random(0), negatives=5)
    assert [(e.source, texts_of(e.text, e.spans)) for e in found] == [
        ("gold", [("信访案件办结率", "INDICATOR"), ("100%", "ACTUAL")]),
        ("negative", []),
        ("negative", []),
    ]
    assert [e.text for e in found[1:]] == [
        "深化实施妇儿规划工作。",
        "深化实施妇儿规划工作",
    ]  # sentence, clause
    ruled = sentence_examples("doc", sentences, None, random.Random(0), negatives=5)
    assert ruled[0].source == "rules" and texts_of(ruled[0].text, ruled[0].spans)[1] == ("100%", "ACTUAL")
    assert all(e.text != sentences[1].text for e in ruled)  # unmarked prose with a number: neither


# ---------------------------------------------------------------- splits, storage, version


def example(text: str, group: str, spans: tuple = ()) -> Example:
    return Example(text, spans, group, "table")


def test_splits_follow_documents_and_their_project_forms() -> None:
    examples = [
        example("a", "003#p1"),
        example("b", "003#p7"),
        example("c", "001"),
        example("d", "synthetic-1"),
    ]
    split = assign_splits(examples, test_groups=["001"], dev_groups=["003#p7"])
    assert [e.split for e in split] == ["train", "dev", "test", "train"]
    whole = assign_splits(examples, test_groups=["003"], dev_groups=[])
    assert [e.split for e in whole][:2] == ["test", "test"]
    check_splits(split)
    with pytest.raises(ValueError, match="both"):
        check_splits([Example("a", (), "g", "x", "train"), Example("b", (), "g", "x", "test")])


def test_annotator_jsonl_is_read_and_bad_lines_named(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    record = {
        "doc": "001_x.txt",
        "text": "信访案件办结率100%",
        "spans": [{"start": 0, "end": 7, "label": "INDICATOR"}, {"start": 7, "end": 11, "label": "ACTUAL"}],
        "annotator": "a@b",
        "updated_at": "2026-11-22T10:00:00",
        "prediction": False,
    }
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n\n", encoding="utf-8")
    (found,) = read_jsonl(path)
    assert found.source == "annotator" and found.group == "001_x.txt"
    assert found.spans == ((0, 7, "INDICATOR"), (7, 11, "ACTUAL"))
    path.write_text('{"text": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        read_jsonl(path)


def test_jsonl_and_docbin_round_trip(tmp_path: Path) -> None:
    from zhibiao.models.examples import read_docbin, write_docbin

    examples = [
        Example(
            "合同审核及时率≥95%", ((0, 7, "INDICATOR"), (7, 8, "OP"), (8, 11, "TARGET")), "d1", "table", "dev"
        ),
        Example("深化实施妇儿规划。", (), "d2", "negative", "test"),
    ]
    write_jsonl(examples, tmp_path / "x.jsonl")
    back = read_jsonl(tmp_path / "x.jsonl")
    assert [(e.text, e.spans, e.group, e.split, e.source) for e in back] == [
        (e.text, e.spans, e.group, e.split, e.source) for e in examples
    ]
    write_docbin(examples, tmp_path / "x.spacy")
    assert read_docbin(tmp_path / "x.spacy") == examples


def test_data_version_changes_with_a_label() -> None:
    one = [example("合同审核及时率95%", "d", ((0, 7, "INDICATOR"),))]
    other = [example("合同审核及时率95%", "d", ((0, 7, "INDICATOR"), (7, 10, "TARGET")))]
    assert data_version(one) == data_version(list(one)) != data_version(other)


def test_dev_corpus_build_is_deterministic_and_holds_out_documents() -> None:
    require(GOLD / "001.json")
    config = BuildConfig(
        gold_dir=str(GOLD),
        text_dir=str(require(SHARED / "seeds")),
        synthetic_rows=20,
        test_groups=("000_c9021f7b19f56ffc", "001_def97523c2bc9572"),
        dev_groups=("003_4840a7d78a699b0b#p7",),
    )
    first, second = build_examples(config), build_examples(config)
    assert first.version == second.version and len(first.examples) == len(second.examples)
    check_splits(first.examples)
    gold_001 = [e for e in first.examples if e.group.startswith("001") and e.source == "gold" and e.spans]
    assert {e.split for e in gold_001} == {"test"}
    values = {e.text[s:t] for e in gold_001 for s, t, label in e.spans if label == "ACTUAL"}
    assert {"100%", "1场", "2,340平方米", "10公里以内"} <= values
    assert {e.split for e in first.examples if e.group.startswith("003_4840a7d78a699b0b#p7")} == {"dev"}
    assert any(e.source == "table" and e.split == "train" for e in first.examples)
