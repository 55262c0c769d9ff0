"""What the document says around a table: its title, year and money unit.

A form's title line (项目支出绩效自评表), year line (（2021年度）) and unit line (单位：万元) sit just
above the table as text items, in ``Table.title``, or in a title row inside the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zhibiao.model import Document, Table, TextItem
from zhibiao.records.grid import TableView
from zhibiao.records.headers import money_unit
from zhibiao.records.values import clean_text

MAX_CONTEXT_ITEMS = 8
MAX_TITLE_CHARS = 80
YEAR_PATTERNS = (
    re.compile(r"[(（]\s*((?:19|20)\d{2})\s*年度?\s*[)）]"),
    re.compile(r"((?:19|20)\d{2})\s*年度"),
    re.compile(r"((?:19|20)\d{2})\s*年"),
)
TITLE_HINT_RE = re.compile(r"表|清单|一览")


@dataclass(frozen=True)
class TableContext:
    """The texts that frame one table: nearest last."""

    title: str | None = None
    texts: tuple[str, ...] = ()
    year: int | None = None
    unit: str | None = None


def year_in(texts: list[str]) -> int | None:
    """The report year a title states: ``（2021年度）`` first, then ``2021年度``, then ``2021年``."""
    for pattern in YEAR_PATTERNS:
        for text in texts:
            match = pattern.search(text or "")
            if match:
                return int(match.group(1))
    return None


def title_row(table: Table) -> str | None:
    """Text of a first row that is one cell across the table (a title printed inside the grid)."""
    view = TableView(table)
    if view.n_rows < 2 or view.n_cols < 2:
        return None
    cells = view.row_cells(0)
    if len(cells) == 1 and cells[0].row_span == 1:
        text = clean_text(cells[0].text)
        if TITLE_HINT_RE.search(text) and len(text) <= MAX_TITLE_CHARS:
            return text
    return None


def table_context(table: Table, before: list[TextItem]) -> TableContext:
    """Context from ``Table.title``, the in-grid title row and the text items just before the table."""
    texts = [clean_text(it.text) for it in before if clean_text(it.text)][-MAX_CONTEXT_ITEMS:]
    texts.reverse()
    inner = title_row(table)
    titled = [t for t in (table.title, inner) if t]
    title = (
        titled[0]
        if titled
        else next((t for t in texts if TITLE_HINT_RE.search(t) and len(t) <= MAX_TITLE_CHARS), None)
    )
    candidates = [*titled, *texts]
    unit = next((u for t in texts if (u := money_unit(t))), None)
    return TableContext(title=title, texts=tuple(texts), year=year_in(candidates), unit=unit)


def table_contexts(doc: Document) -> list[tuple[Table, TableContext]]:
    """Every table of the document in body order, with the text items between it and the previous table."""
    out: list[tuple[Table, TableContext]] = []
    pending: list[TextItem] = []
    for element in doc.body():
        if isinstance(element, Table):
            out.append((element, table_context(element, pending)))
            pending = []
        else:
            pending.append(element)
    return out
