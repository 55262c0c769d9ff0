"""Which department and which year a document reports on.

``department_and_year(doc)`` reads them from title-ish lines near the top of the document
(``广州市荔湾区妇女联合会 2022 年部门整体 支出绩效自评报告``, ``自贡市妇女联合会`` over
``2022年度单位决算编制的说明``, ``（2021年度）``), from table titles / top cells, then from a
``主管部门`` field; a year also from a ``（2022年度）`` marker anywhere. Never from arbitrary prose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from zhibiao.model import Document, Table
from zhibiao.records.values import clean_text

TITLE_WINDOW = 12
"""How many non-empty text items at the top of a document count as its title block."""
TITLE_MAX_CHARS = 60
TABLE_TOP_ROWS = 3
"""Rows of a table whose cells may hold a title (a workbook has no text items)."""
MARKER_SCAN_ITEMS = 400
"""How many text items are searched for a ``（2022年度）`` marker when the title gives no year."""
MIN_YEAR, MAX_YEAR = 2000, 2100

_RANGE_CHARS = r"\d\-－—–~～至到"
TITLE_YEAR_RE = re.compile(
    rf"(?<![{_RANGE_CHARS}])((?:20|21)\d\d)\s*年(?:度)?(?!\s*\d{{1,2}}\s*月)(?![{_RANGE_CHARS}])"
)
"""``2022 年`` / ``2022年度`` in a title, not a date (``2022年12月``) nor a range (``2021-2030年``)."""
YEAR_MARKER_RE = re.compile(r"[（(]\s*((?:20|21)\d\d)\s*年度\s*[)）]")
"""``（2021年度）`` — the form's fiscal-year marker, valid anywhere."""

ORG_SUFFIXES = (
    "联合会", "委员会", "总工会", "工会", "协会", "学会", "政府", "办事处", "办公室", "管理局", "局", "厅",
    "委", "中心", "院", "所", "站", "馆", "部", "处", "队", "社", "团", "学校", "医院", "公司", "集团",
)  # fmt: skip
"""How the name of an agency ends."""
ORG_RE = re.compile(rf"[\u4e00-\u9fff（）()]{{2,40}}?(?:{'|'.join(ORG_SUFFIXES)})(?:部门)?")
ENUMERATOR_RE = re.compile(
    r"^\s*(?:第[一二三四五六七八九十\d]+部分|[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+[、.．]|\d+[、.．])"
)
DEPARTMENT_FIELD_RE = re.compile(
    r"主管部门(?:名称)?\s*[:：]?\s*(?:（盖章）)?\s*(?P<name>[^\s:：]{2,40}?)(?=\s|实施单位|$)"
)
DEPARTMENT_LABELS = ("主管部门", "主管部门名称", "主管部门（盖章）")
LEADING_WORDS = ("关于",)
FIELD_LABELS = ("主管部门", "实施单位", "项目名称", "单位名称", "部门名称", "填报单位", "预算单位")
"""A line holding one of these is a form's field row, not a title."""


def department_and_year(doc: Document) -> tuple[str | None, int | None]:
    """The reporting department and year of a document, each None where nothing reliable says it."""
    titles = title_lines(doc)
    department = department_from_titles(titles) or department_from_fields(doc)
    department = agency_of(department) if department else None
    year = year_from_titles(titles) or year_from_markers(doc)
    return department, year


def title_lines(doc: Document) -> list[str]:
    """Short lines at the top of the document, then table titles and the top cells of each table."""
    lines: list[str] = []
    for item in doc.items():
        if item.style == "picture-text":
            continue
        text = " ".join(item.text.split())
        if not text:
            continue
        if len(text) <= TITLE_MAX_CHARS:
            lines.append(text)
        if len(lines) >= TITLE_WINDOW:
            break
    for table in doc.tables:
        lines.extend(_table_title_texts(table))
    return lines


def _table_title_texts(table: Table) -> Iterator[str]:
    if table.title:
        yield " ".join(table.title.split())
    for cell in table.cells:
        text = " ".join(cell.text.split())
        if cell.row < TABLE_TOP_ROWS and text and len(text) <= TITLE_MAX_CHARS:
            yield text


def plausible_year(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def year_in_title(line: str) -> int | None:
    """The reporting year a title line states (``2022 年部门整体…``, ``（2021年度）``)."""
    for match in TITLE_YEAR_RE.finditer(line):
        year = int(match.group(1))
        if plausible_year(year):
            return year
    return None


def year_from_titles(lines: Iterable[str]) -> int | None:
    return next((year for line in lines if (year := year_in_title(line)) is not None), None)


def year_from_markers(doc: Document) -> int | None:
    """A ``（2022年度）`` marker in the first text items (bounded scan)."""
    for count, item in enumerate(doc.items()):
        if count >= MARKER_SCAN_ITEMS:
            break
        match = YEAR_MARKER_RE.search(item.text)
        if match and plausible_year(int(match.group(1))):
            return int(match.group(1))
    return None


def organisation_name(text: str) -> str | None:
    """``text`` itself when it is an agency's name (``自贡市妇女联合会``), else None."""
    name = clean_text(text)
    for word in LEADING_WORDS:
        name = name.removeprefix(word)
    if ENUMERATOR_RE.match(text) or any(mark in name for mark in ":：。，,"):
        return None
    if any(label in name for label in FIELD_LABELS):
        return None
    return name if ORG_RE.fullmatch(name) else None


def department_in_title(line: str) -> str | None:
    """The agency a title names: the whole line, or the part before the year (``X 2022 年…报告``)."""
    whole = organisation_name(line)
    if whole:
        return whole
    match = TITLE_YEAR_RE.search(line)
    if match is None:
        return None
    return organisation_name(line[: match.start()])


def department_from_titles(lines: Iterable[str]) -> str | None:
    return next((name for line in lines if (name := department_in_title(line))), None)


def department_from_fields(doc: Document) -> str | None:
    """The value of a ``主管部门`` field, in a table row or in a line of text."""
    for table in doc.tables:
        name = _field_in_table(table, DEPARTMENT_LABELS)
        if name:
            return name
    for item in doc.items():
        match = DEPARTMENT_FIELD_RE.search(item.text)
        if match:
            return match.group("name")
    return None


def agency_of(department: str) -> str:
    """``自贡市妇女联合会部门`` (the budget 部门 a form names) -> ``自贡市妇女联合会``."""
    stripped = department.removesuffix("部门")
    return stripped if stripped != department and organisation_name(stripped) else department


def _field_in_table(table: Table, labels: tuple[str, ...]) -> str | None:
    """The first non-empty cell right of a label cell, skipping the label's own merged slots."""
    for row in table.text_rows():
        cleaned = [clean_text(text) for text in row]
        for col, text in enumerate(cleaned):
            if text not in labels:
                continue
            value = next((v for v in cleaned[col + 1 :] if v and v != text), None)
            if value and value not in labels:
                return value
    return None
