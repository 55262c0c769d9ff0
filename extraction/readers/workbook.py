"""XLSX / XLS workbooks -> one Table per sheet, numbers rendered as printed.

Both formats are first turned into a ``RawSheet`` (real cells only, merged ranges, print area),
then one shared routine finds the table on the sheet: the bordered block of rows, trimmed to its
content. Unbordered lines above it (title, 单位：万元) and below it (注：, 项目负责人：) become
text items; the nearest title-like line above becomes ``Table.title``.

Safety: the zip is checked with ``safety.open_zip`` before openpyxl sees it, members with a DTD are
refused, openpyxl parses with defusedxml's ``iterparse`` (cells, strings) and an entity-free lxml
parser (workbook, styles); only cells present in the XML are visited (a lying ``<dimension>`` costs
nothing) and every loop is bounded by ``MAX_CELLS`` / ``MAX_TABLE_SLOTS``.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

from zhibiao.detect import CFB_MAGIC
from zhibiao.errors import ReaderError, UnsafeInputError
from zhibiao.model import Cell, Document, Page, SourceInfo, Table, TextItem
from zhibiao.safety import open_zip, parse_xml, read_member

Box = tuple[int, int, int, int]
"""Inclusive, 0-based cell box: first row, first col, last row, last col."""

MAX_CELLS = 3_000_000
"""Real cells (``<c>`` elements / BIFF cell records) read from one workbook at most."""
MAX_TABLE_SLOTS = 5_000_000
"""Grid slots (rows x cols) of one sheet's table at most; a bigger sheet is skipped with a warning."""
DTD_PROBE_BYTES = 4096
DECIMAL_DIGITS = 340
"""Precision for rounding a printed number: every digit of the largest double and 30 decimals."""
ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
)
"""What reading a damaged zip member can raise (bad CRC, unknown method, bad deflate stream)."""

SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
WORKBOOK_CONTENT_TYPES = ("sheet.main+xml", "template.main+xml", "sheet.macroEnabled.main+xml")


# --------------------------------------------------------------------------- raw sheet model


@dataclass(frozen=True)
class SheetCell:
    """One real cell: text as printed, the typed number (percent as printed), whether it is boxed."""

    text: str
    number: float | None = None
    bordered: bool = False


@dataclass
class RawSheet:
    """A sheet reduced to what table finding needs; coordinates are 0-based."""

    name: str
    cells: dict[tuple[int, int], SheetCell] = field(default_factory=dict)
    merges: list[Box] = field(default_factory=list)
    area: Box | None = None
    """Print area or the OLE object's displayed range; ``None`` = the whole sheet."""


@dataclass
class RawWorkbook:
    """The sheets of one workbook and which of them (and which range) is shown."""

    sheets: list[RawSheet]
    active: int = 0
    """Index into ``sheets`` of the sheet shown when the workbook opens (the one an OLE object shows)."""
    displayed: Box | None = None
    """``<oleSize ref>``: the range an embedded workbook displays, on the active sheet."""


@dataclass
class SheetBlock:
    """The table found on one sheet and the text lines printed above and below it."""

    table: Table
    lines_before: list[str]
    lines_after: list[str]


# --------------------------------------------------------------------------- public readers


def read_xlsx(data: bytes, path: Path) -> Document:
    """Read an XLSX workbook: one table per sheet (reader ``xlsx``) plus the lines around each table."""
    return _document(path, "xlsx", *workbook_blocks(data, "xlsx", "xlsx"))


def read_xls(data: bytes, path: Path) -> Document:
    """Read a legacy BIFF XLS workbook with xlrd (merged cells need ``formatting_info``)."""
    return _document(path, "xls", *workbook_blocks(data, "xls", "xls"))


def tables_from_workbook_bytes(
    data: bytes, kind: str, reader: str, *, displayed_only: bool = False
) -> list[Table]:
    """Tables of a workbook given as bytes (``kind`` is ``xlsx`` or ``xls``).

    With ``displayed_only`` only the active sheet is read, limited to the range an embedded
    object displays (``<oleSize>``) — what an OLE object shows on the page.
    """
    return [b.table for b in workbook_blocks(data, kind, reader, displayed_only=displayed_only)[0]]


def workbook_blocks(
    data: bytes, kind: str, reader: str, *, displayed_only: bool = False
) -> tuple[list[SheetBlock], list[str]]:
    """Sheet blocks (table + surrounding lines) of a workbook, and warnings about skipped sheets."""
    book = load_workbook_bytes(data, kind)
    sheets = book.sheets
    if displayed_only and sheets:
        active = sheets[min(book.active, len(sheets) - 1)]
        if book.displayed is not None:
            active.area = book.displayed
        sheets = [active]
    blocks: list[SheetBlock] = []
    notes: list[str] = []
    for sheet in sheets:
        try:
            block = sheet_block(sheet, reader)
        except SheetTooLargeError as exc:
            notes.append(str(exc))
            continue
        if block is not None:
            blocks.append(block)
    return blocks, notes


def load_workbook_bytes(data: bytes, kind: str) -> RawWorkbook:
    """Parse workbook bytes of the given kind into raw sheets (ReaderError for anything unreadable)."""
    if not data:
        raise ReaderError("the workbook is empty (0 bytes)", "empty")
    if kind == "xlsx":
        return _load_xlsx(data)
    if kind == "xls":
        return _load_xls(data)
    raise ReaderError(f"unknown workbook kind {kind!r}", "unsupported")


def _document(path: Path, reader: str, blocks: list[SheetBlock], notes: list[str]) -> Document:
    """Lay the sheets out in body order: lines above, table, lines below, sheet after sheet."""
    doc = Document(source=SourceInfo(path=str(path), format=reader), warnings=notes)
    page = Page(number=1)
    order = 0
    for block in blocks:
        for line in block.lines_before:
            page.items.append(TextItem(text=line, order=order, reader=reader))
            order += 1
        block.table.order = order
        block.table.index = len(doc.tables) + 1
        doc.tables.append(block.table)
        order += 1
        for line in block.lines_after:
            page.items.append(TextItem(text=line, order=order, reader=reader))
            order += 1
    doc.pages.append(page)
    return doc


# --------------------------------------------------------------------------- table finding


class SheetTooLargeError(ReaderError):
    """A sheet whose table grid would be absurdly large (sparse cells far apart)."""

    code = "too-large"


def sheet_block(sheet: RawSheet, reader: str) -> SheetBlock | None:
    """Find the table on a sheet; ``None`` when the sheet (or its area) holds no text."""
    area = sheet.area
    cells = {rc: cell for rc, cell in sheet.cells.items() if area is None or _inside(rc, area)}
    merges = [m for m in sheet.merges if area is None or _overlaps(m, area)]
    if area is not None:
        merges = [_clip(m, area) for m in merges]
    anchored = {(m[0], m[1]): m for m in merges}
    content = [rc for rc, cell in cells.items() if cell.text]
    if not content:
        return None
    bordered_rows = {r for (r, _c), cell in cells.items() if cell.bordered}
    rows_with_text = sorted({r for r, _ in content})
    framed = [r for r in rows_with_text if r in bordered_rows]
    if framed:
        first, last = framed[0], framed[-1]
        table_content = [rc for rc in content if first <= rc[0] <= last]
    else:
        table_content = content
    box = _extend_by_merges(
        _bounding_box(table_content), [anchored[rc] for rc in table_content if rc in anchored]
    )
    slots = (box[2] - box[0] + 1) * (box[3] - box[1] + 1)
    if slots > MAX_TABLE_SLOTS:
        raise SheetTooLargeError(
            f"sheet {sheet.name!r}: table of {box[2] - box[0] + 1} x {box[3] - box[1] + 1} cells "
            f"is beyond {MAX_TABLE_SLOTS} slots; skipped"
        )
    table = _table_in_box(sheet.name, cells, merges, box, reader)
    lines_before = _lines(cells, (r for r in rows_with_text if r < box[0]))
    lines_after = _lines(cells, (r for r in rows_with_text if r > box[2]))
    table.title = pick_title(lines_before)
    return SheetBlock(table=table, lines_before=lines_before, lines_after=lines_after)


def _inside(rc: tuple[int, int], box: Box) -> bool:
    return box[0] <= rc[0] <= box[2] and box[1] <= rc[1] <= box[3]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _clip(a: Box, b: Box) -> Box:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _bounding_box(coords: Iterable[tuple[int, int]]) -> Box:
    rows, cols = zip(*coords, strict=True)
    return (min(rows), min(cols), max(rows), max(cols))


def _extend_by_merges(box: Box, merges: Iterable[Box]) -> Box:
    r0, c0, r1, c1 = box
    for m in merges:
        r1, c1 = max(r1, m[2]), max(c1, m[3])
    return (r0, c0, r1, c1)


def _table_in_box(
    name: str, cells: dict[tuple[int, int], SheetCell], merges: list[Box], box: Box, reader: str
) -> Table:
    """Every slot of the box becomes a cell, except slots covered by a merged range's non-anchor."""
    top, left, bottom, right = box
    spans, covered = _place_merges(merges, box)
    out: list[Cell] = []
    for r in range(top, bottom + 1):
        for c in range(left, right + 1):
            if (r, c) in covered:
                continue
            row_span, col_span, origin = spans.get((r, c), (1, 1, (r, c)))
            raw = cells.get(origin) or cells.get((r, c)) or SheetCell("")
            out.append(
                Cell(
                    row=r - top,
                    col=c - left,
                    row_span=row_span,
                    col_span=col_span,
                    text=raw.text,
                    number=raw.number,
                    source=a1_ref(*origin),
                )
            )
    return Table(
        reader=reader,
        n_rows=bottom - top + 1,
        n_cols=right - left + 1,
        cells=out,
        sheet=name,
        source=name,
    )


def _place_merges(
    merges: list[Box], box: Box
) -> tuple[dict[tuple[int, int], tuple[int, int, tuple[int, int]]], set[tuple[int, int]]]:
    """Merged ranges clipped to the box: spans by anchor slot, and the slots they cover.

    Overlapping ranges are invalid; the first one wins. The slots visited are bounded, so a file
    of many huge overlapping ranges is refused instead of scanned over and over.
    """
    spans: dict[tuple[int, int], tuple[int, int, tuple[int, int]]] = {}
    covered: set[tuple[int, int]] = set()
    budget = 2 * MAX_TABLE_SLOTS
    for merge in merges:
        if not _overlaps(merge, box):
            continue
        r0, c0, r1, c1 = _clip(merge, box)
        slots = []
        for slot in ((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)):
            budget -= 1
            if slot in covered or slot in spans:
                slots = []
                break
            slots.append(slot)
        if budget < 0:
            raise SheetTooLargeError(f"merged ranges overlap beyond {MAX_TABLE_SLOTS} cells; sheet skipped")
        if slots:
            spans[(r0, c0)] = (r1 - r0 + 1, c1 - c0 + 1, (merge[0], merge[1]))
            covered.update(slots[1:])
    return spans, covered


def _lines(cells: dict[tuple[int, int], SheetCell], rows: Iterable[int]) -> list[str]:
    """Text of whole rows outside the table, cells joined by a space."""
    by_row: dict[int, list[tuple[int, str]]] = {}
    wanted = set(rows)
    for (r, c), cell in cells.items():
        if r in wanted and cell.text:
            by_row.setdefault(r, []).append((c, cell.text))
    return [" ".join(t for _, t in sorted(by_row[r])) for r in sorted(by_row)]


LABEL_LINE = re.compile(r"^\s*[^\s：:]{1,8}\s*[：:]")
"""``单位：万元``, ``报表编号：…``, ``填报单位：…`` — labelled lines, not titles."""
PARENTHETICAL = re.compile(r"[（(][^（()）]{1,24}[）)]")
MAX_TITLE_CHARS = 80


def pick_title(lines: list[str], nearest: int = 3) -> str | None:
    """The title among the lines printed just above a table (nearest last).

    Labelled lines (``单位：万元``) and long prose are skipped; a lone parenthetical line such as
    ``（2021年度）`` is joined to the line above it.
    """
    candidates = [" ".join(ln.split()) for ln in lines if ln.strip()][-nearest:]
    for i in range(len(candidates) - 1, -1, -1):
        line = candidates[i]
        if LABEL_LINE.match(line) or len(line) > MAX_TITLE_CHARS:
            continue
        if PARENTHETICAL.fullmatch(line) and i > 0 and not LABEL_LINE.match(candidates[i - 1]):
            return candidates[i - 1] + line
        return line
    return None


SMALL_INT = re.compile(r"[0-9]{1,9}")


def small_int(text: str | None) -> int | None:
    """A non-negative ASCII integer of at most nine digits, else ``None`` (hostile attributes)."""
    text = (text or "").strip()
    return int(text) if SMALL_INT.fullmatch(text) else None


def a1_ref(row: int, col: int) -> str:
    """0-based row/col -> ``A1`` reference."""
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


A1_RANGE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?$")


def parse_range(ref: str) -> Box | None:
    """``'Sheet'!$A$1:$I$29`` or ``A1:K26`` -> 0-based box; ``None`` when it is not a plain range."""
    ref = ref.split(",")[0].rsplit("!", 1)[-1].strip()
    match = A1_RANGE.match(ref)
    if not match:
        return None
    c0, r0 = _col_index(match.group(1)), int(match.group(2)) - 1
    c1 = _col_index(match.group(3)) if match.group(3) else c0
    r1 = int(match.group(4)) - 1 if match.group(4) else r0
    if r0 < 0 or r1 < 0:
        return None
    return (min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1))


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


# --------------------------------------------------------------------------- numbers as printed


def format_value(value: Any, number_format: str | None) -> tuple[str, float | None]:
    """Text of a cell value as Excel prints it with this number format, and its typed number."""
    fmt = number_format or "General"
    if value is None:
        return "", None
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            return "#NUM!", None
        return format_number(number, fmt), _printed_number(number, fmt)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return format_datetime(value, fmt), None
    if isinstance(value, dt.timedelta):
        return str(value), None
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip(), None


def _printed_number(value: float, fmt: str) -> float:
    """The typed number with percent formats scaled as printed (1 with ``0.00%`` -> 100.0)."""
    percents = _percent_signs(_tokens(_section_for(value, fmt)[0]))
    scaled = round(value * 100**percents, 10)
    return scaled if math.isfinite(scaled) else value


def _percent_signs(tokens: list[tuple[str, str]]) -> int:
    """How many ``%`` codes scale the value (capped: three already means x10^6)."""
    return min(sum(1 for kind, text in tokens if kind == "char" and text == "%"), 3)


def format_number(value: float, fmt: str) -> str:
    """Render a number with an Excel number format (the common subset: 0, #,##0.00, 0.00%, literals)."""
    section, signed = _section_for(value, fmt)
    if not section.strip():
        return ""  # an empty section (``;;;``) hides the value
    tokens = _tokens(section)
    shown = value if signed else abs(value)
    if _is_general(section) or ("char", "@") in tokens:
        return _literal_prefix(tokens) + general_number(shown) + _literal_suffix(tokens)
    placeholders = [i for i, (kind, text) in enumerate(tokens) if kind == "char" and text in "0#?"]
    if not placeholders:
        return _literal_text(tokens) or general_number(shown)
    percents = _percent_signs(tokens)
    first, last = placeholders[0], placeholders[-1]
    pattern = "".join(text for kind, text in tokens[first : last + 1] if kind == "char")
    magnitude = abs(value) * 100**percents
    body = _scientific(magnitude, pattern) if "E" in pattern.upper() else _fixed(magnitude, pattern)
    negative = signed and value < 0 and _rounds_nonzero(body)
    prefix = _literal_text(tokens[:first])
    suffix = _literal_text(tokens[last + 1 :])
    return ("-" if negative else "") + prefix + body + suffix


def general_number(value: float) -> str:
    """Excel's General format: integers without a decimal point, others to 15 significant digits."""
    if value != value or value in (float("inf"), float("-inf")):
        return "#NUM!"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.15g}"
    return text.replace("e", "E")


def _fixed(magnitude: float, pattern: str) -> str:
    int_pattern, _, frac_pattern = pattern.partition(".")
    frac_max = sum(ch in "0#?" for ch in frac_pattern)
    frac_min = frac_pattern.count("0")
    min_int = int_pattern.count("0")
    group = "," in int_pattern.strip(",")
    scale = min(len(int_pattern) - len(int_pattern.rstrip(",")), 4)  # trailing commas: / 1000 each
    try:
        with localcontext() as context:
            context.prec = DECIMAL_DIGITS
            rounded = (Decimal(repr(magnitude)) / Decimal(1000) ** scale).quantize(
                Decimal(1).scaleb(-frac_max), rounding=ROUND_HALF_UP
            )
    except InvalidOperation:
        return general_number(magnitude)
    whole, _, frac = f"{rounded:f}".partition(".")
    frac = frac.rstrip("0").ljust(frac_min, "0") if frac_max else ""
    whole = "" if whole == "0" and min_int == 0 else whole.rjust(min_int, "0")
    if group and whole:
        whole = f"{int(whole):,}"
    return whole + ("." + frac if frac else "")


def _scientific(magnitude: float, pattern: str) -> str:
    mantissa = pattern.upper().split("E")[0]
    decimals = min(sum(ch in "0#?" for ch in mantissa.partition(".")[2]), 30)
    return f"{magnitude:.{decimals}E}"


def _rounds_nonzero(body: str) -> bool:
    return any(ch in "123456789" for ch in body)


def _is_general(section: str) -> bool:
    return "general" in _strip_quoted(section).lower()


def _strip_quoted(section: str) -> str:
    return re.sub(r'"[^"]*"', "", section)


def _split_sections(fmt: str) -> list[str]:
    """Split a format at ``;`` outside quotes and brackets."""
    sections, current, quoted, bracket = [], [], False, False
    escaped = False
    for ch in fmt:
        if escaped:
            current.append(ch)
            escaped = False
            continue
        if ch == "\\" and not quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "[" and not quoted:
            bracket = True
        elif ch == "]" and not quoted:
            bracket = False
        elif ch == ";" and not quoted and not bracket:
            sections.append("".join(current))
            current = []
            continue
        current.append(ch)
    sections.append("".join(current))
    return sections


def _section_for(value: float, fmt: str) -> tuple[str, bool]:
    """The format section that applies to the value, and whether a minus sign must be added."""
    sections = _split_sections(fmt)
    if value < 0 and len(sections) >= 2 and sections[1].strip():
        return sections[1], False
    if value == 0 and len(sections) >= 3 and sections[2].strip():
        return sections[2], False
    return sections[0], True


def _tokens(section: str) -> list[tuple[str, str]]:
    """Tokens of a format section: ``("lit", text)`` for literals, ``("char", c)`` for format codes."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(section)
    while i < n:
        ch = section[i]
        if ch == '"':
            end = section.find('"', i + 1)
            end = n if end < 0 else end
            out.append(("lit", section[i + 1 : end]))
            i = end + 1
        elif ch == "\\" and i + 1 < n:
            out.append(("lit", section[i + 1]))
            i += 2
        elif ch == "_" and i + 1 < n:
            out.append(("lit", " "))
            i += 2
        elif ch == "*" and i + 1 < n:
            i += 2  # fill character: no width in extracted text
        elif ch == "[":
            end = section.find("]", i + 1)
            end = n if end < 0 else end
            out.append(("lit", _bracket_literal(section[i + 1 : end])))
            i = end + 1
        else:
            kind = "char" if ch in "0#?.,%+-/@" or (ch.isascii() and ch.isalpha()) else "lit"
            out.append((kind, ch))
            i += 1
    return out


def _bracket_literal(inner: str) -> str:
    """``[$¥-804]`` -> ``¥``; colours, conditions and locale codes print nothing."""
    if inner.startswith("$"):
        return inner[1:].split("-", 1)[0]
    return ""


def _literal_text(tokens: list[tuple[str, str]]) -> str:
    return "".join(text for kind, text in tokens if kind == "lit" or text in "%-+/()")


def _literal_prefix(tokens: list[tuple[str, str]]) -> str:
    out = []
    for kind, text in tokens:
        if kind != "lit":
            break
        out.append(text)
    return "".join(out)


def _literal_suffix(tokens: list[tuple[str, str]]) -> str:
    out = []
    for kind, text in reversed(tokens):
        if kind != "lit":
            break
        out.append(text)
    return "".join(reversed(out))


SHORT_DATE_FORMATS = {"mm-dd-yy", "m/d/yy", "m/d/yyyy", "mm/dd/yy", "d-mmm-yy", "general", ""}
DATE_CODES = re.compile(
    r"yyyy|yyy|yy|y|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm|a/p|e", re.IGNORECASE
)


def format_datetime(value: dt.date | dt.time, fmt: str) -> str:
    """Render a date/time with the date codes of an Excel format; locale short dates print ISO."""
    if isinstance(value, dt.time):
        value = dt.datetime.combine(dt.date(1900, 1, 1), value)
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    section = _split_sections(fmt)[0]
    if section.strip().lower() in SHORT_DATE_FORMATS:
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    out: list[str] = []
    codes = [(kind, text) for kind, text in _tokens(section)]
    text = "".join(t if kind == "char" else "\x00" + t + "\x01" for kind, t in codes)
    twelve_hour = bool(re.search(r"am/pm|a/p", text, re.IGNORECASE))
    pieces = _date_pieces(text)
    for i, piece in enumerate(pieces):
        if piece.startswith("\x00"):
            out.append(piece.strip("\x00\x01"))
        elif DATE_CODES.fullmatch(piece):
            out.append(_date_code(piece, value, pieces, i, twelve_hour))
        else:
            out.append(piece)
    return "".join(out)


def _date_pieces(text: str) -> list[str]:
    pieces: list[str] = []
    pos = 0
    for match in re.finditer(r"\x00[^\x01]*\x01|" + DATE_CODES.pattern, text, re.IGNORECASE):
        if match.start() > pos:
            pieces.append(text[pos : match.start()])
        pieces.append(match.group(0))
        pos = match.end()
    if pos < len(text):
        pieces.append(text[pos:])
    return pieces


def _date_code(code: str, value: dt.datetime, pieces: list[str], i: int, twelve_hour: bool) -> str:
    low = code.lower()
    if low.startswith("m") and len(low) <= 2 and _is_minute(pieces, i):
        return f"{value.minute:0{len(low)}d}"
    simple = {
        "yyyy": f"{value.year:04d}",
        "yyy": f"{value.year:04d}",
        "e": str(value.year),
        "yy": f"{value.year % 100:02d}",
        "y": f"{value.year % 100:02d}",
        "mmmmm": value.strftime("%B")[:1],
        "mmmm": value.strftime("%B"),
        "mmm": value.strftime("%b"),
        "mm": f"{value.month:02d}",
        "m": str(value.month),
        "dddd": value.strftime("%A"),
        "ddd": value.strftime("%a"),
        "dd": f"{value.day:02d}",
        "d": str(value.day),
        "ss": f"{value.second:02d}",
        "s": str(value.second),
        "am/pm": "AM" if value.hour < 12 else "PM",
        "a/p": "A" if value.hour < 12 else "P",
    }
    if low in ("hh", "h"):
        hour = value.hour % 12 or 12 if twelve_hour else value.hour
        return f"{hour:0{len(low)}d}"
    return simple.get(low, code)


def _is_minute(pieces: list[str], i: int) -> bool:
    """``m``/``mm`` means minutes right after an hour code or right before a seconds code."""
    before = [p.lower() for p in pieces[:i] if DATE_CODES.fullmatch(p)]
    after = [p.lower() for p in pieces[i + 1 :] if DATE_CODES.fullmatch(p)]
    return bool(before and before[-1] in ("h", "hh")) or bool(after and after[0] in ("s", "ss"))


# --------------------------------------------------------------------------- XLSX


def open_package(data: bytes, what: str) -> zipfile.ZipFile:
    """Open an Office Open XML package (``what`` = DOCX/XLSX) or say clearly why it is not one."""
    if not data or data.isspace():
        raise ReaderError(f"the {what} file is empty", "empty")
    if data.startswith(CFB_MAGIC):
        raise _cfb_error(data, what)
    if not data.startswith(b"PK"):
        raise ReaderError(f"not a {what} package: the bytes are not a zip archive", "unsupported")
    archive = open_zip(data)
    _refuse_dtd(archive)
    return archive


def member_bytes(archive: zipfile.ZipFile, name: str) -> bytes:
    """One package member; a missing or undecodable member is a ReaderError, never another exception."""
    try:
        return read_member(archive, name)
    except KeyError as exc:
        raise ReaderError(f"the package has no part {name!r}", "corrupt") from exc
    except ZIP_READ_ERRORS as exc:
        raise ReaderError(f"cannot decompress package part {name!r}: {exc}", "corrupt") from exc


def _load_xlsx(data: bytes) -> RawWorkbook:
    archive = open_package(data, "XLSX")
    part = _workbook_part(archive)
    info = _workbook_info(member_bytes(archive, part))
    book = _open_with_openpyxl(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sheets = list(_xlsx_sheets(book, info))
    except ReaderError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged parts
        raise _wrap_parser_error(exc, "xlsx") from exc
    finally:
        book.close()
    names = [s.name for s in sheets]
    active = names.index(info.active_name) if info.active_name in names else 0
    return RawWorkbook(sheets=sheets, active=active, displayed=info.ole_size)


@dataclass
class _WorkbookInfo:
    print_areas: dict[str, Box]
    active_name: str | None
    ole_size: Box | None


def _workbook_part(archive: zipfile.ZipFile) -> str:
    """The workbook part named by the content types (``xl/workbook.xml`` as Excel writes it)."""
    names = set(archive.namelist())
    if "[Content_Types].xml" in names:
        types = parse_xml(member_bytes(archive, "[Content_Types].xml"))
        for override in types.iter(f"{CT_NS}Override"):
            content_type = override.get("ContentType", "")
            part = override.get("PartName", "").lstrip("/")
            if content_type.endswith(WORKBOOK_CONTENT_TYPES) and part in names:
                return part
    if "xl/workbook.xml" in names:
        return "xl/workbook.xml"
    raise ReaderError("not a workbook: the package has no xl/workbook.xml", "corrupt")


def _workbook_info(xml: bytes) -> _WorkbookInfo:
    """Sheet names, print areas, the active sheet and ``<oleSize>`` from workbook.xml."""
    root = parse_xml(xml)
    names = [s.get("name", "") for s in root.iter(f"{SHEET_NS}sheet")]
    areas: dict[str, Box] = {}
    for defined in root.iter(f"{SHEET_NS}definedName"):
        local = small_int(defined.get("localSheetId"))
        if defined.get("name") != "_xlnm.Print_Area" or local is None or local >= len(names):
            continue
        box = parse_range(defined.text or "")
        if box is not None:
            areas[names[local]] = box
    view = root.find(f"{SHEET_NS}bookViews/{SHEET_NS}workbookView")
    tab = small_int(view.get("activeTab", "0")) if view is not None else 0
    active = names[tab] if tab is not None and tab < len(names) else None
    ole = root.find(f"{SHEET_NS}oleSize")
    ole_size = parse_range(ole.get("ref", "")) if ole is not None else None
    return _WorkbookInfo(print_areas=areas, active_name=active, ole_size=ole_size)


def _refuse_dtd(archive: zipfile.ZipFile) -> None:
    """Refuse any XML part that declares a DTD (entity bombs) before a third-party parser sees it."""
    for info in archive.infolist():
        if not info.filename.endswith((".xml", ".rels", ".vml")):
            continue
        try:
            with archive.open(info) as handle:
                head = handle.read(DTD_PROBE_BYTES)
        except ZIP_READ_ERRORS as exc:
            raise ReaderError(f"corrupt zip member {info.filename!r}: {exc}", "corrupt") from exc
        probe = head.replace(b"\x00", b"").upper()
        if b"<!DOCTYPE" in probe or b"<!ENTITY" in probe:
            raise UnsafeInputError(f"XML part {info.filename!r} declares a DTD (possible entity expansion)")


def _open_with_openpyxl(data: bytes) -> Any:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported-extension notices are not errors here
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ReaderError:
        raise
    except Exception as exc:  # openpyxl raises KeyError/ValueError/TypeError/XML errors for damage
        raise _wrap_parser_error(exc, "xlsx") from exc


def _wrap_parser_error(exc: BaseException, kind: str) -> ReaderError:
    """A ReaderError for a third-party parser failure; defusedxml refusals (even wrapped) are unsafe."""
    from defusedxml import DefusedXmlException

    for link in _exception_chain(exc):
        if isinstance(link, DefusedXmlException):
            return UnsafeInputError(f"{kind}: XML with forbidden constructs: {link}")
        if isinstance(link, SyntaxError) and "entity amplification" in str(link):
            return UnsafeInputError(f"{kind}: XML entity expansion refused by the parser: {link}")
    if isinstance(exc, MemoryError):
        return ReaderError(f"{kind}: out of memory while reading the workbook", "too-large")
    return ReaderError(f"corrupt {kind} workbook ({type(exc).__name__}: {exc})", "corrupt")


def _exception_chain(exc: BaseException, limit: int = 10) -> Iterator[BaseException]:
    """The exception and those it was raised from (openpyxl wraps parser errors in ValueError)."""
    current: BaseException | None = exc
    for _ in range(limit):
        if current is None:
            return
        yield current
        current = current.__cause__ or current.__context__


def _xlsx_sheets(book: Any, info: _WorkbookInfo) -> Iterator[RawSheet]:
    """Raw sheets of an openpyxl read-only workbook, visiting only the cells present in the XML."""
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.worksheet._reader import WorkSheetParser

    budget = MAX_CELLS
    for ws in book.worksheets:
        sheet = RawSheet(name=ws.title, area=info.print_areas.get(ws.title))
        styles: dict[int, tuple[str, bool]] = {}
        with ws._get_source() as src:
            parser = WorkSheetParser(
                src,
                ws._shared_strings,
                data_only=True,
                epoch=book.epoch,
                date_formats=book._date_formats,
                timedelta_formats=book._timedelta_formats,
            )
            for _, row in parser.parse():
                budget -= len(row)
                if budget < 0:
                    raise ReaderError(f"workbook has more than {MAX_CELLS} cells", "too-large")
                for raw in row:
                    _add_xlsx_cell(sheet, raw, styles, ws, ReadOnlyCell)
            sheet.merges = [
                box
                for m in (parser.merged_cells.mergeCell if parser.merged_cells else [])
                if (box := parse_range(m.ref or "")) is not None
            ]
        yield sheet


def _add_xlsx_cell(sheet: RawSheet, raw: dict[str, Any], styles: dict, ws: Any, cell_class: type) -> None:
    style_id = int(raw.get("style_id") or 0)
    if style_id not in styles:
        probe = cell_class(ws, 1, 1, None, "n", style_id)
        border = probe.border
        boxed = any(getattr(border, side).style for side in ("left", "right", "top", "bottom"))
        styles[style_id] = (probe.number_format, bool(boxed))
    number_format, bordered = styles[style_id]
    value = raw["value"]
    if raw.get("data_type") == "e":
        value = str(value)
    if value is None and not bordered:
        return
    text, number = format_value(value, number_format)
    sheet.cells[(raw["row"] - 1, raw["column"] - 1)] = SheetCell(text, number, bordered)


# --------------------------------------------------------------------------- XLS


def _load_xls(data: bytes) -> RawWorkbook:
    import xlrd

    if not data.startswith(CFB_MAGIC):
        raise ReaderError("not an XLS workbook (no OLE compound file header)", "unsupported")
    try:
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, ragged_rows=True, logfile=io.StringIO()
        )
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise ReaderError("the workbook is password-protected (encrypted)", "encrypted") from exc
        raise ReaderError(f"corrupt xls workbook: {exc}", "corrupt") from exc
    except Exception as exc:  # xlrd raises struct/index/assertion errors on damaged BIFF
        raise _wrap_parser_error(exc, "xls") from exc
    try:
        sheets = _xls_sheets(book)
    except ReaderError:
        raise
    except Exception as exc:
        raise _wrap_parser_error(exc, "xls") from exc
    active = next((i for i, s in enumerate(book.sheets()) if s.sheet_selected), 0)
    return RawWorkbook(sheets=sheets, active=active)


def _xls_sheets(book: Any) -> list[RawSheet]:
    import xlrd

    areas = _xls_print_areas(book)
    budget = MAX_CELLS
    sheets = []
    for index, sh in enumerate(book.sheets()):
        sheet = RawSheet(name=sh.name, area=areas.get(index))
        for r in range(sh.nrows):
            width = sh.row_len(r)
            budget -= width
            if budget < 0:
                raise ReaderError(f"workbook has more than {MAX_CELLS} cells", "too-large")
            for c in range(width):
                cell = sh.cell(r, c)
                if cell.ctype == xlrd.XL_CELL_EMPTY:
                    continue
                number_format, bordered = _xls_style(book, cell.xf_index)
                value = _xls_value(book, cell)
                if value is None and not bordered:
                    continue
                text, number = format_value(value, number_format)
                sheet.cells[(r, c)] = SheetCell(text, number, bordered)
        sheet.merges = [(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in sh.merged_cells if rhi > rlo]
        sheets.append(sheet)
    return sheets


def _xls_value(book: Any, cell: Any) -> Any:
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_BLANK, xlrd.XL_CELL_EMPTY):
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR")
    return cell.value


def _xls_style(book: Any, xf_index: int | None) -> tuple[str, bool]:
    if xf_index is None or not 0 <= xf_index < len(book.xf_list):
        return "General", False
    xf = book.xf_list[xf_index]
    fmt = book.format_map.get(xf.format_key)
    border = xf.border
    boxed = any(getattr(border, f"{side}_line_style", 0) for side in ("left", "right", "top", "bottom"))
    return (fmt.format_str if fmt else "General"), bool(boxed)


def _xls_print_areas(book: Any) -> dict[int, Box]:
    """Print areas by sheet index (names xlrd cannot evaluate are ignored)."""
    areas: dict[int, Box] = {}
    for name in book.name_obj_list:
        if name.name != "Print_Area" or name.scope < 0:
            continue
        try:
            _sheet, rlo, rhi, clo, chi = name.area2d(clipped=True)
        except Exception:  # xlrd raises for names it cannot reduce to one area
            continue
        if rhi > rlo and chi > clo:
            areas[name.scope] = (rlo, clo, rhi - 1, chi - 1)
    return areas


def _cfb_error(data: bytes, what: str) -> ReaderError:
    """Why OLE compound-file bytes are not an OOXML package: encrypted package or a legacy binary file."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except Exception:  # olefile raises many types for damaged containers
        return ReaderError(f"corrupt OLE compound file given as a {what} package", "corrupt")
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        return ReaderError(f"the {what} file is password-protected (encrypted Office package)", "encrypted")
    return ReaderError(f"an OLE compound file (legacy binary format), not a {what} package", "unsupported")
