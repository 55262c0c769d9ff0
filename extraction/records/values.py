"""Values as printed -> operator, number and unit.

``parse_value("≥13459.00(平方米)")`` -> (Value(text="≥13459.00(平方米)", value=13459.0, unit="平方米"), "≥").
The operator vocabulary is data (``OPERATOR_WORDS``) so new phrasings are one line.
"""

from __future__ import annotations

import re
import unicodedata

from zhibiao.result import Value

CANONICAL_OPERATORS = ("≥", "≤", "=", ">", "<", "定性")

OPERATOR_SYMBOLS: dict[str, str] = {
    "≥": "≥",
    "≧": "≥",
    ">=": "≥",
    "＞＝": "≥",
    "⩾": "≥",
    "≤": "≤",
    "≦": "≤",
    "<=": "≤",
    "＜＝": "≤",
    "⩽": "≤",
    "=": "=",
    "＝": "=",
    "==": "=",
    ">": ">",
    "＞": ">",
    "<": "<",
    "＜": "<",
    "定性": "定性",
}
"""Printed symbol -> canonical operator."""

OPERATOR_WORDS: dict[str, str] = {
    "不低于": "≥",
    "不少于": "≥",
    "大于等于": "≥",
    "大于或等于": "≥",
    "至少": "≥",
    "不小于": "≥",
    "不高于": "≤",
    "不超过": "≤",
    "小于等于": "≤",
    "小于或等于": "≤",
    "不多于": "≤",
    "不大于": "≤",
    "控制在": "≤",
    "低于": "<",
    "小于": "<",
    "少于": "<",
    "高于": ">",
    "大于": ">",
    "超过": ">",
    "多于": ">",
    "等于": "=",
}
"""Words before a number that state the operator."""

OPERATOR_SUFFIXES: dict[str, str] = {
    "内": "≤",
    "以上": "≥",
    "及以上": "≥",
    "以下": "≤",
    "及以下": "≤",
    "以内": "≤",
    "之内": "≤",
}
"""Words after a number (and unit) that state the operator."""

_NUMBER = r"(?:(?<![\d-])[-+])?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
NUMBER_RE = re.compile(_NUMBER)
NUMBER_TOKEN_RE = re.compile(r"[-+]?\d+(?:\.\d+)?")
_UNIT_CHARS = r"[%‰℃°A-Za-z\u4e00-\u9fff/·²³]"
VALUE_RE = re.compile(rf"(?P<number>{_NUMBER})\s*(?P<unit>[(（][^()（）]{{1,12}}[)）]|{_UNIT_CHARS}{{0,8}})")
SYMBOL_PREFIX_RE = re.compile(r"^\s*(>=|<=|＞＝|＜＝|==|[≥≧⩾≤≦⩽=＝>＞<＜])")
SYMBOL_BEFORE_NUMBER_RE = re.compile(r"(>=|<=|＞＝|＜＝|==|[≥≧⩾≤≦⩽=＝>＞<＜])\s*$")
UNIT_STOP_WORDS = (
    "以上",
    "以下",
    "以内",
    "之内",
    "及以上",
    "及以下",
    "内",
    "左右",
    "的",
    "完成",
    "达到",
    "，",
)
DATE_RE = re.compile(r"(?:19|20)\d{2}\s*年\s*(?:\d{1,2}\s*月|度|底|末|上半年|下半年)")
QUALITATIVE_HINTS = ("优良中低差", "优", "良", "合规", "达标", "提高", "健全", "正常", "有效", "明显")


def clean_text(text: str | None) -> str:
    """Cell text with every whitespace (incl. line breaks inside a cell) removed."""
    return "".join((text or "").split())


def normalize_operator(text: str | None) -> str | None:
    """Canonical operator for a printed 指标性质 cell, or None when it is none of the vocabulary."""
    token = clean_text(text)
    if not token:
        return None
    if token in OPERATOR_SYMBOLS:
        return OPERATOR_SYMBOLS[token]
    if token in OPERATOR_WORDS:
        return OPERATOR_WORDS[token]
    folded = unicodedata.normalize("NFKC", token)
    if folded in OPERATOR_SYMBOLS:
        return OPERATOR_SYMBOLS[folded]
    if folded in ("正向", "正向指标"):
        return "≥"
    if folded in ("反向", "反向指标"):
        return "≤"
    return None


def parse_number(text: str | None) -> float | None:
    """The single number a cell prints (``2,340`` -> 2340.0, ``99.96%`` -> 99.96), else None."""
    token = unicodedata.normalize("NFKC", clean_text(text))
    if not token:
        return None
    token = token.rstrip("%‰").replace(",", "")
    if not NUMBER_TOKEN_RE.fullmatch(token):
        return None
    return float(token)


def operator_in_text(text: str) -> str | None:
    """Operator stated in a phrase: a leading symbol, a word before the number or a suffix after it."""
    folded = text.strip()
    match = SYMBOL_PREFIX_RE.match(folded)
    if match:
        return OPERATOR_SYMBOLS[match.group(1)]
    first_number = NUMBER_RE.search(folded)
    if first_number:
        before = SYMBOL_BEFORE_NUMBER_RE.search(folded[: first_number.start()])
        if before:
            return OPERATOR_SYMBOLS[before.group(1)]
    head = folded[: first_number.start()] if first_number else folded
    for word in sorted(OPERATOR_WORDS, key=len, reverse=True):
        if head.endswith(word) or (word in head and len(head) - head.rfind(word) <= len(word) + 2):
            return OPERATOR_WORDS[word]
    if first_number:
        tail = folded[first_number.end() :]
        for word in sorted(OPERATOR_SUFFIXES, key=len, reverse=True):
            if word in tail[:12]:
                return OPERATOR_SUFFIXES[word]
    return None


def _clean_unit(raw: str) -> str | None:
    unit = raw.strip().strip("()（）").strip()
    for stop in UNIT_STOP_WORDS:
        cut = unit.find(stop)
        if cut >= 0:
            unit = unit[:cut]
    return unit or None


def first_quantity(text: str) -> re.Match[str] | None:
    """The first number-with-unit in ``text`` that is not part of a date (2023年12月底)."""
    dates = [m.span() for m in DATE_RE.finditer(text)]
    for match in VALUE_RE.finditer(text):
        if not any(start <= match.start() < end for start, end in dates):
            return match
    return None


def parse_value(text: str | None, unit: str | None = None) -> tuple[Value | None, str | None]:
    """Split a printed value into Value(text, number, unit) and the operator it states.

    ``unit`` is the unit column's text when the table has one; it wins over a unit found in the text.
    Text without a number (优, 合规, 优良中低差) gives ``value=None``.
    """
    raw = (text or "").strip()
    if not raw:
        return None, None
    folded = unicodedata.normalize("NFKC", raw)
    operator = operator_in_text(folded)
    match = first_quantity(folded)
    number: float | None = None
    found_unit: str | None = None
    if match:
        number = float(match.group("number").replace(",", ""))
        found_unit = _clean_unit(match.group("unit"))
    given_unit = clean_text(unit) or None
    return Value(text=raw, value=number, unit=given_unit or found_unit), operator


def parse_percent(text: str | None) -> float | None:
    """A rate as its percentage number: ``99.96%`` -> 99.96, ``1`` (a workbook fraction) stays 1.0."""
    return parse_number(text)
