"""Entity-level strict span scoring (seqeval strict IOB2 semantics) on hand-made sequences."""

from __future__ import annotations

import pytest

from zhibiao.eval.spans import bio_to_spans, score_spans, score_tag_sequences, spans_from_prediction


def test_bio_decoding_is_strict():
    tags = ["B-NAME", "I-NAME", "O", "I-ACTUAL", "B-ACTUAL", "I-ACTUAL", "B-UNIT", "I-NAME"]
    # the lone I-ACTUAL opens nothing; I-NAME after a UNIT does not continue it
    assert bio_to_spans(tags) == [(0, 2, "NAME"), (4, 6, "ACTUAL"), (6, 7, "UNIT")]


def test_identical_sequences_score_one():
    tags = [["B-NAME", "I-NAME", "O", "B-ACTUAL"]]
    scores = score_tag_sequences(tags, tags)
    assert scores["micro"].f1 == 1.0 and scores["NAME"].f1 == 1.0


def test_boundary_error_is_both_fp_and_fn():
    gold = [["B-NAME", "I-NAME", "I-NAME", "O", "B-ACTUAL", "I-ACTUAL"]]
    pred = [["B-NAME", "I-NAME", "O", "O", "B-ACTUAL", "I-ACTUAL"]]
    scores = score_tag_sequences(gold, pred)
    assert (scores["NAME"].tp, scores["NAME"].fp, scores["NAME"].fn) == (0, 1, 1)
    assert scores["ACTUAL"].f1 == 1.0
    assert scores["micro"].precision == pytest.approx(0.5)
    assert scores["micro"].recall == pytest.approx(0.5)


def test_wrong_label_same_boundaries_is_wrong():
    scores = score_spans([(0, 3, "TARGET")], [(0, 3, "ACTUAL")])
    assert scores["TARGET"].fn == 1 and scores["ACTUAL"].fp == 1 and scores["micro"].f1 == 0.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        score_tag_sequences([["O", "O"]], [["O"]])


def test_spans_from_prediction_locates_facts_in_their_sentence():
    text = "概述。指标完成情况：1.信访案件办结率100%，完成年度绩效指标。2.活动1场。"
    pred = {
        "narrative_indicators": [
            {
                "name": "信访案件办结率",
                "actual": {"text": "100%"},
                "sentence": "1.信访案件办结率100%，完成年度绩效指标。",
            },
            {"name": "活动", "actual": {"text": "1场"}},
        ]
    }
    spans = spans_from_prediction(pred, text)
    assert [(text[s:e], label) for s, e, label in spans] == [
        ("信访案件办结率", "NAME"),
        ("100%", "ACTUAL"),
        ("活动", "NAME"),
        ("1场", "ACTUAL"),
    ]


def test_explicit_token_spans_win():
    pred = {"token_spans": [{"start": 1, "end": 3, "label": "NAME"}], "narrative_indicators": [{"name": "x"}]}
    assert spans_from_prediction(pred, "axx") == [(1, 3, "NAME")]
