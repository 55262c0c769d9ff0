"""Label sets shared by the annotation configs, the gold conversion and the token classifier."""

from __future__ import annotations

SPAN_LABELS = ("INDICATOR", "TARGET", "ACTUAL", "UNIT", "OP")
"""Entity labels of the token classifier (and of Label Studio's text-span tasks), in this order."""

OPTIONAL_SPAN_LABELS = ("PROJECT", "BUDGET")
"""Offered to annotators too; the classifier may ignore them."""

ALL_SPAN_LABELS = SPAN_LABELS + OPTIONAL_SPAN_LABELS

GOLD_SPAN_LABELS = {"INDICATOR": "NAME"}
"""Span labels renamed in the gold format / eval harness (which call an indicator name ``NAME``)."""

OPERATORS = ("≥", "≤", "=", ">", "<", "定性")
"""指标性质 values of the output contract (``operator``)."""


def gold_span_label(label: str) -> str:
    """The label the gold format and ``zhibiao.eval`` use for a classifier label."""
    return GOLD_SPAN_LABELS.get(label, label)
