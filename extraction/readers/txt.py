"""Plain-text dumps -> Document.

Two styles of dump are understood:

* **Tab dumps** (Word -> text extractors such as Tika): every table cell is preceded by
  ``"\\t\\t"``, trailing empty cells are omitted, rows are separated by blank lines and a
  cell's text may run over several physical lines. Covered (merged) cells print as empty,
  so merges are rebuilt by the rules in :func:`build_tab_table`. One-cell rows (titles,
  报表编号, notes) and ``label：value`` signature rows at a table's edge are not table rows:
  they split tables and become text items with ``style="caption"``; the title before a table
  also goes to ``Table.title``. Repeated dumps give identical tables (same fingerprint).
  The text of EMF preview pictures that such extractors print after an embedded workbook
  (fragments out of reading order) is kept as text items with ``style="picture-text"`` and
  confidence 0.5 so later stages can skip it; it never becomes a table.
* **Layout dumps** (``pdftotext -layout``-like, no tabs): a form is recognised from label
  header lines, lines ending in number/percent tokens and short CJK fragment lines, and
  rebuilt as one table (:func:`parse_layout_region`).

Prose becomes one :class:`TextItem` per non-blank line, in reading order, interleaved with
tables through ``order``. Cells carry ``source="line N"`` (1-based line of the dump).
"""

from __future__ import annotations

import bisect
import gc
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from zhibiao.detect import decode_text
from zhibiao.errors import ReaderError
from zhibiao.model import Cell, Document, Page, SourceInfo, Table, TextItem

READER = "txt"
CELL_SEP = "\t\t"
MAX_COLUMNS = 512
"""A tab row with more cells than this is not a table row (it is read as prose)."""
MAX_NGRAM_SOURCE_CHARS = 500_000
"""Cap on the table text used to recognise picture text (keeps memory bounded)."""
PICTURE_TEXT_COVERAGE = 0.6
NGRAM = 4
MIN_WRAP_WIDTH = 10
"""Narrowest column (display width, 5 CJK characters) whose full lines are taken as wrapped."""
LAYOUT_CONFIDENCE = 0.7
"""Tables rebuilt from layout text rest on heuristics; tab tables are exact (1.0)."""

PICTURE_TEXT = "picture-text"
CAPTION = "caption"

_MARKER_RE = re.compile(r"\[(?:bookmark|image|link|annotation|endnote|footnote)(?::[^\]\n]*)?\]")
_TAB_ROW_RE = re.compile(r"^ *\t\t")
_NUMBER_RE = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*[%％]?$")
_PLACEHOLDER_VALUES = frozenset({"/", "-", "—", "－", "——"})
_KEY_VALUE_RE = re.compile(r"^[^\s：:，。；]{1,12}[：:]\s*\S[^，。；]{0,30}$")
_SENTENCE_PUNCT_RE = re.compile(r"[，。；！？,;!?]")
_COLON_RE = re.compile(r"[：:]")
_SENTENCE_END = tuple("。！？!?")
_ENUMERATOR_RE = re.compile(
    r"^(?:[（(][一二三四五六七八九十\d]{1,3}[）)]|[一二三四五六七八九十]{1,3}、|\d{1,3}[.、．])"
)
_SYMBOL_TOKEN_RE = re.compile(r"^[□■☑☐√×✓✔○●]+$")
_RATE_HEADER_RE = re.compile(r"[率%％]")
_NUMERIC_HEADER_RE = re.compile(r"(?:数|率|额|值|分|金|%|％)$")
_BRACKETED_RE = re.compile(r"[（(][^）)]*[）)]")


# ---------------------------------------------------------------------------------------------
# entry point


def read(data: bytes, path: Path) -> Document:
    """Read a plain-text dump (UTF-8 or GB18030) into the document model."""
    if b"\x00" in data[:65536]:
        raise ReaderError("the file holds NUL bytes: not a plain-text dump", "corrupt")
    text = decode_text(data)
    with _cyclic_gc_paused():
        items, tables = read_lines(split_lines(text))
    doc = Document(
        source=SourceInfo(path=str(path), format="txt", pages=1, size=len(data)),
        pages=[Page(number=1, items=items)],
        tables=tables,
    )
    if "\ufffd" in text:
        doc.warnings.append("the text is not valid UTF-8 or GB18030; undecodable bytes were replaced")
    if not items and not tables:
        doc.warnings.append("the file holds no text")
    return doc


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic objects are built.

    With it running, CPython's full collections re-walk every live cell and a large dump
    reads in super-linear time; the reader creates no reference cycles, so nothing is lost.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def split_lines(text: str) -> list[str]:
    """Split on LF / CRLF / CR only (not on the other characters ``str.splitlines`` breaks at)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_lines(lines: Sequence[str]) -> tuple[list[TextItem], list[Table]]:
    """Text items and tables of a dump, numbered in body order."""
    has_tab_rows = any(is_tab_line(line) for line in lines)
    body: list[TextItem | Table] = []
    prose_runs: list[list[TextItem]] = []
    for seg in scan_segments(lines):
        if isinstance(seg, TabRun):
            body.extend(_tab_run_body(seg))
        elif has_tab_rows:
            prose_runs.append(_prose_items(seg.lines))
            body.extend(prose_runs[-1])
        else:
            body.extend(_layout_body(seg.lines))
    if prose_runs:
        mark_picture_text([el for el in body if isinstance(el, Table)], prose_runs)
    items: list[TextItem] = []
    tables: list[Table] = []
    for order, element in enumerate(body):
        element.order = order
        if isinstance(element, Table):
            element.index = len(tables) + 1
            tables.append(element)
        else:
            items.append(element)
    return items, tables


# ---------------------------------------------------------------------------------------------
# segmentation: prose lines vs tab rows


@dataclass
class TabRow:
    """One table row of a tab dump: cell texts and the 1-based line each cell starts on."""

    cells: list[str]
    lines: list[int]

    @property
    def line(self) -> int:
        return self.lines[0] if self.lines else 0

    def non_empty(self) -> list[int]:
        return [i for i, text in enumerate(self.cells) if text]


@dataclass
class TabRun:
    """Consecutive tab rows (blank lines between rows allowed)."""

    rows: list[TabRow] = field(default_factory=list)


@dataclass
class ProseRun:
    """Consecutive non-table lines as ``(line number, text)``."""

    lines: list[tuple[int, str]] = field(default_factory=list)


def is_tab_line(line: str) -> bool:
    """A line that starts a tab cell (optionally after spaces)."""
    return _TAB_ROW_RE.match(line) is not None


def scan_segments(lines: Sequence[str]) -> Iterator[TabRun | ProseRun]:
    """Cut the dump into prose runs and tab runs in one pass, yielding each run when it ends.

    A row is the group of non-blank lines from a tab line up to the next blank line; a line
    that starts with a space never continues a row and a tab line that starts with a space
    opens a new run (extractors put a space before a new body element: a picture's text, the
    next embedded table).
    """
    current: TabRun | ProseRun | None = None
    row: list[tuple[int, str]] | None = None
    new_run = False

    def close_row() -> Iterator[TabRun | ProseRun]:
        nonlocal current, row, new_run
        if row is None:
            return
        tab_row = tab_row_from_lines(row)
        if tab_row is None:
            yield from add_prose(row)
        elif new_run or not isinstance(current, TabRun):
            if current is not None:
                yield current
            current, new_run = TabRun([tab_row]), False
        else:
            current.rows.append(tab_row)
        row = None

    def add_prose(numbered: Sequence[tuple[int, str]]) -> Iterator[TabRun | ProseRun]:
        nonlocal current
        if isinstance(current, ProseRun):
            current.lines.extend(numbered)
            return
        if current is not None:
            yield current
        current = ProseRun(list(numbered))

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            yield from close_row()
        elif row is not None and not line.startswith(" "):
            row.append((number, line))
        elif is_tab_line(line):
            yield from close_row()
            new_run = new_run or line.startswith(" ")
            row = [(number, line)]
        else:
            yield from close_row()
            yield from add_prose([(number, line)])
    yield from close_row()
    if current is not None:
        yield current


def tab_row_from_lines(lines: Sequence[tuple[int, str]]) -> TabRow | None:
    """Split the physical lines of one row into cells (None when it is too wide to be a row)."""
    starts: list[int] = []
    numbers: list[int] = []
    parts: list[str] = []
    offset = 0
    for number, line in lines:
        starts.append(offset)
        numbers.append(number)
        parts.append(line)
        offset += len(line) + 1
    text = "\n".join(parts)
    first = text.find(CELL_SEP)
    if first < 0 or text.count(CELL_SEP) > MAX_COLUMNS:
        return None
    cells: list[str] = []
    cell_lines: list[int] = []
    pos = first
    while pos >= 0:
        begin = pos + len(CELL_SEP)
        end = text.find(CELL_SEP, begin)
        raw = text[begin:] if end < 0 else text[begin:end]
        cells.append(clean_cell(raw))
        cell_lines.append(numbers[bisect.bisect_right(starts, begin) - 1])
        pos = end
    return TabRow(cells=cells, lines=cell_lines)


def strip_markers(text: str) -> str:
    """Remove extractor markers such as ``[bookmark: _Toc1]`` and ``[image: 图片1]``."""
    return _MARKER_RE.sub("", text)


def clean_cell(raw: str) -> str:
    """Cell text: markers removed, each line right-trimmed, the whole trimmed."""
    text = strip_markers(raw)
    return "\n".join(part.rstrip() for part in text.split("\n")).strip()


# ---------------------------------------------------------------------------------------------
# tab tables


@dataclass(slots=True)
class _Span:
    row: int
    col: int
    text: str
    line: int
    row_span: int = 1
    col_span: int = 1
    spans_block: bool = False
    """Set once the cell is known to continue down over a block of rows omitting its column."""


def is_number(text: str) -> bool:
    """A number or percentage as printed (``16.00``, ``100.00%``, ``1,234``) or a placeholder ``/``."""
    return bool(_NUMBER_RE.match(text)) or text in _PLACEHOLDER_VALUES


def parse_tab_block(lines: Sequence[str], first_line: int = 1) -> Table:
    """Parse the lines of one tab-dumped table (rows separated by blank lines) into a Table.

    Pure: no title/signature handling; ``first_line`` is the line number of ``lines[0]``.
    """
    rows: list[TabRow] = []
    group: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=first_line):
        if line.strip():
            group.append((number, line))
            continue
        if group:
            row = tab_row_from_lines(group)
            if row is not None:
                rows.append(row)
            group = []
    if group:
        row = tab_row_from_lines(group)
        if row is not None:
            rows.append(row)
    return build_tab_table(rows)


class _TabGrid:
    """Grid under construction; only the current and the previous row's slots are kept."""

    def __init__(self, rows: Sequence[TabRow]) -> None:
        self.rows = rows
        self.n_cols = max((len(r.cells) for r in rows), default=0)
        self.spans: list[_Span] = []
        self.row = 0
        self.previous: list[_Span | None] = [None] * self.n_cols
        self.current: list[_Span | None] = [None] * self.n_cols

    def start_row(self, row: int) -> None:
        if row > 0:
            self.previous, self.current = self.current, [None] * self.n_cols
        self.row = row

    def at(self, row: int, col: int) -> _Span | None:
        if col < 0 or col >= self.n_cols:
            return None
        if row == self.row:
            return self.current[col]
        return self.previous[col] if row == self.row - 1 else None

    def new(self, row: int, col: int, text: str, line: int) -> None:
        span = _Span(row, col, text, line)
        self.spans.append(span)
        self.current[col] = span

    def extend_right(self, row: int, col: int) -> bool:
        """Let the span left of ``(row, col)`` cover it; False when that is not a single-row span."""
        left = self.at(row, col - 1)
        if left is None or left.row != row or left.row_span != 1:
            return False
        left.col_span += 1
        self.current[col] = left
        return True

    def extend_down(self, span: _Span, row: int) -> None:
        span.row_span += 1
        for c in range(span.col, span.col + span.col_span):
            self.current[c] = span

    def table(self) -> Table:
        return _table(self.spans, len(self.rows), self.n_cols)


def _table(spans: Sequence[_Span], n_rows: int, n_cols: int) -> Table:
    """The finished table, cells in row-major order."""
    cells = [
        Cell(
            row=s.row,
            col=s.col,
            row_span=s.row_span,
            col_span=s.col_span,
            text=s.text,
            source=f"line {s.line}",
        )
        for s in sorted(spans, key=lambda s: (s.row, s.col))
    ]
    return Table(reader=READER, page=1, pages=[1], n_rows=n_rows, n_cols=n_cols, cells=cells)


def build_tab_table(rows: Sequence[TabRow]) -> Table:
    """Rebuild a table (with merges) from tab rows whose covered cells print as empty.

    Rules, per row, left to right:

    * leading empty cells continue the non-empty cell above downwards (一级/二级指标 style);
    * a middle empty cell joins the cell on its left when the row above is merged across the
      same boundary; in a total row (label at column 0, then only numbers) the label spans the
      empties before the numbers;
    * omitted trailing cells: a row holding at most a label and a value stretches the value to
      the right edge; a long cell above continues down when the rows missing that column end at
      a row that has it again (a note spanning a block); a single-column cell above keeps its
      own empty cell; otherwise the last cell stretches right.
    """
    grid = _TabGrid(rows)
    for r, row in enumerate(rows):
        grid.start_row(r)
        _place_row(grid, r, row)
    return grid.table()


def _place_row(grid: _TabGrid, r: int, row: TabRow) -> None:
    filled = row.non_empty()
    first = filled[0] if filled else len(row.cells)
    total_until = _total_row_label_end(grid, r, row)
    label_value = len(filled) <= 2 and bool(filled)
    for c in range(grid.n_cols):
        if grid.at(r, c) is not None:
            continue
        line = row.lines[min(c, len(row.lines) - 1)] if row.lines else 0
        text = row.cells[c] if c < len(row.cells) else None
        if text:
            grid.new(r, c, text, line)
        elif c < first:
            if not _continue_down(grid, r, c, first):
                grid.new(r, c, "", line)
        elif text == "":
            if not (_joins_left(grid, r, c, total_until) and grid.extend_right(r, c)):
                grid.new(r, c, "", line)
        elif label_value:
            if not grid.extend_right(r, c):
                grid.new(r, c, "", line)
        else:
            _place_omitted(grid, r, c, line)


def _total_row_label_end(grid: _TabGrid, r: int, row: TabRow) -> int:
    """For a total row the column of its first number, else -1.

    A total row has a label at column 0, then empties, then only numbers; the label spans the
    empties when there are two or more of them or when it breaks out of a column-0 group merged
    down over the rows above (合计 under a 绩效指标 block). One empty cell under a plain row is
    just a missing value.
    """
    filled = row.non_empty()
    if len(filled) < 2 or filled[0] != 0 or filled[1] == 1 or is_number(row.cells[0]):
        return -1
    if not all(is_number(row.cells[i]) for i in filled[1:]):
        return -1
    above = grid.at(r - 1, 0)
    leaves_group = above is not None and above.row < r - 1
    return filled[1] if filled[1] > 2 or leaves_group else -1


def _continue_down(grid: _TabGrid, r: int, c: int, first: int) -> bool:
    above = grid.at(r - 1, c) if r > 0 else None
    if above is None or not above.text or above.col != c or above.col + above.col_span > first:
        return False
    if above.row + above.row_span != r:
        return False
    grid.extend_down(above, r)
    return True


def _joins_left(grid: _TabGrid, r: int, c: int, total_until: int) -> bool:
    if 0 < c < total_until:
        return True
    if r == 0:
        return c > 0
    above = grid.at(r - 1, c)
    return above is not None and above.col < c


def _place_omitted(grid: _TabGrid, r: int, c: int, line: int) -> None:
    above = grid.at(r - 1, c) if r > 0 else None
    if above is not None and above.text and above.col == c and _run_closes(grid, above, r, c):
        grid.extend_down(above, r)
        return
    if above is not None and above.col == c and above.col_span == 1:
        grid.new(r, c, "", line)
        return
    if not grid.extend_right(r, c):
        grid.new(r, c, "", line)


def _run_closes(grid: _TabGrid, above: _Span, r: int, c: int) -> bool:
    """True when ``above`` ends a data row (one with numbers) at the right edge and the rows
    below it that omit column ``c`` end at a row that has it again."""
    if above.col + above.col_span != grid.n_cols or above.row + above.row_span != r:
        return False
    if not any(is_number(text) for text in grid.rows[above.row].cells):
        return False
    if above.spans_block:
        return True
    for index in range(r, len(grid.rows)):
        later = grid.rows[index]
        if len(later.cells) > c:
            above.spans_block = True
            return True
        if len(later.non_empty()) <= 2:
            return False
    return False


# ---------------------------------------------------------------------------------------------
# tab runs: split into tables, titles, signature lines


def is_text_row(row: TabRow) -> bool:
    """A row with a single non-empty cell in the first column: a title or note line, not a table row."""
    return row.non_empty() == [0]


def is_signature_row(row: TabRow) -> bool:
    """A row whose cells are all short ``label：value`` pairs (项目负责人：…  财务负责人：…)."""
    filled = [row.cells[i] for i in row.non_empty()]
    return bool(filled) and all(_KEY_VALUE_RE.match(text) and "\n" not in text for text in filled)


def _row_text(row: TabRow) -> str:
    return "  ".join(text for text in row.cells if text)


def _tab_run_body(run: TabRun) -> list[TextItem | Table]:
    """Tables and text lines of one tab run, in order."""
    body: list[TextItem | Table] = []
    pending_text: list[TabRow] = []
    group: list[TabRow] = []

    def flush_group() -> None:
        nonlocal group
        head, rows, tail = _trim_signature_rows(group)
        for row in head:
            body.append(_text_item(_row_text(row), CAPTION))
        if len(rows) >= 2 and max(len(r.cells) for r in rows) >= 2:
            table = build_tab_table(rows)
            table.title = _title_from(pending_text)
            table.source = f"lines {rows[0].line}-{rows[-1].lines[-1]}"
            body.append(table)
        else:
            body.extend(_text_item(_row_text(row)) for row in rows)
        for row in tail:
            body.append(_text_item(_row_text(row), CAPTION))
        group = []
        pending_text.clear()

    for row in run.rows:
        if is_text_row(row):
            if group:
                flush_group()
            pending_text.append(row)
            body.append(_text_item(row.cells[0], CAPTION))
        else:
            group.append(row)
    if group:
        flush_group()
    return body


def _trim_signature_rows(rows: list[TabRow]) -> tuple[list[TabRow], list[TabRow], list[TabRow]]:
    start, end = 0, len(rows)
    while start < end and is_signature_row(rows[start]):
        start += 1
    while end > start and is_signature_row(rows[end - 1]):
        end -= 1
    return rows[:start], rows[start:end], rows[end:]


def _title_from(text_rows: Sequence[TabRow]) -> str | None:
    """The last text line before a table that is not a ``key：value`` note."""
    for row in reversed(text_rows):
        text = row.cells[0]
        if len(text) <= 60 and "\n" not in text and not _COLON_RE.search(text):
            return text
    return None


def _text_item(text: str, style: str | None = None) -> TextItem:
    return TextItem(text=text, page=1, reader=READER, style=style)


def _prose_items(lines: Sequence[tuple[int, str]]) -> list[TextItem]:
    """One text item per non-blank line, markers removed."""
    items = []
    for _, line in lines:
        text = strip_markers(line).strip()
        if text:
            items.append(_text_item(text))
    return items


# ---------------------------------------------------------------------------------------------
# picture text (EMF previews printed out of reading order)


def _ngrams(text: str) -> Iterator[str]:
    compact = "".join(text.split())
    for i in range(len(compact) - NGRAM + 1):
        yield compact[i : i + NGRAM]


def mark_picture_text(tables: Sequence[Table], prose_runs: Sequence[Sequence[TextItem]]) -> None:
    """Mark prose runs (text between tab rows) that mostly repeat table text as ``picture-text``.

    Extractors print an embedded workbook's EMF preview as fragments out of reading order;
    a run whose characters are mostly covered by 4-grams of the tables is such a preview.
    """
    known = _table_ngrams(tables)
    if not known:
        return
    for run in prose_runs:
        if picture_text_coverage(run, known) >= PICTURE_TEXT_COVERAGE:
            for item in run:
                item.style = PICTURE_TEXT
                item.confidence = 0.5


def _table_ngrams(tables: Sequence[Table]) -> set[str]:
    """4-grams of the distinct tables' cell texts (at most ``MAX_NGRAM_SOURCE_CHARS`` of text)."""
    known: set[str] = set()
    budget = MAX_NGRAM_SOURCE_CHARS
    seen: set[tuple] = set()
    for table in tables:
        key = table.fingerprint()
        if key in seen:
            continue
        seen.add(key)
        for cell in table.cells:
            if budget <= 0:
                return known
            known.update(_ngrams(cell.text[:budget]))
            budget -= len(cell.text)
    return known


def picture_text_coverage(items: Sequence[TextItem], known: set[str]) -> float:
    """Share of the run's characters covered by 4-grams that also occur in table cells."""
    compact = "".join("".join(it.text.split()) for it in items)
    if len(compact) < NGRAM:
        return 0.0
    covered = bytearray(len(compact))
    for i in range(len(compact) - NGRAM + 1):
        if compact[i : i + NGRAM] in known:
            covered[i : i + NGRAM] = b"\x01" * NGRAM
    return sum(covered) / len(compact)


# ---------------------------------------------------------------------------------------------
# layout dumps (pdftotext -layout style, no tabs)


@dataclass
class LayoutLine:
    """A classified line of a layout dump."""

    number: int
    kind: str
    """``header`` | ``data`` | ``kv`` | ``frag`` | ``prose``."""
    text: str
    tokens: list[str]
    indent: int
    labels: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)


def display_width(text: str) -> int:
    """Columns the text takes in a monospaced layout (wide characters count 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def layout_tokens(line: str) -> list[str]:
    """Whitespace-separated tokens; a check-box symbol stays with the token before it, and a run of
    check-box options (一级 □  二级 □) is one token, with the original spacing kept."""
    spans: list[tuple[int, int]] = []
    for match in re.finditer(r"\S+", line):
        if spans and _SYMBOL_TOKEN_RE.match(match.group()):
            spans[-1] = (spans[-1][0], match.end())
        else:
            spans.append((match.start(), match.end()))
        if len(spans) > 1 and _ends_with_box(line, spans[-1]) and _ends_with_box(line, spans[-2]):
            spans[-2:] = [(spans[-2][0], spans[-1][1])]
    return [line[a:b] for a, b in spans]


def _ends_with_box(line: str, span: tuple[int, int]) -> bool:
    return bool(_SYMBOL_TOKEN_RE.match(line[span[1] - 1 : span[1]]))


def is_label(token: str) -> bool:
    """A short heading-like token: no sentence punctuation, not a number, at most 16 characters."""
    return len(token) <= 16 and not _SENTENCE_PUNCT_RE.search(token) and not is_number(token)


def classify_line(number: int, raw: str) -> LayoutLine:
    """Classify one non-blank line of a layout dump."""
    text = raw.strip()
    tokens = layout_tokens(text)
    indent = len(raw) - len(raw.lstrip(" "))
    line = LayoutLine(number=number, kind="prose", text=text, tokens=tokens, indent=indent)
    trailing = 0
    while trailing < len(tokens) and is_number(tokens[len(tokens) - 1 - trailing]):
        trailing += 1
    leading = tokens[: len(tokens) - trailing]
    if trailing and all(is_label(t) for t in leading):
        line.kind, line.labels, line.values = "data", leading, tokens[len(tokens) - trailing :]
    elif len(tokens) >= 2 and all(is_label(t) for t in tokens):
        line.kind, line.labels = "header", tokens
    elif len(tokens) >= 2 and is_label(tokens[0]):
        line.kind, line.labels = "kv", tokens[:1]
        line.values = [text[len(tokens[0]) :].strip()]
    elif len(tokens) == 1 and is_label(text) and not _COLON_RE.search(text) and len(text) <= 12:
        line.kind = "frag"
    return line


def is_anchor(line: LayoutLine) -> bool:
    """A line that only a form prints: a header of 4+ labels or 2+ numbers at the end of a label line."""
    return (line.kind == "header" and len(line.tokens) >= 4) or (
        line.kind == "data" and len(line.values) >= 2
    )


def find_layout_regions(lines: Sequence[LayoutLine]) -> list[tuple[int, int]]:
    """Index ranges ``[start, end)`` of ``lines`` that form tables.

    A region grows from anchor lines over neighbouring form lines (header/data/kv/fragment);
    two regions separated only by prose merge when the first ends in a header (the prose is
    that header's content, e.g. 绩效目标 paragraphs inside the form). A region needs both a
    4+ label header and a numeric data line.
    """
    form_kinds = {"header", "data", "kv", "frag"}
    regions: list[tuple[int, int]] = []
    i = floor = 0
    while i < len(lines):
        if not is_anchor(lines[i]):
            i += 1
            continue
        start = i
        while start > floor and lines[start - 1].kind in form_kinds:
            start -= 1
        start = _drop_detached_fragments(lines, start, i)
        end = i + 1
        while end < len(lines) and lines[end].kind in form_kinds:
            end += 1
        while end - 1 > i and lines[end - 1].kind == "frag":
            end -= 1
        regions.append((start, end))
        i = floor = end
    merged: list[tuple[int, int]] = []
    for start, end in regions:
        if merged and _joinable(lines, merged[-1], start):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return [(s, e) for s, e in merged if _has_header_and_data(lines[s:e])]


def _drop_detached_fragments(lines: Sequence[LayoutLine], start: int, anchor: int) -> int:
    """Leading fragment lines stay in a region only as the label printed left of a header."""
    first_form = start
    while first_form < anchor and lines[first_form].kind == "frag":
        first_form += 1
    return start if lines[first_form].kind == "header" else first_form


def _joinable(lines: Sequence[LayoutLine], previous: tuple[int, int], start: int) -> bool:
    between = lines[previous[1] : start]
    last_form = [ln for ln in lines[previous[0] : previous[1]] if ln.kind != "frag"]
    return bool(last_form) and last_form[-1].kind == "header" and all(ln.kind == "prose" for ln in between)


def _has_header_and_data(lines: Sequence[LayoutLine]) -> bool:
    strong_header = any(ln.kind == "header" and len(ln.tokens) >= 4 for ln in lines)
    return strong_header and any(ln.kind == "data" for ln in lines)


def _layout_body(numbered: Sequence[tuple[int, str]]) -> list[TextItem | Table]:
    """Prose items and layout tables of a tab-free dump."""
    cleaned = [(n, strip_markers(s)) for n, s in numbered]
    classified = [classify_line(n, s) for n, s in cleaned if s.strip()]
    regions = find_layout_regions(classified)
    body: list[TextItem | Table] = []
    cursor = 0
    for start, end in regions:
        before = classified[cursor:start]
        body.extend(_text_item(ln.text) for ln in before)
        table = parse_layout_region(classified[start:end])
        table.title = _layout_title(before)
        body.append(table)
        cursor = end
    body.extend(_text_item(ln.text) for ln in classified[cursor:])
    return body


def _layout_title(before: Sequence[LayoutLine]) -> str | None:
    """The nearest short line naming a form (…表) among the few lines before a layout table."""
    for line in reversed(before[-6:]):
        if "表" in line.text and len(line.text) <= 40 and not _SENTENCE_PUNCT_RE.search(line.text):
            return line.text
    return None


# --- layout region -> blocks -> grid


@dataclass
class LayoutRow:
    """A row of a layout block before column assignment."""

    kind: str
    """``data`` (texts + values), ``kv`` (label + text to the edge), ``label`` (row label only),
    ``para`` (a paragraph across the block; ``values`` holds its wrapped lines)."""
    line: int
    fragments: list[LayoutLine] = field(default_factory=list)
    inline_label: str | None = None
    values: list[str] = field(default_factory=list)
    value_line: int = 0


@dataclass
class LayoutBlock:
    """A header line (possibly with a block label printed left of it) and the rows under it."""

    header: list[str]
    header_line: int
    label: str | None = None
    label_line: int = 0
    rows: list[LayoutRow] = field(default_factory=list)


def layout_blocks(lines: Sequence[LayoutLine]) -> list[LayoutBlock]:
    """Group a region's lines into header blocks and rows (pass 1: no columns yet)."""
    blocks: list[LayoutBlock] = [LayoutBlock(header=[], header_line=lines[0].number if lines else 0)]
    pending: list[LayoutLine] = []
    paragraph: LayoutRow | None = None
    for line in lines:
        if line.kind != "prose":
            paragraph = None
        if line.kind == "frag":
            pending.append(line)
        elif line.kind == "header":
            cut = len(pending)
            while cut > 0 and pending[cut - 1].indent == 0:
                cut -= 1
            _flush_labels(blocks[-1], pending[:cut])
            label_lines = pending[cut:]
            blocks.append(
                LayoutBlock(
                    header=line.labels,
                    header_line=line.number,
                    label="\n".join(ln.text for ln in label_lines) or None,
                    label_line=label_lines[0].number if label_lines else 0,
                )
            )
            pending = []
        elif line.kind == "data":
            blocks[-1].rows.append(_data_row(line, pending))
            pending = []
        elif line.kind == "kv":
            _flush_labels(blocks[-1], pending)
            pending = []
            blocks[-1].rows.append(
                LayoutRow(kind="kv", line=line.number, inline_label=line.tokens[0], values=line.values)
            )
        else:
            _flush_labels(blocks[-1], pending)
            pending = []
            paragraph = _add_paragraph_line(blocks[-1], paragraph, line)
    _flush_labels(blocks[-1], pending)
    return [b for b in blocks if b.header or b.rows or b.label]


def _data_row(line: LayoutLine, fragments: Sequence[LayoutLine]) -> LayoutRow:
    """A data line with the fragment lines printed above it: the fragments are the row's texts
    and every token of the line is a value (合规 合规 15 15); without fragments the leading
    labels are the row's own label (其中：当年财政拨款 130.76 130.44)."""
    if fragments:
        return LayoutRow(
            kind="data",
            line=fragments[0].number,
            fragments=list(fragments),
            values=line.tokens,
            value_line=line.number,
        )
    inline = _join_tokens(line.text, line.labels) if line.labels else None
    return LayoutRow(
        kind="data", line=line.number, inline_label=inline, values=line.values, value_line=line.number
    )


def _join_tokens(text: str, tokens: Sequence[str]) -> str:
    """The original text from the first to the last of ``tokens`` (keeps inner spacing: 总 分)."""
    start = text.find(tokens[0])
    last = text.find(tokens[-1], start + len(tokens[0]) if len(tokens) > 1 else start)
    return text[start : last + len(tokens[-1])]


def _flush_labels(block: LayoutBlock, fragments: Sequence[LayoutLine]) -> None:
    for frag in fragments:
        block.rows.append(LayoutRow(kind="label", line=frag.number, fragments=[frag]))


def _add_paragraph_line(block: LayoutBlock, paragraph: LayoutRow | None, line: LayoutLine) -> LayoutRow:
    """Re-join a paragraph wrapped by the layout: a line continues the previous one unless that
    ended a sentence or this one starts an enumerated item."""
    if paragraph is not None:
        previous = paragraph.values[-1]
        if not previous.endswith(_SENTENCE_END) and not _ENUMERATOR_RE.match(line.text):
            paragraph.values.append(line.text)
            return paragraph
    row = LayoutRow(kind="para", line=line.number, values=[line.text])
    block.rows.append(row)
    return row


def wrapped_groups(fragments: Sequence[LayoutLine], full_width: int) -> list[tuple[str, int]]:
    """Re-join fragments that a narrow column wrapped: a fragment as wide as the column continues
    into the next one. Returns ``(text, first line)`` per cell."""
    groups: list[tuple[str, int]] = []
    joining = False
    for frag in fragments:
        if joining and groups:
            text, number = groups[-1]
            groups[-1] = (text + frag.text, number)
        else:
            groups.append((frag.text, frag.number))
        joining = full_width >= MIN_WRAP_WIDTH and display_width(frag.text) >= full_width
    return groups


def is_numeric_header(label: str) -> bool:
    """A column header whose cells hold numbers (…数, …率, …额, …值, …分, %)."""
    return bool(_NUMERIC_HEADER_RE.search(_BRACKETED_RE.sub("", label).strip()))


def _value_kind(value: str) -> str:
    if _RATE_HEADER_RE.search(value) and is_number(value):
        return "percent"
    return "number" if is_number(value) else "text"


def _header_kind(label: str) -> str:
    if _RATE_HEADER_RE.search(label):
        return "percent"
    return "number" if is_numeric_header(label) else "text"


def align_values(values: Sequence[str], headers: Sequence[str], to_right: bool = False) -> int:
    """Offset into ``headers`` where ``values`` fit best: percent values under rate headers,
    numbers under numeric headers; ties go left (or right for total rows)."""
    slots = len(headers) - len(values)
    if slots <= 0:
        return 0
    best, best_score = 0, None
    for offset in range(slots + 1):
        score = 0
        for value, header in zip(values, headers[offset:], strict=False):
            kind, hkind = _value_kind(value), _header_kind(header)
            if kind == "percent":
                score += 2 if hkind == "percent" else -1
            elif kind == "number":
                score += 1 if hkind == "number" else (-1 if hkind == "percent" else 0)
        if best_score is None or score > best_score or (to_right and score == best_score):
            best, best_score = offset, score
    return best


class _LayoutGrid:
    """Cells of a layout table being placed row by row."""

    def __init__(self) -> None:
        self.spans: list[_Span] = []
        self.slots: dict[tuple[int, int], _Span] = {}
        self.n_rows = 0
        self.stretch: list[_Span] = []
        """Spans that stretch to the right edge once the width is known."""
        self.stub_texts: set[int] = set()
        """``id`` of the row-text cells, the only ones that continue down into later rows."""

    def put(self, row: int, col: int, text: str, line: int, stretch: bool = False) -> _Span:
        span = _Span(row, col, text, line)
        self.spans.append(span)
        self.slots[(row, col)] = span
        if stretch:
            self.stretch.append(span)
        self.n_rows = max(self.n_rows, row + 1)
        return span

    def carry_down(self, row: int, col: int, top_row: int) -> bool:
        """Extend the text cell above into ``(row, col)``; False at the block's top or over empties."""
        above = self.slots.get((row - 1, col))
        if above is None or id(above) not in self.stub_texts or not above.text:
            return False
        if above.row < top_row or above.row + above.row_span != row:
            return False
        above.row_span += 1
        self.slots[(row, col)] = above
        return True

    def table(self) -> Table:
        n_cols = max((s.col + 1 for s in self.spans), default=0)
        starts: dict[int, list[int]] = {}
        for s in self.spans:
            starts.setdefault(s.row, []).append(s.col)
        for span in self.stretch:
            right = [col for col in starts[span.row] if col > span.col]
            span.col_span = max(1, (min(right) if right else n_cols) - span.col)
        self._fill_holes(n_cols)
        table = _table(self.spans, self.n_rows, n_cols)
        table.confidence = LAYOUT_CONFIDENCE
        return table

    def _fill_holes(self, n_cols: int) -> None:
        """An empty cell for every slot no span covers (the grid must be complete)."""
        covered = {
            (s.row + i, s.col + j) for s in self.spans for i in range(s.row_span) for j in range(s.col_span)
        }
        lines = {s.row: s.line for s in self.spans}
        for r in range(self.n_rows):
            for c in range(n_cols):
                if (r, c) not in covered:
                    self.spans.append(_Span(r, c, "", lines.get(r, 0)))


def parse_layout_region(lines: Sequence[LayoutLine]) -> Table:
    """Rebuild one layout-dumped form as a table (block labels in column 0 spanning their rows)."""
    grid = _LayoutGrid()
    row = 0
    for block in layout_blocks(lines):
        row = _place_block(grid, block, row)
    table = grid.table()
    if lines:
        table.source = f"lines {lines[0].number}-{lines[-1].number}"
    return table


@dataclass(frozen=True)
class _BlockColumns:
    """Where a block's parts go: block label in column 0 (``base`` = 1 when there is one), then
    ``stub`` row-text columns, of which the last ``inside`` carry header labels, then values."""

    base: int
    stub: int
    inside: int

    @property
    def first_value(self) -> int:
        return self.base + self.stub

    @property
    def first_header(self) -> int:
        return self.base + self.stub - self.inside


def _place_block(grid: _LayoutGrid, block: LayoutBlock, top: int) -> int:
    """Place one block's header and rows from grid row ``top``; returns the next free row."""
    data = [r for r in block.rows if r.kind == "data"]
    full_width = max((display_width(f.text) for r in data for f in r.fragments), default=0)
    groups = [wrapped_groups(r.fragments, full_width) for r in block.rows]
    stub = max([len(g) for g in groups] + [1 if block.rows else 0])
    cols = _BlockColumns(
        base=1 if block.label else 0, stub=stub, inside=min(stub, _leading_text_headers(block.header))
    )
    row = top
    if block.header:
        _place_header(grid, block, cols, row)
        row += 1
    for item, texts in zip(block.rows, groups, strict=True):
        _place_block_row(grid, item, texts, row, top, cols, block.header[cols.inside :])
        row += 1
    if block.label:
        span = grid.put(top, 0, block.label, block.label_line)
        span.row_span = max(1, row - top)
        for r in range(top + 1, row):
            grid.slots[(r, 0)] = span
    return row


def _place_header(grid: _LayoutGrid, block: LayoutBlock, cols: _BlockColumns, row: int) -> None:
    """Header labels from ``first_header``; the stub columns left of them get empty cells."""
    for c in range(cols.base, cols.first_header):
        grid.put(row, c, "", block.header_line)
    last = len(block.header) - 1
    for j, label in enumerate(block.header):
        grid.put(row, cols.first_header + j, label, block.header_line, stretch=j == last)


def _place_block_row(
    grid: _LayoutGrid,
    item: LayoutRow,
    texts: Sequence[tuple[str, int]],
    row: int,
    top: int,
    cols: _BlockColumns,
    value_headers: Sequence[str],
) -> None:
    """One row: data rows put texts in the stub and values under the headers they fit best;
    label / key-value / paragraph rows start at the stub's first column."""
    if item.kind == "data" and texts:
        _place_stub_texts(grid, row, top, cols, texts, item.line)
        offset = align_values(item.values, value_headers)
    elif item.kind == "data":
        # a label printed on the value line (其中：…, 总 分) spans the stub; in a multi-level
        # stub it is a total row, whose numbers belong under the last fitting headers
        grid.put(row, cols.base, item.inline_label or "", item.line, stretch=cols.stub > 1)
        offset = align_values(item.values, value_headers, to_right=cols.stub > 1)
    elif item.kind == "kv":
        grid.put(row, cols.base, item.inline_label or "", item.line)
        grid.put(row, cols.base + 1, item.values[0], item.line, stretch=True)
        return
    elif item.kind == "para":
        grid.put(row, cols.base, "".join(item.values), item.line, stretch=True)
        return
    else:
        grid.put(row, cols.base, item.fragments[0].text, item.line)
        return
    for i, value in enumerate(item.values):
        grid.put(row, cols.first_value + offset + i, value, item.value_line)


def _leading_text_headers(header: Sequence[str]) -> int:
    count = 0
    for label in header:
        if is_numeric_header(label):
            break
        count += 1
    return count


def _place_stub_texts(
    grid: _LayoutGrid,
    row: int,
    top: int,
    cols: _BlockColumns,
    texts: Sequence[tuple[str, int]],
    line: int,
) -> None:
    """Texts right-aligned into the stub columns; missing leading ones continue the cells above."""
    first_text = cols.base + cols.stub - len(texts)
    for c in range(cols.base, first_text):
        if not grid.carry_down(row, c, top):
            grid.put(row, c, "", line)
    for j, (text, number) in enumerate(texts):
        grid.stub_texts.add(id(grid.put(row, first_text + j, text, number)))
