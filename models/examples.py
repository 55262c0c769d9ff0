"""Training examples of the token classifier: a text, its entity spans and the document it comes from.

Stored as JSONL (one object per example, the Label Studio span export shape) and as a spaCy DocBin
(``spacy.blank("zh")``, character tokens, spans as ``doc.ents``). The data version is a hash of the
examples, so a model can say exactly which data it was trained on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhibiao.models.labels import SPAN_LABELS

Span = tuple[int, int, str]
"""start, end (code points, end exclusive), label."""
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Example:
    """One sentence (or sentence-like cell) with its entity spans.

    ``group`` is the document the text comes from (a report, or one project form of a report that
    bundles several): splits are made by group, never by sentence. ``source`` says how it was labelled
    (``table``: projected from table roles, ``rules``: narrative rules, ``gold``: the eval gold,
    ``annotator``: Label Studio).
    """

    text: str
    spans: tuple[Span, ...]
    group: str
    source: str
    split: str = "train"
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "doc": self.group,
            "text": self.text,
            "spans": [{"start": s, "end": e, "label": label} for s, e, label in self.spans],
            "source": self.source,
            "split": self.split,
            **({"meta": self.meta} if self.meta else {}),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any], source: str = "annotator", split: str = "train") -> Example:
        """An example from a JSONL object (``{"doc","text","spans":[{"start","end","label"}], ...}``)."""
        text = str(obj["text"])
        spans = tuple(
            sorted((int(s["start"]), int(s["end"]), str(s["label"])) for s in obj.get("spans") or [])
        )
        return cls(
            text=text,
            spans=valid_spans(spans, len(text)),
            group=str(obj.get("doc") or obj.get("group") or "extra"),
            source=str(obj.get("source") or source),
            split=str(obj.get("split") or split),
        )


def valid_spans(spans: Iterable[Span], length: int, labels: Sequence[str] = SPAN_LABELS) -> tuple[Span, ...]:
    """Spans inside the text with a known label, sorted; a span overlapping an earlier one is dropped."""
    kept: list[Span] = []
    for start, end, label in sorted(set(spans), key=lambda s: (s[0], -(s[1] - s[0]), s[2])):
        if label in labels and 0 <= start < end <= length and all(end <= k[0] or start >= k[1] for k in kept):
            kept.append((start, end, label))
    return tuple(sorted(kept))


def write_jsonl(examples: Iterable[Example], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for example in examples:
            out.write(json.dumps(example.to_json(), ensure_ascii=False, sort_keys=True) + "\n")


def read_jsonl(path: Path, source: str = "annotator", split: str = "train") -> list[Example]:
    """Examples of a JSONL file; blank lines are skipped, a bad line raises ``ValueError`` with its number."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            examples.append(Example.from_json(json.loads(line), source=source, split=split))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: not a span example ({exc})") from exc
    return examples


def data_version(examples: Iterable[Example]) -> str:
    """A short content hash of the examples (text, spans, group, split): the data version."""
    digest = hashlib.sha256()
    for example in examples:
        record = [example.text, list(example.spans), example.group, example.split]
        digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def to_docbin(examples: Iterable[Example]) -> Any:
    """A spaCy ``DocBin`` of the examples: character tokens, the spans as ``doc.ents``."""
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("zh")
    docbin = DocBin(store_user_data=True)
    for example in examples:
        doc = nlp.make_doc(example.text)
        ents = [doc.char_span(s, e, label=label, alignment_mode="expand") for s, e, label in example.spans]
        doc.ents = [ent for ent in ents if ent is not None]
        doc.user_data["group"] = example.group
        doc.user_data["split"] = example.split
        doc.user_data["source"] = example.source
        docbin.add(doc)
    return docbin


def write_docbin(examples: Iterable[Example], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    to_docbin(examples).to_disk(path)


def read_docbin(path: Path) -> list[Example]:
    """Examples back from a DocBin written by ``write_docbin``."""
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("zh")
    examples = []
    for doc in DocBin().from_disk(path).get_docs(nlp.vocab):
        spans = tuple((ent.start_char, ent.end_char, ent.label_) for ent in doc.ents)
        data = doc.user_data
        examples.append(
            Example(
                doc.text,
                spans,
                str(data.get("group", "")),
                str(data.get("source", "")),
                str(data.get("split", "train")),
            )
        )
    return examples
