"""Entity-level strict P/R/F1 per label of the tagger on the held-out splits, rules beside it.

Scoring is ``zhibiao.eval.spans`` (seqeval strict IOB2 semantics on character spans). The rules-only
baseline is the narrative rules' span source (``zhibiao.annotations.spans.rule_spans``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from zhibiao.eval.spans import SpanCounts, add_counts, score_spans
from zhibiao.models.align import Span
from zhibiao.models.examples import Example

HELD_OUT = ("dev", "test")


def score_examples(
    examples: Sequence[Example], predicted: Sequence[Iterable[Span]]
) -> dict[str, dict[str, Any]]:
    """Per-label and micro strict counts/P/R/F1 over the examples."""
    total: dict[str, SpanCounts] = {}
    for example, spans in zip(examples, predicted, strict=True):
        add_counts(total, score_spans(example.spans, spans))
    return {label: counts.as_dict() for label, counts in total.items()}


def rules_predict(texts: Sequence[str]) -> list[list[Span]]:
    from zhibiao.annotations.spans import rule_spans

    return [rule_spans(text) for text in texts]


def evaluate_splits(
    tagger: Any, examples: Sequence[Example], splits: Sequence[str] = HELD_OUT, with_rules: bool = True
) -> dict[str, Any]:
    """``{split: {"model": scores, "rules": scores, "examples": n}}`` for each held-out split."""
    out: dict[str, Any] = {}
    for split in splits:
        part = [e for e in examples if e.split == split]
        if not part:
            continue
        texts = [e.text for e in part]
        result: dict[str, Any] = {"examples": len(part), "model": score_examples(part, tagger.predict(texts))}
        if with_rules:
            result["rules"] = score_examples(part, rules_predict(texts))
        out[split] = result
    return out


def comparison_table(
    scores: dict[str, Any], labels: Sequence[str], fmt: Callable[[float], str] = "{:.3f}".format
) -> str:
    """Markdown table: label, support, model P/R/F1, rules P/R/F1."""
    lines = [
        "| label | support | model P | model R | model F1 | rules P | rules R | rules F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    empty = {"support": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    for label in [*labels, "micro"]:
        m = scores["model"].get(label, empty)
        r = scores.get("rules", {}).get(label, empty)
        support = max(m["support"], r["support"])
        cells = [fmt(x[k]) for x in (m, r) for k in ("precision", "recall", "f1")]
        lines.append(f"| {label} | {support} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
