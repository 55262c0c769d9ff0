"""Does the tagger alone find every narrative fact of a report with its value? (acceptance: seed 001)

Every prose sentence of the report text is tagged, the spans are linked into facts
(``zhibiao.models.facts``) and each gold narrative fact (``annotations.gold.narrative_facts``) must
appear with the same name and the same printed value (or the same number and unit).

    .venv/bin/python -m zhibiao.models.seed_check ../shared/seeds/001_*.txt ../shared/corpus/dev/gold/001.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhibiao.models.facts import TaggedFact, TaggedValue, link_spans
from zhibiao.records.values import clean_text, parse_value


@dataclass
class SeedCheck:
    gold: int = 0
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def all_found(self) -> bool:
        return self.gold > 0 and not self.missing

    def as_dict(self) -> dict[str, Any]:
        return {"gold": self.gold, "found": len(self.found), "missing": self.missing, "extra": self.extra}


def _printed(value: Any) -> str | None:
    text = getattr(value, "text", value)
    return clean_text(text) if isinstance(text, str) and text else None


def same_value(printed: str, tagged: TaggedValue | None) -> bool:
    """The tagged value is the gold's: same printed text, or the same number and unit."""
    if tagged is None:
        return False
    if clean_text(tagged.value.text) == printed:
        return True
    gold, _ = parse_value(printed)
    return (
        gold is not None
        and gold.value is not None
        and (gold.value, gold.unit) == (tagged.value.value, tagged.value.unit)
    )


def tagged_facts(tagger: Any, sentences: Sequence[str]) -> list[TaggedFact]:
    return [
        fact
        for text, spans in zip(sentences, tagger.predict(list(sentences)), strict=True)
        for fact in link_spans(text, spans)
    ]


def check_report(tagger: Any, text_path: Path, gold_path: Path) -> SeedCheck:
    """Gold narrative facts found / missing, and tagged facts with a value the gold does not list."""
    from zhibiao.annotations.gold import load_gold_file, narrative_facts
    from zhibiao.models.weak import report_sentences

    sentences = [s.text for s in report_sentences(text_path)[1]]
    facts = tagged_facts(tagger, sentences)
    result = SeedCheck()
    matched: set[int] = set()
    for _project, gold in narrative_facts(load_gold_file(gold_path)):
        result.gold += 1
        name = clean_text(gold.name)
        wanted = [(_printed(gold.actual), "actual"), (_printed(gold.target), "target")]
        hit = next(
            (
                i
                for i, fact in enumerate(facts)
                if clean_text(fact.name) == name
                and all(same_value(p, getattr(fact, attr)) for p, attr in wanted if p is not None)
            ),
            None,
        )
        label = f"{gold.name} = {wanted[0][0] or wanted[1][0]}"
        (result.found if hit is not None else result.missing).append(label)
        if hit is not None:
            matched.add(hit)
    result.extra = [f.name for i, f in enumerate(facts) if i not in matched and (f.actual or f.target)]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    from zhibiao.models.tagger import DEFAULT_MODEL_DIR, load_onnx_tagger

    parser = argparse.ArgumentParser(description="tagger-only fact recall on one report")
    parser.add_argument("text", type=Path)
    parser.add_argument("gold", type=Path)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args(argv)
    result = check_report(load_onnx_tagger(args.model), args.text, args.gold)
    print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    return 0 if result.all_found else 1


if __name__ == "__main__":
    sys.exit(main())
