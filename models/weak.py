"""The weak-label data set: table rows rendered into sentences, narrative rules, gold facts, annotators.

``build_examples(gold_dir, text_dir)`` gathers

- every indicator row of the gold records (``gold/NNN.json``: name / operator / target / unit /
  actual cells) rendered into report sentence patterns (``render``), one group per project form;
- the prose of the reports' texts split into sentences: sentences the narrative rules read as facts
  (an ``指标完成情况`` section or a ``完成年度绩效指标`` sentence) labelled by ``rule_spans``, a sample
  of plain sentences without any fact as negatives, and, where the gold lists the report's
  narrative facts, those facts' spans instead of the rules';
- synthetic rows (indicator names composed from a small domain vocabulary), always in train.

Splits are made by group (document), never by sentence (``assign_splits``).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from zhibiao.annotations.spans import rule_spans
from zhibiao.models.examples import SPLITS, Example, Span, valid_spans
from zhibiao.models.render import Row, render_row

GOLD_LABELS = {"NAME": "INDICATOR"}
MAX_SENTENCE_CHARS = 160
MIN_NEGATIVE_CHARS = 6
MIN_CLAUSE_CHARS = 4
CLAUSE_RE = re.compile(r"[，,；;：:。]")
REACH_WORDS = ("达到",)
"""Printed right before a value, a reach word is an OP (``annotations/GUIDELINES.md``)."""


@dataclass(frozen=True)
class BuildConfig:
    """What the data builder reads and how much it renders (all of it is recorded in the config file)."""

    gold_dir: str
    text_dir: str
    seed: int = 13
    renderings_per_row: int = 6
    synthetic_rows: int = 600
    negatives_per_doc: int = 120
    test_groups: tuple[str, ...] = ()
    dev_groups: tuple[str, ...] = ()
    extra_data: tuple[str, ...] = ()
    max_examples: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("test_groups", "dev_groups", "extra_data"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


# ---------------------------------------------------------------- table rows


def doc_stem(gold: dict[str, Any], path: Path) -> str:
    return Path(str(gold.get("doc") or path.stem)).stem


def gold_rows(gold_dir: Path) -> list[Row]:
    """Indicator rows of every gold file; the group is the document, or ``doc#pN`` per project form."""
    rows = []
    for path in sorted(gold_dir.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        stem = doc_stem(gold, path)
        projects = gold.get("projects") or []
        for number, project in enumerate(projects, start=1):
            group = f"{stem}#p{number}" if len(projects) > 1 else stem
            rows.extend(_row(indicator, group) for indicator in project.get("indicators") or [])
        rows.extend(_row(fact, stem) for fact in gold.get("narrative") or [])
    return [row for row in rows if row.name]


def _printed(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("text")
    return None if value is None else str(value)


def _row(record: dict[str, Any], group: str) -> Row:
    return Row(
        name=str(record.get("name") or ""),
        operator=_printed(record.get("operator")),
        target=_printed(record.get("target")),
        unit=_printed(record.get("unit")),
        actual=_printed(record.get("actual")),
        group=group,
    )


def rendered_examples(
    rows: Iterable[Row], rng: random.Random, count: int, source: str = "table"
) -> list[Example]:
    """Every row rendered ``count`` times at most, as examples of the row's group."""
    examples = []
    for row in rows:
        for fragment in render_row(rng, row, count):
            spans = with_reach_operators(fragment.text, fragment.spans)
            examples.append(Example(fragment.text, spans, row.group, source))
    return examples


# ---------------------------------------------------------------- synthetic rows

SUBJECTS = (
    "服务对象", "受益群众", "参训人员", "妇女儿童", "困难家庭", "项目资金", "合同审核", "信访案件",
    "法律咨询", "政府采购", "培训课程", "宣传活动", "志愿服务", "心理咨询", "家庭教育", "社区活动",
    "补贴对象", "维修工程", "档案整理", "数据上报", "问题整改", "公共服务", "设备采购", "会议筹办",
    "调研报告", "监督检查", "留守儿童", "妇女干部", "困难学生", "执委", "巾帼志愿者", "家长学校",
    "儿童之家", "妇女之家", "信访", "普法宣传", "技能培训", "创业就业", "关爱帮扶", "阵地建设",
    "“六一”儿童节慰问", "“母亲课堂”宣讲", "“最美家庭”评选", "两纲监测统计", "发展规划编制",
)  # fmt: skip
PREFIXES = (
    "", "", "", "", "区级", "市级", "全市", "全区", "县级", "各级", "社区", "农村", "年度", "重点",
    "基层", "城乡", "线上线下", "市县两级",
)  # fmt: skip
MIDDLES = ("", "", "", "", "工作", "活动", "服务", "项目", "场所", "中心", "阶段工作", "相关工作")
"""Pieces a synthetic name is composed of: prefix + subject + middle + head (4 to 20 characters)."""
RATE_HEADS = (
    "满意度", "覆盖率", "及时率", "完成率", "办结率", "合格率", "知晓率", "参与率", "到位率", "执行率",
    "达标率", "验收合格率", "生活改善度", "使用率", "响应率", "按时完成率",
)  # fmt: skip
COUNT_HEADS = (
    ("活动场次", ("场", "场次", "次")), ("培训人次", ("人次",)), ("受益人数", ("人", "名")),
    ("帮扶户数", ("户",)), ("宣传报道", ("篇", "条")), ("建设面积", ("平方米",)), ("服务距离", ("公里",)),
    ("开展讲座", ("场", "期")), ("发放资料", ("份", "册")), ("慰问人数", ("名", "人")),
    ("建成示范点", ("个", "处")), ("完成项目", ("个", "项")), ("补助金额", ("万元", "元")),
)  # fmt: skip
QUALITATIVE = ("优", "良", "合规", "健全", "有效", "提高", "达标", "正常开展")


def synthetic_row(rng: random.Random, number: int) -> Row:
    """A made-up but typical row: a rate or a count with target, operator and actual."""
    group = f"synthetic-{number % 50}"
    subject = rng.choice(PREFIXES) + rng.choice(SUBJECTS) + rng.choice(MIDDLES)
    if rng.random() < 0.5:
        target = rng.choice((80, 85, 90, 95, 98, 100, 60, 70))
        actual = min(100.0, target + rng.choice((0, 0, 1, 2, 5, -3, 3.5, 1.2)))
        actual_text = f"{actual:g}" if rng.random() < 0.7 else f"{actual:.2f}"
        return Row(
            subject + rng.choice(RATE_HEADS),
            rng.choice(("≥", "≥", "=", "≤")),
            str(target),
            "%",
            actual_text,
            group,
        )
    head, units = rng.choice(COUNT_HEADS)
    target_number = rng.choice((1, 2, 3, 5, 10, 12, 20, 30, 50, 100, 200, 500, 1000, 2340))
    actual_number = max(0, target_number + rng.choice((0, 0, 1, 3, -1, 10, 25)))
    actual_text = f"{actual_number:,}" if actual_number >= 1000 and rng.random() < 0.5 else str(actual_number)
    if rng.random() < 0.15:
        return Row(subject + head, "定性", "优良中低差", "", rng.choice(QUALITATIVE), group)
    return Row(
        subject + head,
        rng.choice(("≥", "≥", "=", "≤")),
        str(target_number),
        rng.choice(units),
        actual_text,
        group,
    )


def synthetic_examples(rng: random.Random, rows: int, count: int) -> list[Example]:
    return rendered_examples((synthetic_row(rng, n) for n in range(rows)), rng, count, source="synthetic")


# ---------------------------------------------------------------- narrative text


@dataclass(frozen=True)
class TextSentence:
    """A sentence of a report's text, with its offset in ``doc.text()`` and whether rules read facts there."""

    text: str
    start: int
    marked: bool


def report_sentences(path: Path) -> tuple[str, list[TextSentence]]:
    """The document text of a report file and its prose sentences (table rows left out)."""
    from zhibiao.detect import detect_format
    from zhibiao.readers import get_reader
    from zhibiao.records.narrative import COMPLETION_RE, assign_sections, prose_lines, split_sentences

    data = path.read_bytes()
    doc = get_reader(detect_format(data))(data, path)
    sentences = []
    for ctx in assign_sections(prose_lines(doc)):
        if ctx.is_heading:
            continue
        line = ctx.line
        for sentence in split_sentences(line.text[ctx.facts_from :], ctx.facts_from):
            if "\t" in sentence.text or len(sentence.text) > MAX_SENTENCE_CHARS:
                continue
            marked = ctx.in_indicator_section or COMPLETION_RE.search(sentence.text) is not None
            start, _ = line.doc_span(sentence.start, sentence.end)
            sentences.append(TextSentence(sentence.text, start, marked))
    return doc.text(), sentences


def with_reach_operators(text: str, spans: Iterable[Span]) -> tuple[Span, ...]:
    """Add an OP span on ``达到`` printed right before a TARGET/ACTUAL span."""
    spans = list(spans)
    taken = {(s, e) for s, e, _ in spans}
    for start, _end, label in list(spans):
        for word in REACH_WORDS:
            at = start - len(word)
            if (
                label in ("TARGET", "ACTUAL")
                and at >= 0
                and text[at:start] == word
                and (at, start) not in taken
            ):
                spans.append((at, start, "OP"))
    return valid_spans(spans, len(text))


def gold_text_spans(gold_path: Path, text: str) -> list[Span]:
    """The gold's narrative fact spans located in ``text`` (the eval harness' ``spans_from_facts``)."""
    from zhibiao.annotations.gold import load_gold_file, spans_from_facts

    gold = load_gold_file(gold_path)
    return [(s.start, s.end, GOLD_LABELS.get(s.label, s.label)) for s in spans_from_facts(gold, text)]


def has_narrative_facts(gold: dict[str, Any]) -> bool:
    """Whether the gold lists facts stated in prose (rows with a name and an actual only)."""
    if gold.get("narrative"):
        return True
    return any(
        set(indicator) <= {"name", "actual", "target", "unit"}
        for project in gold.get("projects") or []
        for indicator in project.get("indicators") or []
    )


def sentence_examples(
    group: str,
    sentences: Sequence[TextSentence],
    gold_spans: list[Span] | None,
    rng: random.Random,
    negatives: int,
) -> list[Example]:
    """Examples from a report's sentences: gold (when given) or rule labels, plus sampled negatives."""
    examples: list[Example] = []
    plain_sentences: list[TextSentence] = []
    for sentence in sentences:
        end = sentence.start + len(sentence.text)
        if gold_spans is not None:
            inside = [
                (s - sentence.start, e - sentence.start, lb)
                for s, e, lb in gold_spans
                if sentence.start <= s and e <= end
            ]
            if inside or sentence.marked:
                examples.append(
                    Example(sentence.text, valid_spans(inside, len(sentence.text)), group, "gold")
                )
            elif not rule_spans(sentence.text) and len(sentence.text) >= MIN_NEGATIVE_CHARS:
                plain_sentences.append(sentence)
            continue
        found = rule_spans(sentence.text)
        if sentence.marked and found:
            examples.append(
                Example(sentence.text, with_reach_operators(sentence.text, found), group, "rules")
            )
        elif not found and len(sentence.text) >= MIN_NEGATIVE_CHARS:
            plain_sentences.append(sentence)
    unique = list({s.text: s for s in plain_sentences}.values())
    picked = rng.sample(unique, min(negatives, len(unique)))
    examples.extend(Example(text, (), group, "negative") for s in picked for text in negative_pieces(s.text))
    return examples


def negative_pieces(text: str) -> list[str]:
    """A fact-free sentence and its clauses (``推进巾帼就业计划``): short negatives teach the tagger that
    a sentence start is no indicator by itself."""
    clauses = [c.strip() for c in CLAUSE_RE.split(text) if len(c.strip()) >= MIN_CLAUSE_CHARS]
    return [text, *(c for c in clauses if c != text)]


def text_examples(gold_dir: Path, text_dir: Path, rng: random.Random, negatives: int) -> list[Example]:
    """Sentence examples of every ``*.txt`` report in ``text_dir`` (gold facts where the gold has them)."""
    examples = []
    for path in sorted(text_dir.glob("*.txt")):
        stem = path.stem
        gold_path = gold_dir / f"{stem[:3]}.json"
        text, sentences = report_sentences(path)
        gold_spans = None
        if gold_path.is_file() and has_narrative_facts(json.loads(gold_path.read_text(encoding="utf-8"))):
            gold_spans = gold_text_spans(gold_path, text)
        examples.extend(sentence_examples(stem, sentences, gold_spans, rng, negatives))
    return examples


# ---------------------------------------------------------------- splits and the whole set


def group_document(group: str) -> str:
    """The report a group belongs to (``003_…#p2`` -> ``003_…``)."""
    return group.split("#", 1)[0]


def default_split(group: str) -> str:
    """Split of a group when no group is named: synthetic groups train, the others by hash."""
    if group.startswith("synthetic"):
        return "train"
    bucket = int(hashlib.sha256(group.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "dev" if bucket == 1 else "train"


def assign_splits(
    examples: Iterable[Example], test_groups: Sequence[str], dev_groups: Sequence[str]
) -> list[Example]:
    """Each example's split from its group: named test/dev groups (a report name covers its project
    forms) and train for the rest; ``default_split`` (by hash) only when no group is named. Every
    example of a group lands in the same split."""

    def split_of(group: str) -> str:
        for wanted, split in ((test_groups, "test"), (dev_groups, "dev")):
            if group in wanted or group_document(group) in wanted:
                return split
        return "train" if test_groups or dev_groups else default_split(group)

    return [replace(example, split=split_of(example.group)) for example in examples]


def check_splits(examples: Sequence[Example]) -> None:
    """Raise ``ValueError`` if a group sits in two splits or a split is unknown."""
    seen: dict[str, str] = {}
    for example in examples:
        if example.split not in SPLITS:
            raise ValueError(f"unknown split {example.split!r}")
        if seen.setdefault(example.group, example.split) != example.split:
            raise ValueError(f"group {example.group!r} is in both {seen[example.group]} and {example.split}")


def deduplicate(examples: Iterable[Example]) -> list[Example]:
    """One example per (text, group); the first source wins (gold and annotators come first)."""
    seen: dict[tuple[str, str], Example] = {}
    for example in examples:
        seen.setdefault((example.text, example.group), example)
    return list(seen.values())


@dataclass
class DataSet:
    examples: list[Example]
    version: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def build_examples(config: BuildConfig, extra: Sequence[Example] = ()) -> DataSet:
    """The whole labelled set with splits, deterministic for a config and extra data."""
    from zhibiao.models.examples import data_version

    rng = random.Random(config.seed)
    gold_dir, text_dir = Path(config.gold_dir), Path(config.text_dir)
    parts = [
        *extra,
        *text_examples(gold_dir, text_dir, rng, config.negatives_per_doc),
        *rendered_examples(gold_rows(gold_dir), rng, config.renderings_per_row),
        *synthetic_examples(rng, config.synthetic_rows, max(2, config.renderings_per_row // 2)),
    ]
    examples = assign_splits(deduplicate(parts), config.test_groups, config.dev_groups)
    if config.max_examples is not None:
        examples = examples[: config.max_examples]
    check_splits(examples)
    counts: dict[str, dict[str, int]] = {}
    for example in examples:
        by_source = counts.setdefault(example.split, {})
        by_source[example.source] = by_source.get(example.source, 0) + 1
    return DataSet(examples, data_version(examples), counts)


def groups_of(examples: Iterable[Example], split: str) -> list[str]:
    return sorted({e.group for e in examples if e.split == split})
