"""Narrative reports: budget sentences and indicator facts stated in prose -> records (rules).

A first rules version; a fine-tuned token classifier will replace the fact matcher. The stages are
separate pure functions so each can be swapped or tested alone:

1. ``prose_lines``     the document's text items in body order with their offsets in ``doc.text()``;
2. ``assign_sections`` which project heading and which indicator section each line sits under;
3. ``split_sentences`` sentences (and numbered facts) with absolute character offsets;
4. ``match_budget``    ``年度支出预算数 91.91 万元，预算完成数 91.91 万元，执行率 100%``;
5. ``match_facts``     ``1.信访案件办结率100%，完成年度绩效指标。`` -> name / actual (/ target);
6. ``records_from_text`` puts them together into projects, a department budget and facts.

Precision first: an indicator fact is only taken from a clearly marked context — a line opened
by ``指标完成情况：``, the numbered lines of a ``绩效指标完成情况`` section, or a sentence that says
``完成年度绩效指标`` — never from ordinary prose such as ``支出决算为218.79万元，完成预算100%``.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

from zhibiao.model import BBox, Document, TextItem
from zhibiao.records import RecordSet
from zhibiao.records.document_info import department_and_year
from zhibiao.records.values import (
    NUMBER_RE,
    OPERATOR_SUFFIXES,
    OPERATOR_SYMBOLS,
    OPERATOR_WORDS,
    clean_text,
    parse_number,
    parse_value,
)
from zhibiao.result import Budget, NarrativeIndicator, Project, Provenance, Value

PICTURE_TEXT_STYLE = "picture-text"
"""Text of pictures dumped out of reading order: never prose."""
FAMILY = "narrative"
MARKED_CONFIDENCE = 0.85
"""Confidence of a fact found inside an indicator section (``指标完成情况：…``)."""
SENTENCE_MARKED_CONFIDENCE = 0.75
"""Confidence of a fact found only through a ``完成年度绩效指标`` sentence."""
HEADING_MAX_CHARS = 50
PARAGRAPH_ENDINGS = ("。", "！", "？", "!", "?", "；", ";", "：", ":")
FIELD_LABEL_RE = re.compile(r"^\s*[\u4e00-\u9fff]{2,10}\s*[:：]")
"""A line opening with ``标签：`` starts a new field, it does not continue the line before."""
PAGE_FURNITURE_RE = re.compile(
    r"^[\s\-—–－_·•]*(?:第\s*)?\d{1,5}(?:\s*页)?(?:\s*/\s*(?:共\s*)?\d{1,5}\s*页?)?[\s\-—–－_·•]*$"
)
"""A page number line (``— 22 —``, ``第 3 页``): never part of a paragraph."""
RIGHT_MARGIN_LINES = 2.0
"""A line ends "at the right margin" within this many line heights of the page's rightmost text."""
MAX_VALUE_CHARS = 40
"""A fact's value phrase (number, unit, suffix) is searched in this many characters at a clause's end."""
MAX_OPERATOR_CHARS = 8
NAME_MIN_CHARS, NAME_MAX_CHARS = 2, 80
NOT_NAMES = frozenset(
    {"完成", "开展", "举办", "实现", "达到", "累计", "共计", "新增", "服务", "参与", "其中", "合计"}
)
"""Words that are not an indicator's name on their own (``完成12部宣传片`` is no fact)."""

# ---------------------------------------------------------------- patterns (data, one line per phrasing)

NUMBER = f"(?:{NUMBER_RE.pattern})"
UNSIGNED_NUMBER_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
"""A number as printed in a fact (``2,340``, ``91.91``); a dash before it is a range, not a sign."""
_ALTERNATION = "|".join
_OPERATOR_PREFIX = _ALTERNATION(
    re.escape(word) for word in sorted([*OPERATOR_WORDS, *OPERATOR_SYMBOLS], key=len, reverse=True)
)
_UNIT = r"(?:%|‰|[（(][^()（）]{1,8}[)）]|[A-Za-z]{1,6}|[\u4e00-\u9fff]{1,4})?"
_SUFFIX = "(?:" + _ALTERNATION(sorted(OPERATOR_SUFFIXES, key=len, reverse=True)) + "|左右)?"
_BOUNDARY = r"(?=[，,。；;！？!?）)\s]|$)"

VALUE_TAIL_RE = re.compile(rf"\s*{_UNIT}{_SUFFIX}\s*")
"""What may follow the number of a fact up to the end of its clause: unit and operator suffix."""
OPERATOR_BEFORE_RE = re.compile(rf"(?:{_OPERATOR_PREFIX})\s*$")
CONNECTOR_RE = re.compile(r"(?:[:：\s]|达到|达|为|是)+$")
"""Words between an indicator's name and its value that belong to neither."""
_VALUE_PHRASE = rf"(?:{_OPERATOR_PREFIX})?\s*{NUMBER}\s*{_UNIT}{_SUFFIX}"
LABEL_VALUE = rf"\s*(?:为|是|达到|达|：|:)?\s*(?P<value>{_VALUE_PHRASE}){_BOUNDARY}"
TARGET_RE = re.compile(rf"(?:年度指标值|年度目标值|指标值|目标值|目标为|目标是|计划值|预期值){LABEL_VALUE}")
ACTUAL_RE = re.compile(rf"(?:实际完成值|实际完成|完成值|实际值|实际为){LABEL_VALUE}")

CLAUSE_SPLIT_RE = re.compile(r"[，；;。！？!?]|,(?!\d)")
SENTENCE_END_RE = re.compile(r"[。；;！？!?]+")
ENUMERATED_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s。；;：:，,]))\s*(?:\d{1,2}[.、．](?!\d)|[（(]\d{1,2}[)）]|[①-⑳])"
)
"""The start of a numbered fact: ``1.`` ``2、`` ``（3）`` ``④`` at the start or after punctuation."""
ENUMERATOR_PREFIX_RE = re.compile(r"^\s*(?:\d{1,2}[.、．](?!\d)|[（(]\d{1,2}[)）]|[①-⑳])\s*")

INDICATOR_MARKER_RE = re.compile(
    r"^\s*(?:[（(]?[一二三四五六七八九十\d]{1,3}[)）、.．]\s*)?(?:年度)?(?:绩效)?指标(?:完成|实现)情况(?:如下)?\s*[:：]?"
)
COMPLETION_RE = re.compile(r"(?:完成|达到|实现)(?:了)?(?:年度|预期)(?:绩效)?(?:指标|目标)")
"""``完成年度绩效指标`` / ``未完成年度绩效指标`` / ``达到预期目标``: the sentence reports an indicator."""

HEADING_LEVELS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^\s*第[一二三四五六七八九十\d]+部分\s*"), 0),
    (re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]\s*"), 1),
    (re.compile(r"^\s*[（(]\s*[一二三四五六七八九十]+\s*[)）]\s*"), 2),
    (re.compile(r"^\s*\d{1,2}\s*[.、．](?!\d)\s*"), 3),
    (re.compile(r"^\s*[（(]\s*\d{1,2}\s*[)）]\s*"), 4),
    (re.compile(r"^\s*[①-⑳]\s*"), 5),
)
"""Enumerator of a heading -> its level (0 is the outermost)."""
HEADING_STYLE_RE = re.compile(r"(?:heading|标题|title)\s*(\d?)", re.IGNORECASE)
PROJECT_ENDINGS = ("项目", "专项", "经费", "专项资金", "工程")
NOT_PROJECT_WORDS = ("情况", "分析", "说明", "概况", "评价", "绩效", "结论", "问题", "措施", "建议", "成效")
"""Words that make a heading a report section rather than a project (``1.人员类项目绩效分析``)."""

MONEY_LABELS: dict[str, str] = {
    "年度支出预算数": "initial", "年度预算数": "initial", "全年预算数": "initial", "年初预算数": "initial",
    "年初预算": "initial", "预算数": "initial", "预算金额": "initial", "年度预算": "initial",
    "调整后预算数": "adjusted", "调整后预算": "adjusted", "调整预算数": "adjusted",
    "预算完成数": "executed", "预算执行数": "executed", "实际支出数": "executed", "实际支出": "executed",
    "执行数": "executed", "支出数": "executed", "完成数": "executed",
}  # fmt: skip
"""Label before an amount in a budget sentence -> budget field."""
RATE_LABELS = ("预算执行率", "执行率", "完成预算的", "预算完成率")
_CONNECT = r"\s*(?:为|是|达到|达|：|:)?\s*"
MONEY_RE = re.compile(
    rf"(?P<label>{_ALTERNATION(sorted(MONEY_LABELS, key=len, reverse=True))}){_CONNECT}"
    rf"(?P<number>{NUMBER})\s*(?P<unit>万元|元)"
)
RATE_RE = re.compile(rf"(?:{_ALTERNATION(RATE_LABELS)}){_CONNECT}(?P<number>{NUMBER})\s*%")


# ---------------------------------------------------------------- small typed pieces


@dataclass(frozen=True)
class Line:
    """One prose paragraph: a text item, or consecutive items that continue each other (a paragraph
    an OCR engine cut into lines), read as one text. ``starts`` are the items' offsets in ``doc.text()``.
    """

    items: tuple[TextItem, ...]
    starts: tuple[int, ...]

    @cached_property
    def text(self) -> str:
        return "".join(item.text for item in self.items)

    @property
    def item(self) -> TextItem:
        return self.items[0]

    @cached_property
    def _bounds(self) -> list[int]:
        """Offset in ``text`` where each item starts, then the total length."""
        return list(itertools.accumulate((len(item.text) for item in self.items), initial=0))

    def _item_at(self, offset: int, at_end: bool) -> int:
        index = (
            bisect.bisect_left(self._bounds, offset) - 1
            if at_end
            else bisect.bisect_right(self._bounds, offset) - 1
        )
        return min(max(index, 0), len(self.items) - 1)

    def doc_span(self, start: int, end: int) -> tuple[int, int]:
        """A span of ``text`` as the span of ``doc.text()`` it covers (items are joined by newlines there)."""
        first, last = self._item_at(start, at_end=False), self._item_at(end, at_end=True)
        return (
            self.starts[first] + start - self._bounds[first],
            self.starts[last] + end - self._bounds[last],
        )

    def items_in(self, start: int, end: int) -> tuple[TextItem, ...]:
        """The items a span of ``text`` touches."""
        first, last = self._item_at(start, at_end=False), self._item_at(end, at_end=True)
        return self.items[first : last + 1]


@dataclass(frozen=True)
class Phrase:
    """A piece of a sentence; offsets relative to the sentence."""

    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True)
class Sentence(Phrase):
    """A sentence (or one numbered fact) with its offsets in the paragraph's text."""


@dataclass(frozen=True)
class FactMatch:
    """An indicator fact in one sentence: its name, the value achieved and the target, as printed."""

    name: Phrase
    actual: Phrase | None = None
    target: Phrase | None = None

    @property
    def span(self) -> tuple[int, int]:
        """Sentence-relative span covering name, actual and target."""
        parts = [p for p in (self.name, self.actual, self.target) if p is not None]
        return min(p.start for p in parts), max(p.end for p in parts)


@dataclass(frozen=True)
class BudgetMatch:
    unit: str | None = None
    initial: float | None = None
    adjusted: float | None = None
    executed: float | None = None
    execution_rate: float | None = None

    def to_budget(self) -> Budget:
        return Budget(
            unit=self.unit,
            initial=self.initial,
            adjusted=self.adjusted,
            executed=self.executed,
            execution_rate=self.execution_rate,
        )


@dataclass(frozen=True)
class Heading:
    level: int
    title: str


@dataclass(frozen=True)
class LineContext:
    """A line with the project heading it falls under and whether it states indicator facts."""

    line: Line
    project: str | None
    in_indicator_section: bool = False
    facts_from: int = 0
    """Offset in the line where its facts start (after an ``指标完成情况：`` label)."""
    is_heading: bool = False


# ---------------------------------------------------------------- 1. lines


@dataclass(frozen=True)
class PageGeometry:
    """Where a page's text lines end on the right, and the height of one line of text."""

    right: float
    line_height: float


def page_geometry(items: list[TextItem]) -> dict[int, PageGeometry]:
    """Per page: the rightmost text edge and the smallest line height (items with a bbox only)."""
    boxes: dict[int, list[BBox]] = {}
    for item in items:
        if item.bbox is not None and item.bbox[3] > item.bbox[1]:
            boxes.setdefault(item.page, []).append(item.bbox)
    return {
        page: PageGeometry(max(b[2] for b in found), min(b[3] - b[1] for b in found))
        for page, found in boxes.items()
    }


def continues(previous: TextItem, item: TextItem, geometry: dict[int, PageGeometry]) -> bool:
    """Whether ``item`` carries on the paragraph ``previous`` was cut from (geometry required).

    The previous line runs to the right margin without ending its sentence, and the next one sits
    right below it (or opens the next page); neither is a heading, a label or a numbered item.
    """
    if previous.bbox is None or item.bbox is None or previous.page not in geometry:
        return False
    if previous.text.rstrip().endswith(PARAGRAPH_ENDINGS):
        return False
    if parse_heading(previous.text, previous.style) or parse_heading(item.text, item.style):
        return False
    if (
        indicator_marker_end(item.text) is not None
        or is_numbered(item.text)
        or FIELD_LABEL_RE.match(item.text)
    ):
        return False
    if PAGE_FURNITURE_RE.match(previous.text) or PAGE_FURNITURE_RE.match(item.text):
        return False
    page = geometry[previous.page]
    if previous.bbox[2] < page.right - RIGHT_MARGIN_LINES * page.line_height:
        return False
    if item.page == previous.page + 1:
        return True
    gap = item.bbox[1] - previous.bbox[3]
    return item.page == previous.page and -page.line_height / 2 <= gap <= page.line_height


def prose_lines(doc: Document) -> list[Line]:
    """Paragraphs of prose in body order with their offsets; picture text and blank items left out.

    Items are paragraphs as the reader gave them, except that lines of one paragraph an OCR engine
    returned separately (``…执行率`` / ``100%。``) are joined again (see ``continues``).
    """
    entries = [
        (item, start)
        for item, start in zip(doc.items(), doc.text_offsets(), strict=True)
        if item.style != PICTURE_TEXT_STYLE and item.text.strip()
    ]
    geometry = page_geometry([item for item, _ in entries])
    table_orders = sorted(table.order for table in doc.tables)
    groups: list[list[tuple[TextItem, int]]] = []
    for item, start in entries:
        previous = groups[-1][-1][0] if groups else None
        table_between = previous is not None and _table_between(table_orders, previous.order, item.order)
        if previous is not None and not table_between and continues(previous, item, geometry):
            groups[-1].append((item, start))
        else:
            groups.append([(item, start)])
    return [Line(tuple(i for i, _ in group), tuple(s for _, s in group)) for group in groups]


def _table_between(table_orders: list[int], first: int, second: int) -> bool:
    index = bisect.bisect_right(table_orders, first)
    return index < len(table_orders) and table_orders[index] < second


# ---------------------------------------------------------------- 2. sections and projects


def parse_heading(text: str, style: str | None = None) -> Heading | None:
    """The level and title of a heading line, or None for a line of prose or a fact."""
    stripped = text.strip()
    if not stripped or len(stripped) > HEADING_MAX_CHARS or SENTENCE_END_RE.search(stripped):
        return None
    if re.search(r"[:：].", stripped) or _ends_with_value(stripped):
        return None
    style_match = HEADING_STYLE_RE.search(style or "")
    for pattern, level in HEADING_LEVELS:
        match = pattern.match(stripped)
        if match and stripped[match.end() :].strip():
            return Heading(level, stripped[match.end() :].strip())
    if style_match:
        return Heading(int(style_match.group(1) or 1), stripped)
    return None


def project_title(heading: Heading) -> str | None:
    """The project a heading names (``（1）妇联活动…专项经费项目``), or None for a report section."""
    title = clean_text(heading.title)
    if not title.endswith(PROJECT_ENDINGS) or any(word in title for word in NOT_PROJECT_WORDS):
        return None
    return title


def indicator_marker_end(text: str) -> int | None:
    """End of a leading ``指标完成情况：`` label, or None when the line does not start with one."""
    match = INDICATOR_MARKER_RE.match(text)
    return match.end() if match else None


def is_numbered(text: str) -> bool:
    return ENUMERATOR_PREFIX_RE.match(text) is not None


def assign_sections(lines: list[Line]) -> list[LineContext]:
    """Walk the lines once: the project heading each line falls under, and indicator sections.

    A project heading opens a project until a heading of the same or an outer level. An
    indicator label (``指标完成情况：``) marks its own line and the numbered lines right after it;
    the section ends at the first heading or unnumbered line.
    """
    contexts: list[LineContext] = []
    project: str | None = None
    project_level = 0
    in_section = False
    for line in lines:
        heading = parse_heading(line.text, line.item.style)
        marker = indicator_marker_end(line.text)
        if heading is not None and marker is None:
            in_section = False
            name = project_title(heading)
            if name is not None:
                project, project_level = name, heading.level
            elif project is not None and heading.level <= project_level:
                project = None
            contexts.append(LineContext(line, project, is_heading=True))
            continue
        if marker is not None:
            in_section = True
            contexts.append(LineContext(line, project, in_indicator_section=True, facts_from=marker))
            continue
        in_section = in_section and is_numbered(line.text)
        contexts.append(LineContext(line, project, in_indicator_section=in_section))
    return contexts


# ---------------------------------------------------------------- 3. sentences


def split_sentences(text: str, start: int = 0) -> list[Sentence]:
    """Sentences ending at 。；！？ and numbered facts (``1.…2.…``), offsets shifted by ``start``."""
    cuts = {0, len(text)}
    cuts.update(m.end() for m in SENTENCE_END_RE.finditer(text))
    cuts.update(m.start() for m in ENUMERATED_RE.finditer(text))
    bounds = sorted(cuts)
    sentences = []
    for left, right in itertools.pairwise(bounds):
        piece = text[left:right]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        if piece:
            sentences.append(Sentence(piece, start + left + lead))
    return sentences


# ---------------------------------------------------------------- 4. budget sentences


def match_budget(text: str) -> BudgetMatch | None:
    """Budget figures a sentence states; None unless it has an amount and at least two figures."""
    fields: dict[str, float] = {}
    unit: str | None = None
    for match in MONEY_RE.finditer(text):
        key = MONEY_LABELS[match.group("label")]
        number = parse_number(match.group("number"))
        if number is not None and key not in fields:
            fields[key] = number
            unit = unit or match.group("unit")
    if not fields:
        return None
    rate = RATE_RE.search(text)
    if rate:
        number = parse_number(rate.group("number"))
        if number is not None:
            fields["execution_rate"] = number
    if len(fields) < 2:
        return None
    return BudgetMatch(unit=unit, **fields)


# ---------------------------------------------------------------- 5. indicator facts


def _body_start(text: str) -> int:
    match = ENUMERATOR_PREFIX_RE.match(text)
    return match.end() if match else 0


def _valid_name(name: str) -> bool:
    return (
        NAME_MIN_CHARS <= len(name) <= NAME_MAX_CHARS
        and re.search(r"[\u4e00-\u9fff]", name) is not None
        and COMPLETION_RE.search(name) is None
        and name not in NOT_NAMES
    )


def _name_phrase(text: str, start: int, end: int) -> Phrase | None:
    """The indicator name in ``text[start:end]``: connectors and punctuation trimmed off its end."""
    raw = text[start:end]
    if len(raw) > NAME_MAX_CHARS + MAX_OPERATOR_CHARS:
        return None
    trimmed = CONNECTOR_RE.sub("", raw.rstrip("，,；; ")).rstrip()
    lead = len(trimmed) - len(trimmed.lstrip())
    name = trimmed.strip()
    return Phrase(name, start + lead) if _valid_name(name) else None


def _ends_with_value(clause: str) -> bool:
    return _value_at_end(clause, 0) is not None


def _value_at_end(clause: str, offset: int) -> Phrase | None:
    """The value phrase closing a clause: the last number whose tail is only a unit and a suffix."""
    window = max(0, len(clause) - MAX_VALUE_CHARS)
    for match in reversed(list(UNSIGNED_NUMBER_RE.finditer(clause, window))):
        if not VALUE_TAIL_RE.fullmatch(clause, match.end()):
            continue
        start = match.start()
        operator = OPERATOR_BEFORE_RE.search(clause, max(0, start - MAX_OPERATOR_CHARS), start)
        if operator:
            start = operator.start()
        end = len(clause.rstrip())
        return Phrase(clause[start:end], offset + start)
    return None


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clause spans of ``text[start:end]`` split at ，；。 and at an ASCII comma that is no digit group."""
    cuts = [start, *(m.start() for m in CLAUSE_SPLIT_RE.finditer(text, start, end)), end]
    spans = []
    for left, right in itertools.pairwise(cuts):
        left = left if left == start else left + 1
        if text[left:right].strip():
            spans.append((left, right))
    return spans


def clause_facts(text: str, start: int, end: int) -> list[FactMatch]:
    """``name value`` clauses (``信访案件办结率100%``) in ``text[start:end]``."""
    facts = []
    for left, right in _clauses(text, start, end):
        value = _value_at_end(text[left:right], left)
        if value is None:
            continue
        name = _name_phrase(text, left, value.start)
        if name is not None:
            facts.append(FactMatch(name=name, actual=value))
    return facts


def _labelled(pattern: re.Pattern[str], text: str, start: int) -> tuple[int, Phrase] | None:
    """(label start, value phrase) of the first ``年度指标值…`` / ``实际完成值…`` in the text."""
    match = pattern.search(text, start)
    if match is None:
        return None
    return match.start(), Phrase(match.group("value").strip(), match.start("value"))


def match_facts(text: str) -> list[FactMatch]:
    """Indicator facts of one sentence; offsets are relative to ``text``.

    ``信访案件办结率100%，完成年度绩效指标。`` -> name 信访案件办结率, actual 100%. A labelled form
    (``服务对象满意度：年度指标值≥95%，实际完成值98%``) gives target and actual by their labels.
    """
    body = _body_start(text)
    target = _labelled(TARGET_RE, text, body)
    actual = _labelled(ACTUAL_RE, text, body)
    if target is None and actual is None:
        return clause_facts(text, body, len(text))
    first_label = min(found[0] for found in (target, actual) if found is not None)
    target_value = target[1] if target else None
    if actual is not None:
        name = _name_phrase(text, body, first_label)
        return [FactMatch(name=name, actual=actual[1], target=target_value)] if name else []
    before = clause_facts(text, body, first_label)
    if before:
        return [FactMatch(name=before[0].name, actual=before[0].actual, target=target_value)]
    name = _name_phrase(text, body, first_label)
    if name is None or target_value is None:
        return []
    after = [
        value
        for left, right in _clauses(text, target_value.end, len(text))
        if (value := _value_at_end(text[left:right], left))
    ]
    return [FactMatch(name=name, actual=after[0] if after else None, target=target_value)]


# ---------------------------------------------------------------- 6. records


def _norm_name(name: str) -> str:
    return clean_text(unicodedata.normalize("NFKC", name))


def match_known_project(title: str, known: list[Project]) -> Project | None:
    """The table project a heading names: same name, or one name containing the other."""
    wanted = _norm_name(title)
    for project in known:
        have = _norm_name(project.name or "")
        if have and (
            have == wanted or (min(len(have), len(wanted)) >= 4 and (have in wanted or wanted in have))
        ):
            return project
    return None


def _value(phrase: Phrase | None) -> Value | None:
    return parse_value(phrase.text)[0] if phrase is not None else None


def _provenance(line: Line, start: int, end: int) -> Provenance:
    """Reader, page, bbox (the union of the touched items' boxes on one page) and char span."""
    touched = line.items_in(start, end)
    first = touched[0]
    boxes = [item.bbox for item in touched if item.page == first.page and item.bbox is not None]
    bbox = (
        (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        if boxes
        else None
    )
    return Provenance(
        reader=first.reader or "text", page=first.page, bbox=bbox, char_span=line.doc_span(start, end)
    )


@dataclass
class _Collected:
    """Mutable accumulator of one pass over the lines (local to ``records_from_text``)."""

    projects: dict[str, Project] = field(default_factory=dict)
    department_budget: Budget | None = None
    facts: list[NarrativeIndicator] = field(default_factory=list)
    seen_facts: set[tuple[str | None, str, str]] = field(default_factory=set)


def _merge_budget(old: Budget, new: BudgetMatch) -> Budget:
    """Fill the fields ``old`` lacks from a budget sentence."""
    updates = {
        k: v for k, v in new.to_budget().model_dump().items() if v is not None and getattr(old, k) is None
    }
    return old.model_copy(update=updates)


def _facts_of_line(
    ctx: LineContext, missed: list[Sentence] | None = None
) -> list[tuple[Sentence, FactMatch, float]]:
    """Facts of one line with their sentence and confidence, from marked contexts only.

    Marked sentences the rules read nothing in are appended to ``missed`` (for the token classifier).
    """
    text = ctx.line.text[ctx.facts_from :]
    found = []
    for sentence in split_sentences(text, ctx.facts_from):
        if ctx.in_indicator_section:
            confidence = MARKED_CONFIDENCE
        elif COMPLETION_RE.search(sentence.text):
            confidence = SENTENCE_MARKED_CONFIDENCE
        else:
            continue
        facts = match_facts(sentence.text)
        found.extend((sentence, fact, confidence) for fact in facts)
        if not facts and missed is not None:
            missed.append(sentence)
    return found


def _classifier_facts(
    missed: list[Sentence], found_any: bool
) -> tuple[list[tuple[Sentence, FactMatch, float]], str | None]:
    """Facts the token classifier (``zhibiao.models``) reads in sentences the rules missed, and a
    warning when a line with facts meets an unavailable classifier (rules only)."""
    if not missed and not found_any:
        return [], None
    try:
        from zhibiao.models.narrative_source import TAGGER_CONFIDENCE, fallback_facts, unavailable_reason
    except ImportError as exc:  # the models package is optional at run time
        return [], f"narrative facts: token classifier unavailable ({exc}), rules only"
    reason = unavailable_reason()
    if reason is not None or not missed:
        return [], reason
    facts = fallback_facts([sentence.text for sentence in missed])
    pairs = zip(missed, facts, strict=True)
    return [(sentence, fact, TAGGER_CONFIDENCE) for sentence, found in pairs for fact in found], None


def _fact_record(
    line: Line, sentence: Sentence, fact: FactMatch, project: str | None, confidence: float
) -> NarrativeIndicator:
    left, right = fact.span
    return NarrativeIndicator(
        project=project,
        name=fact.name.text,
        target=_value(fact.target),
        actual=_value(fact.actual),
        sentence=sentence.text,
        confidence=confidence,
        provenance=_provenance(line, sentence.start + left, sentence.start + right),
    )


def records_from_text(doc: Document, known: RecordSet) -> RecordSet:
    """Narrative budgets and indicator facts of ``doc`` added to what the tables gave (``known``).

    A project the tables already gave (matched by name) is not repeated. Where tables gave projects,
    only indicator facts (and a department budget the tables lack) are added: no narrative projects
    or project budgets. Department and year come from the tables when they have them, else from the
    document's titles.
    """
    tables_gave_projects = bool(known.projects)
    collected = _Collected()
    warnings: list[str] = []
    for ctx in assign_sections(prose_lines(doc)):
        if ctx.is_heading:
            continue
        known_project = match_known_project(ctx.project, known.projects) if ctx.project else None
        project_name = known_project.name if known_project else ctx.project
        _collect_budgets(ctx, collected, projects_allowed=not tables_gave_projects)
        missed: list[Sentence] = []
        found = _facts_of_line(ctx, missed)
        extra, warning = _classifier_facts(missed, bool(found))
        if warning and warning not in warnings:
            warnings.append(warning)
        for sentence, fact, confidence in [*found, *extra]:
            record = _fact_record(ctx.line, sentence, fact, project_name, confidence)
            key = (record.project, record.name, record.actual.text if record.actual else "")
            if key in collected.seen_facts:
                continue
            collected.seen_facts.add(key)
            collected.facts.append(record)
            if ctx.project and not known_project and not tables_gave_projects:
                collected.projects.setdefault(ctx.project, _new_project(ctx))
    department, year = department_and_year(doc)
    return known.model_copy(
        update={
            "department": known.department or department,
            "year": known.year or year,
            "department_budget": known.department_budget or collected.department_budget,
            "projects": [*known.projects, *collected.projects.values()],
            "narrative_indicators": [*known.narrative_indicators, *collected.facts],
            "warnings": [*known.warnings, *warnings],
        }
    )


def _new_project(
    ctx: LineContext, budget: Budget | None = None, span: tuple[int, int] | None = None
) -> Project:
    start, end = span or (0, len(ctx.line.text))
    return Project(
        name=ctx.project,
        family=FAMILY,
        budget=budget or Budget(),
        provenance=_provenance(ctx.line, start, end),
    )


def _collect_budgets(ctx: LineContext, collected: _Collected, projects_allowed: bool) -> None:
    """Budget sentences of a line go to its project, or to the department outside any project."""
    for sentence in split_sentences(ctx.line.text):
        found = match_budget(sentence.text)
        if found is None:
            continue
        if ctx.project is None:
            if collected.department_budget is None:
                collected.department_budget = found.to_budget()
            continue
        if not projects_allowed:
            continue
        current = collected.projects.get(ctx.project)
        if current is None:
            collected.projects[ctx.project] = _new_project(
                ctx, found.to_budget(), (sentence.start, sentence.end)
            )
        else:
            collected.projects[ctx.project] = current.model_copy(
                update={"budget": _merge_budget(current.budget, found)}
            )
