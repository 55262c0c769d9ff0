"""spaCy as the text container: ``spacy.blank("zh")`` (character tokens) with the tagger as a pipeline
component setting ``doc.ents``, and displaCy HTML for reviewing predictions next to gold spans.

    nlp = tagger_pipeline(load_onnx_tagger())
    doc = nlp("信访案件办结率100%，完成年度绩效指标")
    [(e.text, e.label_) for e in doc.ents]  # [('信访案件办结率', 'INDICATOR'), ('100%', 'ACTUAL')]
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from zhibiao.models.align import Span

COMPONENT = "zhibiao_tagger"
LABEL_COLOURS = {
    "INDICATOR": "#a6cee3",
    "TARGET": "#b2df8a",
    "ACTUAL": "#fdbf6f",
    "UNIT": "#cab2d6",
    "OP": "#fb9a99",
}


def set_ents(doc: Any, spans: Iterable[Span]) -> Any:
    """``doc.ents`` from character spans (expanded to whole tokens; overlapping spans are dropped)."""
    from spacy.util import filter_spans

    ents = [doc.char_span(start, end, label=label, alignment_mode="expand") for start, end, label in spans]
    doc.ents = filter_spans([e for e in ents if e is not None])
    return doc


class TaggerComponent:
    """Pipeline component: runs the tagger over docs (batched in ``pipe``) and sets ``doc.ents``."""

    def __init__(self, tagger: Any) -> None:
        self.tagger = tagger

    def __call__(self, doc: Any) -> Any:
        return set_ents(doc, self.tagger.predict([doc.text])[0])

    def pipe(self, docs: Iterable[Any], batch_size: int = 64) -> Iterable[Any]:
        batch: list[Any] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._run(batch)
                batch = []
        yield from self._run(batch)

    def _run(self, docs: Sequence[Any]) -> list[Any]:
        if not docs:
            return []
        return [
            set_ents(doc, spans)
            for doc, spans in zip(docs, self.tagger.predict([d.text for d in docs]), strict=True)
        ]


def tagger_pipeline(tagger: Any) -> Any:
    """A blank Chinese pipeline (character tokens) with the tagger as its only component."""
    import spacy
    from spacy.language import Language

    if not Language.has_factory(COMPONENT):
        Language.factory(COMPONENT, func=lambda nlp, name, tagger: TaggerComponent(tagger))  # type: ignore[misc]
    nlp = spacy.blank("zh")
    nlp.add_pipe(COMPONENT, config={"tagger": None})
    nlp.get_pipe(COMPONENT).tagger = tagger
    return nlp


def review_html(
    texts: Sequence[str], predicted: Sequence[Sequence[Span]], gold: Sequence[Sequence[Span]] | None = None
) -> str:
    """One HTML page: each text rendered by displaCy with the predicted entities (and the gold ones)."""
    import spacy
    from spacy import displacy

    nlp = spacy.blank("zh")
    options = {"colors": LABEL_COLOURS}
    parts = ["<!doctype html><meta charset='utf-8'><title>zhibiao tagger review</title><body>"]
    for i, text in enumerate(texts):
        parts.append(f"<h3>{i + 1}</h3><p>model</p>")
        parts.append(
            displacy.render(
                set_ents(nlp.make_doc(text), predicted[i]), style="ent", options=options, page=False
            )
        )
        if gold is not None:
            mark = "same" if set(gold[i]) == set(predicted[i]) else "differs"
            parts.append(f"<p>gold ({html.escape(mark)})</p>")
            parts.append(
                displacy.render(
                    set_ents(nlp.make_doc(text), gold[i]), style="ent", options=options, page=False
                )
            )
    parts.append("</body>")
    return "\n".join(parts)
