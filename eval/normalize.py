"""Normalisation shared by every metric: text, operators and printed quantities.

The rules are the ones a fair scorer uses (``shared/corpus/dev/gold/README.md``): text after NFKC
with whitespace removed and trailing punctuation dropped; operators with full-width forms folded;
numbers compared as numbers (``100.00%`` = 100 = ``100``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

TRAILING_PUNCT = "。，,.;；、:：!！?？"
"""Punctuation a cell or sentence may end with that carries no meaning (``优,`` = ``优``)."""

OPERATOR_FORMS: dict[str, str] = {
    "≥": "≥",
    "≧": "≥",
    ">=": "≥",
    "=>": "≥",
    "≤": "≤",
    "≦": "≤",
    "<=": "≤",
    "=<": "≤",
    "=": "=",
    "==": "=",
    ">": ">",
    "<": "<",
    "定性": "定性",
}
"""Printed operator forms (after NFKC, which folds ＝ ＞ ＜) -> the contract's operator."""

_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_QUANTITY = re.compile(rf"^(?P<op>≥|≤|>=|<=|=|>|<|≧|≦)?(?P<num>{_NUMBER})(?P<unit>[^\d]*)$")


def compact(value: Any) -> str:
    """NFKC with all whitespace (line breaks of the rendering included) removed; ``None`` -> ``""``."""
    if value is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", str(value)).split())


def norm_text(value: Any) -> str:
    """``compact`` and trailing punctuation dropped: the comparison form of a text field."""
    return compact(value).rstrip(TRAILING_PUNCT)


def is_blank(value: Any) -> bool:
    """True for ``None``, ``""`` (or only whitespace/punctuation), a Value without text or value, ``[]``."""
    if isinstance(value, dict):
        return is_blank(value.get("text")) and value.get("value") is None
    if isinstance(value, list | tuple):
        return all(is_blank(v) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return True
    return norm_text(value) == ""


def norm_operator(value: Any) -> str | None:
    """The contract's operator for a printed form (``＝`` -> ``=``, ``>=`` -> ``≥``); others as text."""
    text = norm_text(value)
    if not text:
        return None
    return OPERATOR_FORMS.get(text, text)


@dataclass(frozen=True)
class Quantity:
    """A printed quantity: optional operator, a number, optional unit (``%`` for percentages)."""

    number: float
    unit: str = ""
    operator: str | None = None


def parse_quantity(value: Any) -> Quantity | None:
    """Read a whole string as ``[op] number [unit]`` (``2,340平方米``, ``100.00%``, ``≥13459.00(平方米)``).

    Numbers (int/float) are quantities without unit. Anything with text around the number
    (``开展线上线下活动351场次``) is not a quantity and returns ``None``.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return None if math.isnan(value) else Quantity(float(value))
    text = norm_text(value)
    match = _QUANTITY.match(text)
    if not match:
        return None
    unit = match["unit"].strip("()（）")
    op = match["op"]
    return Quantity(float(match["num"].replace(",", "")), unit, OPERATOR_FORMS.get(op) if op else None)


def numbers_equal(a: float, b: float) -> bool:
    """Equality of printed numbers, tolerant to float representation only (``16.00`` = 16)."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def units_compatible(a: str | None, b: str | None) -> bool:
    """Units agree when either is missing or both normalise to the same text."""
    na, nb = norm_text(a).strip("()（）"), norm_text(b).strip("()（）")
    return not na or not nb or na == nb
