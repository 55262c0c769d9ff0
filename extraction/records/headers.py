"""Header vocabulary: printed header texts -> field names, driven by ``headers.json``.

Headers vary between provinces and years (年度指标值 / 指标值, 分值 / 权重, 偏差原因分析及改进措施 /
未完成原因分析 …). Matching is tolerant of whitespace, line breaks, full-width brackets, leading
numbering and trailing bracketed qualifiers (``分值（权重）``, ``年度预算数（万元）``, ``实施单位 （盖章）``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

LEADING_NUMBERING_RE = re.compile(
    r"^(?:[(（]?[一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十\d]{1,3}[、.．])"
)
TRAILING_QUALIFIER_RE = re.compile(r"\(([^()]*)\)$")
MAX_HEADER_CHARS = 100
"""Longer texts are content, never a header or title (and stay out of the match cache)."""
MONEY_UNITS = ("万元", "元", "千元", "亿元")
UNIT_IN_TEXT_RE = re.compile(r"单位[:：]\s*(万元|千元|亿元|元)")


def normalize_header(text: str | None) -> str:
    """NFKC, no whitespace, no leading numbering or asterisks: ``1.项目 名称`` -> ``项目名称``."""
    key = unicodedata.normalize("NFKC", "".join((text or "").split()))
    key = key.lstrip("*★·")
    return LEADING_NUMBERING_RE.sub("", key, count=1)


def split_qualifiers(key: str) -> tuple[str, list[str]]:
    """Strip trailing bracketed qualifiers: ``分值(权重)`` -> (``分值``, [``权重``])."""
    qualifiers: list[str] = []
    base = key
    for _ in range(4):
        match = TRAILING_QUALIFIER_RE.search(base)
        if not match or match.start() == 0:
            break
        qualifiers.insert(0, match.group(1))
        base = base[: match.start()]
    return base, qualifiers


def money_unit(text: str | None) -> str | None:
    """The money unit a header or caption states: ``年度预算数（万元）`` / ``单位：万元`` -> 万元."""
    key = normalize_header(text)
    match = UNIT_IN_TEXT_RE.search(key)
    if match:
        return match.group(1)
    for qualifier in split_qualifiers(key)[1]:
        if qualifier in MONEY_UNITS:
            return qualifier
    return None


@dataclass(frozen=True)
class FieldVocabulary:
    """The phrasings of one field: exact (normalised) strings and regular expressions."""

    exact: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, key: str) -> bool:
        return key in self.exact or any(p.fullmatch(key) for p in self.patterns)


Vocabulary = dict[str, dict[str, FieldVocabulary]]


def _compile_field(phrasings: list[str]) -> FieldVocabulary:
    exact = frozenset(normalize_header(p) for p in phrasings if not p.startswith("re:"))
    patterns = tuple(re.compile(p[3:]) for p in phrasings if p.startswith("re:"))
    return FieldVocabulary(exact=exact, patterns=patterns)


def compile_vocabulary(raw: dict[str, object]) -> Vocabulary:
    """Turn the JSON vocabulary (group -> field -> phrasings) into matchers; ``_`` keys are comments."""
    vocabulary: Vocabulary = {}
    for group, fields in raw.items():
        if group.startswith("_") or not isinstance(fields, dict):
            continue
        vocabulary[group] = {field: _compile_field(list(phrasings)) for field, phrasings in fields.items()}
    return vocabulary


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The packaged vocabulary (``headers.json`` next to this module)."""
    text = resources.files("zhibiao.records").joinpath("headers.json").read_text(encoding="utf-8")
    return compile_vocabulary(json.loads(text))


def match_field(text: str | None, group: str, vocab: Vocabulary | None = None) -> str | None:
    """The field of ``group`` a header text names, or None: ``分值（权重）`` in indicator_column -> weight."""
    if text is None or len(text) > MAX_HEADER_CHARS:
        return None
    if vocab is None:
        return _match_packaged(text, group)
    return _match(text, vocab.get(group, {}))


@lru_cache(maxsize=8192)
def _match_packaged(text: str, group: str) -> str | None:
    return _match(text, vocabulary().get(group, {}))


def _match(text: str | None, fields: dict[str, FieldVocabulary]) -> str | None:
    key = normalize_header(text)
    if not key:
        return None
    base, _ = split_qualifiers(key)
    for candidate in (key, base):
        for field, phrasings in fields.items():
            if phrasings.matches(candidate):
                return field
    return None


def match_fields(text: str | None, groups: tuple[str, ...], vocab: Vocabulary | None = None) -> str | None:
    """``match_field`` over several groups, first group first."""
    for group in groups:
        field = match_field(text, group, vocab)
        if field:
            return field
    return None


HEADER_GROUPS = ("identity", "budget_label", "budget_column", "indicator_column", "score_column")


def is_header_text(text: str | None) -> bool:
    """True when the text is a known column or label header of any table family."""
    return match_fields(text, HEADER_GROUPS) is not None
