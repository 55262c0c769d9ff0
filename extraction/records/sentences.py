"""Sentence-like cells -> indicator phrases (pure functions, reused by the wide table and the token model).

``split_items("1.合同审核及时率≥95%；2.法律咨询办结率100%")`` -> two items;
``parse_phrase("合同审核及时率≥95%，符合合同3个工作日内回复审核意见")`` -> name 合同审核及时率,
operator ≥, value ``≥95%`` (95, %); ``pair_phrases`` pairs targets with actuals by name similarity.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from zhibiao.records.values import NUMBER_RE, OPERATOR_SUFFIXES, OPERATOR_WORDS, UNIT_STOP_WORDS, parse_value
from zhibiao.result import Value

MAX_ITEMS = 50
MIN_SIMILARITY = 0.34
ENUMERATOR_RE = re.compile(
    r"(?:(?:^|(?<=[；;。，,\s:：]))\s*\d{1,2}[.、．](?!\d)|[(（]\d{1,2}[)）]|[①-⑳])\s*"
)
SEPARATOR_RE = re.compile(r"[；;\n]+")
CLAUSE_BREAK = "，,；;。:："
TRAILING_PUNCT = "。；;，,、 \t\n"
LINK_WORDS = ("达到了", "达到", "实现了", "实现", "为", "达", "是", "约", "共计", "均", "保持在", "保持")
SYMBOLS = "≥≤=><≧≦⩾⩽"
_WORDS = "|".join(sorted((re.escape(w) for w in OPERATOR_WORDS), key=len, reverse=True))
ANCHOR_RE = re.compile(rf"[{SYMBOLS}]|(?:{_WORDS})(?=\s*[-+]?\d)|\d")
DATE_RE = re.compile(r"\d{4}\s*年|\d{1,2}\s*[月日号]")
SUFFIX_RE = re.compile("|".join(sorted((re.escape(w) for w in OPERATOR_SUFFIXES), key=len, reverse=True)))
UNIT_RE = re.compile(r"\s*(?:[(（][^()（）]{1,12}[)）]|[%‰℃°]|[A-Za-z²³/]+|[\u4e00-\u9fff]{1,8})")
MAX_UNIT_CHARS = 4


@dataclass(frozen=True)
class Phrase:
    """One indicator phrase: as printed, its indicator name, the value phrase and its operator."""

    text: str
    name: str
    value: Value | None
    operator: str | None = None


def _strip_item(text: str) -> str:
    return text.strip().strip(TRAILING_PUNCT).strip()


def split_items(text: str | None) -> list[str]:
    """Split a cell listing several indicators: numbered (1. / 1、 / （1） / ①) or ；-separated."""
    raw = (text or "").strip()
    if not raw:
        return []
    markers = list(ENUMERATOR_RE.finditer(raw))
    if len(markers) >= 2:
        bounds = [m.start() for m in markers] + [len(raw)]
        head = raw[: markers[0].start()]
        parts = [raw[m.end() : bounds[i + 1]] for i, m in enumerate(markers)]
        if _strip_item(head):
            parts.insert(0, head)
    else:
        body = raw[markers[0].end() :] if markers and markers[0].start() == 0 else raw
        parts = SEPARATOR_RE.split(body)
    items = [_strip_item(p) for p in parts]
    return [p for p in items if p][:MAX_ITEMS]


def _anchor(text: str) -> re.Match[str] | None:
    """The first operator symbol, operator word before a number, or number that is not a date."""
    for match in ANCHOR_RE.finditer(text):
        if match.group(0).isdigit() and DATE_RE.match(text, match.start()):
            continue
        if match.group(0).isdigit() and match.start() > 0 and text[match.start() - 1].isdigit():
            continue
        return match
    return None


def _name_before(text: str, end: int) -> str:
    """The indicator name: the clause before the value, link words (达到/为 …) removed."""
    start = max(text.rfind(ch, 0, end) for ch in CLAUSE_BREAK) + 1
    name = text[start:end].strip()
    for word in LINK_WORDS:
        if name.endswith(word) and len(name) > len(word):
            name = name[: -len(word)]
            break
    return name.strip()


def _unit_length(run: str) -> int:
    """How much of the characters after a number is its unit: up to a stop word, at most 4 characters."""
    cut = min(
        (i for i in (run.find(w) for w in (*UNIT_STOP_WORDS, *OPERATOR_SUFFIXES, "及")) if i >= 0),
        default=len(run),
    )
    return min(cut, MAX_UNIT_CHARS) if run[:1] not in "(（" else len(run)


def _value_end(text: str, start: int) -> int:
    """End of the value phrase starting at ``start``: the number, its unit and an 以上/以下 suffix."""
    number = NUMBER_RE.search(text, start)
    if number is None:
        return len(text)
    end = number.end()
    unit = UNIT_RE.match(text, end)
    if unit:
        end += _unit_length(unit.group(0))
    suffix = SUFFIX_RE.match(text, end)
    return suffix.end() if suffix else end


def parse_phrase(item: str) -> Phrase:
    """Name, value phrase and operator of one indicator phrase; qualitative phrases keep only a name."""
    text = _strip_item(unicodedata.normalize("NFKC", item))
    anchor = _anchor(text)
    if anchor is None:
        clause_end = min((i for i in (text.find(ch) for ch in CLAUSE_BREAK) if i >= 0), default=len(text))
        return Phrase(
            text=item.strip(), name=text[:clause_end], value=Value(text=_strip_item(item)), operator=None
        )
    value_text = text[anchor.start() : _value_end(text, anchor.start())].strip()
    value, operator = parse_value(value_text)
    name = _name_before(text, anchor.start())
    if not name:
        rest = text[anchor.start() + len(value_text) :]
        clause_end = min((i for i in (rest.find(ch) for ch in CLAUSE_BREAK) if i >= 0), default=len(rest))
        name = rest[:clause_end].strip().removeprefix("的")
    return Phrase(text=item.strip(), name=name, value=value, operator=operator)


def similarity(a: str, b: str) -> float:
    """How alike two indicator names are (0..1), ignoring digits and punctuation."""

    def key(s: str) -> str:
        return re.sub(r"[\d\W_]+", "", s)

    ka, kb = key(a), key(b)
    if not ka or not kb:
        return 0.0
    return SequenceMatcher(None, ka, kb, autojunk=False).ratio()


Pair = tuple[Phrase | None, Phrase | None, float]


def pair_phrases(targets: list[Phrase], actuals: list[Phrase]) -> list[Pair]:
    """Pair target i with actual j by name similarity (greedy, best first); the rest by position.

    Returns (target, actual, similarity) in target order, unpaired actuals last; similarity is
    -1.0 for pairs made by position, 0.0 for an unpaired phrase.
    """
    targets, actuals = targets[:MAX_ITEMS], actuals[:MAX_ITEMS]
    scored = sorted(
        (
            (similarity(t.name, a.name or a.text), i, j)
            for i, t in enumerate(targets)
            for j, a in enumerate(actuals)
        ),
        key=lambda x: (-x[0], x[1], x[2]),
    )
    match: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for score, i, j in scored:
        if score >= MIN_SIMILARITY and i not in match and j not in used:
            match[i] = (j, score)
            used.add(j)
    free_t = [i for i in range(len(targets)) if i not in match]
    free_a = [j for j in range(len(actuals)) if j not in used]
    for i, j in zip(free_t, free_a, strict=False):
        match[i] = (j, -1.0)
        used.add(j)
    pairs: list[Pair] = []
    for i, target in enumerate(targets):
        if i in match:
            j, score = match[i]
            pairs.append((target, actuals[j], score))
        else:
            pairs.append((target, None, 0.0))
    pairs.extend((None, actuals[j], 0.0) for j in range(len(actuals)) if j not in used)
    return pairs
