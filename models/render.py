"""Weak labels from table roles: a table row's name / operator / target / unit / actual cells rendered
into the sentence patterns reports use, with the entity spans known by construction.

``合同审核及时率`` + ``≥`` + ``95`` + ``%`` -> ``合同审核及时率≥95%`` (INDICATOR, OP, TARGET);
``信访案件办结率`` + ``100%`` -> ``信访案件办结率100%，完成年度绩效指标。`` (INDICATOR, ACTUAL). Cells are
labelled once as fragments and templates only join fragments, so every rendering of a cell carries
the same spans (``annotations/GUIDELINES.md``, "Text spans").
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from zhibiao.annotations.spans import value_spans
from zhibiao.records.narrative import NUMBER, Phrase, clause_facts
from zhibiao.records.values import OPERATOR_WORDS, clean_text, normalize_operator

Span = tuple[int, int, str]
MAX_NAME_CHARS = 30
"""Longer 三级指标 names are descriptions (several clauses), not names a sentence would repeat."""
MAX_QUALITATIVE_CHARS = 8
SHORT_UNIT_RE = re.compile(r"^(?:[%‰℃]|[\u4e00-\u9fff]{1,4}|[A-Za-z²³/]{1,6})")
_WORDS = "|".join(sorted(OPERATOR_WORDS, key=len, reverse=True))
LEADING_VALUE_RE = re.compile(rf"^(?P<op>{_WORDS})(?P<value>{NUMBER}(?:[%‰]|[\u4e00-\u9fff])?)")
"""A name that opens with its target: ``不少于20场线上线下各类活动``."""
DIGIT_RE = re.compile(r"\d")

OPERATOR_PHRASES: dict[str, tuple[str, ...]] = {
    "≥": ("≥", "不低于", "不少于", "≥", "达到"),
    "≤": ("≤", "不超过", "不高于", "≤"),
    ">": (">", "高于", "超过"),
    "<": ("<", "低于", "少于"),
    "=": ("", "", "="),
}
"""Canonical operator -> how a sentence may print it before a target (``""``: not printed)."""


@dataclass(frozen=True)
class Fragment:
    """A piece of text with its entity spans (offsets relative to the piece)."""

    text: str
    spans: tuple[Span, ...] = ()

    def __add__(self, other: Fragment | str) -> Fragment:
        other = plain(other) if isinstance(other, str) else other
        shift = len(self.text)
        return Fragment(
            self.text + other.text, self.spans + tuple((s + shift, e + shift, lb) for s, e, lb in other.spans)
        )


def plain(text: str) -> Fragment:
    return Fragment(text)


def labelled(text: str, label: str) -> Fragment:
    return Fragment(text, ((0, len(text), label),) if text else ())


def join(parts: Sequence[Fragment | str]) -> Fragment:
    out = plain("")
    for part in parts:
        out = out + part
    return out


@dataclass(frozen=True)
class Row:
    """The role cells of one indicator row (as printed) and the document it comes from."""

    name: str
    operator: str | None
    target: str | None
    unit: str | None
    actual: str | None
    group: str


def short_unit(unit: str | None) -> str:
    """The unit a sentence prints after a number: ``个（台、套、件、辆）`` -> ``个``, ``%`` -> ``%``."""
    found = SHORT_UNIT_RE.match(clean_text(unit))
    return found.group(0) if found else ""


def value_text(printed: str | None, unit: str | None) -> str:
    """A number cell with its unit attached (``95`` + ``%`` -> ``95%``); other text as printed."""
    text = clean_text(printed)
    if not text:
        return ""
    if re.fullmatch(NUMBER, text):
        return text + short_unit(unit)
    return text


def is_value(text: str) -> bool:
    """A value a sentence can state: a number (with unit), or a short qualitative word (优, 合规)."""
    return bool(text) and (DIGIT_RE.search(text) is not None or len(text) <= MAX_QUALITATIVE_CHARS)


def name_fragment(name: str) -> Fragment | None:
    """The name as INDICATOR; a target the name states itself becomes OP / TARGET spans.

    ``春蕾计划结对帮扶困难学生100名以上`` -> INDICATOR ``春蕾计划结对帮扶困难学生`` + TARGET ``100名以上``;
    ``不少于20场线上线下各类活动`` -> OP ``不少于`` + TARGET ``20场`` + INDICATOR ``线上线下各类活动``.
    """
    text = clean_text(name)
    if not text or len(text) > MAX_NAME_CHARS or re.search(r"[，,；;。]", text):
        return None
    leading = LEADING_VALUE_RE.match(text)
    if leading and len(text) - leading.end() >= 2:
        return join(
            [
                labelled(leading["op"], "OP"),
                labelled(leading["value"], "TARGET"),
                labelled(text[leading.end() :], "INDICATOR"),
            ]
        )
    facts = clause_facts(text, 0, len(text))
    if len(facts) == 1 and facts[0].actual is not None and facts[0].actual.end == len(text):
        fact = facts[0]
        spans = ((fact.name.start, fact.name.end, "INDICATOR"), *value_spans(fact.actual, "TARGET"))
        return Fragment(text, tuple(sorted(spans)))
    return labelled(text, "INDICATOR")


def cell_fragment(text: str, label: str) -> Fragment:
    """A value cell: ``开展线上线下活动351场次`` -> INDICATOR + ``label``; ``≥95%`` -> OP + ``label``."""
    text = clean_text(text)
    facts = clause_facts(text, 0, len(text))
    if len(facts) == 1 and facts[0].actual is not None and facts[0].actual.end == len(text):
        fact = facts[0]
        return Fragment(
            text,
            tuple(sorted(((fact.name.start, fact.name.end, "INDICATOR"), *value_spans(fact.actual, label)))),
        )
    return Fragment(text, tuple(value_spans(Phrase(text, 0), label)))


def operator_fragment(rng: random.Random, operator: str | None) -> Fragment:
    """An operator as a sentence prints it (OP span), or nothing."""
    canonical = normalize_operator(operator)
    if canonical is None or canonical not in OPERATOR_PHRASES:
        return plain("")
    return labelled(rng.choice(OPERATOR_PHRASES[canonical]), "OP")


Template = Callable[[random.Random, Fragment, Fragment | None, Fragment | None, str], Fragment | None]
"""(rng, name, operator + target, actual, bare unit) -> a sentence, or None when it does not fit."""

ENUMERATORS = ("", "", "1.", "2、", "（3）", "4.", "①", "5、")


def _enum(rng: random.Random) -> str:
    return rng.choice(ENUMERATORS)


def t_target(
    rng: random.Random, n: Fragment, t: Fragment | None, a: Fragment | None, u: str
) -> Fragment | None:
    return join([n, t]) if t else None


def t_target_clause(
    rng: random.Random, n: Fragment, t: Fragment | None, a: Fragment | None, u: str
) -> Fragment | None:
    return (
        join([n, t, rng.choice(("，", "；")), rng.choice(("确保完成年度目标", "按时完成", "符合要求"))])
        if t
        else None
    )


def t_reached(
    rng: random.Random, n: Fragment, t: Fragment | None, a: Fragment | None, u: str
) -> Fragment | None:
    return (
        join([_enum(rng), rng.choice(("", "全年", "本年度")), n, labelled("达到", "OP"), a, "。"])
        if a
        else None
    )


def t_completed(
    rng: random.Random, n: Fragment, t: Fragment | None, a: Fragment | None, u: str
) -> Fragment | None:
    tail = rng.choice(("，完成年度绩效指标。", "，达到预期目标。", "，完成年度绩效目标。", "。"))
    return join([_enum(rng), n, a, tail]) if a else None


def t_labelled(
    rng: random.Random, n: Fragment, t: Fragment | None, a: Fragment | None, u: str
) -> Fragment | None:
    if not (t and a):
        return None
    first = rng.choice(("年度指标值", "目标值", "指标值", "年度目标值"))
    second = rng.choice(("实际完成值", "完成值", "实际完成"))
    sep = rng.choice(("：", "，", ""))
    return join(
        [_enum(rng), n, sep, first, rng.choice(("", "为")), t, "，", second, rng.choice(("", "为")), a, "。"]
    )


def t_target_then_actual(
    rng: random.Random, n: Fragment, t: Fragment | None, a: Fragment | None, u: str
) -> Fragment | None:
    if not (t and a):
        return None
    verb = rng.choice((labelled("达到", "OP"), plain("为"), plain("")))
    return join([n, t, "，", rng.choice(("全年", "实际", "")), n, verb, a, "。"])


def t_plan(
    rng: random.Random, n: Fragment, t: Fragment | None, a: Fragment | None, u: str
) -> Fragment | None:
    if not (t and a):
        return None
    return join(
        [
            "计划",
            n,
            t,
            "，实际",
            rng.choice(("完成", "")),
            a,
            rng.choice(("。", "，完成率100%。", "，超额完成。")),
        ]
    )


def t_unit_apart(
    rng: random.Random, n: Fragment, t: Fragment | None, a: Fragment | None, u: str
) -> Fragment | None:
    """``亲子阅读（单位：场）：目标20，完成22`` — the unit printed apart (UNIT), bare numbers."""
    if not (u and u != "%" and t and a and re.fullmatch(NUMBER, _bare(t)) and re.fullmatch(NUMBER, _bare(a))):
        return None
    return join(
        [
            n,
            rng.choice(("（单位：", "，单位：")),
            labelled(u, "UNIT"),
            rng.choice(("）：", "；")),
            "目标",
            t,
            "，完成",
            a,
        ]
    )


def _bare(fragment: Fragment) -> str:
    """The text of a fragment's value span (TARGET/ACTUAL), or ''."""
    for start, end, label in fragment.spans:
        if label in ("TARGET", "ACTUAL"):
            return fragment.text[start:end]
    return ""


def t_scored(
    rng: random.Random, n: Fragment, t: Fragment | None, a: Fragment | None, u: str
) -> Fragment | None:
    """A row read out with its weight and score: numbers that are no value of the indicator."""
    if not a:
        return None
    weight = rng.choice((5, 10, 15, 20))
    return join([n, "，", "完成值", a, f"，权重{weight}分，得分{weight}分。"])


def t_own_target(
    rng: random.Random, n: Fragment, t: Fragment | None, a: Fragment | None, u: str
) -> Fragment | None:
    """A name that states its own target, then the actual: ``亲子阅读20场以上，实际完成22场。``"""
    return join([_enum(rng), n, "，", rng.choice(("实际完成", "完成值", "实际")), a, "。"]) if a else None


TEMPLATES: tuple[Template, ...] = (
    t_target,
    t_target_clause,
    t_reached,
    t_completed,
    t_labelled,
    t_target_then_actual,
    t_plan,
    t_unit_apart,
    t_scored,
)


def row_parts(rng: random.Random, row: Row) -> tuple[Fragment, Fragment | None, Fragment | None, str] | None:
    """(name, operator + target, actual, bare unit) fragments of a row, or None when the name is unusable."""
    name = name_fragment(row.name)
    if name is None:
        return None
    target_text = value_text(row.target, row.unit)
    actual_text = value_text(row.actual, row.unit)
    name_states_target = any(label == "TARGET" for *_, label in name.spans)
    target = None
    if is_value(target_text) and DIGIT_RE.search(target_text) and not name_states_target:
        target = operator_fragment(rng, row.operator) + cell_fragment(target_text, "TARGET")
    actual = cell_fragment(actual_text, "ACTUAL") if is_value(actual_text) else None
    return name, target, actual, short_unit(row.unit)


def render_row(rng: random.Random, row: Row, count: int) -> list[Fragment]:
    """Up to ``count`` distinct renderings of a row, plus its sentence-like cells on their own."""
    parts = row_parts(rng, row)
    if parts is None:
        return []
    name, target, actual, unit = parts
    out: dict[str, Fragment] = {}
    if any(label != "INDICATOR" for *_, label in name.spans):
        out[name.text] = name
    if actual is not None and any(label == "INDICATOR" for *_, label in actual.spans):
        out[actual.text] = actual
    templates = [t_own_target] if any(label == "TARGET" for *_, label in name.spans) else list(TEMPLATES)
    rng.shuffle(templates)
    for template in templates:
        if len(out) >= count:
            break
        rendered = template(rng, name, target, actual, unit)
        if rendered is not None and rendered.text not in out:
            out[rendered.text] = rendered
    return list(out.values())
