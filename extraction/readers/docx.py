"""DOCX: paragraphs and native tables in body order, embedded objects through ``ole``.

Pure XML walking (no python-docx): ``safety.open_zip`` + ``safety.parse_xml`` (defusedxml).
Paragraphs become text items (runs collapsed, ``w:br`` kept as a newline, style from
``w:pStyle``); tables become ``Table`` objects (reader ``docx-table``) with real spans from
``w:gridSpan``, ``w:vMerge``, ``w:hMerge``, ``w:gridBefore`` / ``w:gridAfter``. Content controls
(``w:sdt``), ``w:customXml``, ``w:ins`` / ``w:moveTo``, hyperlinks and smart tags are transparent;
deleted text (``w:del``, ``w:moveFrom``), field codes and ``mc:Fallback`` copies are skipped.
A nested table becomes its own table after its parent and its text stays in the parent cell.
Embedded OLE objects and pictures become tables at their body position (see ``ole``).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhibiao.errors import ReaderError, UnsafeInputError
from zhibiao.model import Cell, Document, Page, SourceInfo, Table, TextItem
from zhibiao.readers.ole import EMBED_TAGS, embed_from_element, read_embed
from zhibiao.readers.workbook import member_bytes, open_package, pick_title, small_int
from zhibiao.safety import parse_xml

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
APP = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
OFFICE_DOCUMENT = "/officeDocument"
STATISTICS = ("Pages", "Words", "Characters")
READER = "docx-table"
MAX_GRID_COLUMNS = 1000
"""Cap on a span or skipped-column count (Word allows 63 columns; a bigger number is damage)."""
MAX_DEPTH = 40
"""Deepest table-in-table nesting read; deeper is refused as hostile."""

TRANSPARENT = frozenset(
    {
        f"{W}sdt",
        f"{W}sdtContent",
        f"{W}customXml",
        f"{W}ins",
        f"{W}moveTo",
        f"{W}smartTag",
        f"{W}hyperlink",
        f"{W}fldSimple",
        f"{W}r",
        f"{W}dir",
        f"{W}bdo",
        f"{MC}AlternateContent",
    }
)
"""Wrappers whose children are read as if they stood in the wrapper's place."""
SKIPPED = frozenset(
    {
        f"{W}del",
        f"{W}moveFrom",
        f"{W}delText",
        f"{W}instrText",
        f"{W}delInstrText",
        f"{MC}Fallback",
        f"{W}pPr",
        f"{W}rPr",
        f"{W}sdtPr",
        f"{W}sdtEndPr",
        f"{W}tcPr",
        f"{W}trPr",
        f"{W}tblPr",
        f"{W}tblGrid",
        f"{W}tblPrEx",
        f"{W}customXmlPr",
        f"{W}smartTagPr",
        f"{W}footnoteReference",
        f"{W}endnoteReference",
        f"{W}commentReference",
    }
)
"""Elements that print nothing (properties, deleted text, field codes, fallback copies)."""
CHARACTERS = {f"{W}tab": "\t", f"{W}ptab": "\t", f"{W}br": "\n", f"{W}cr": "\n", f"{W}noBreakHyphen": "-"}


def read(data: bytes, path: Path) -> Document:
    """Read a DOCX: text items and tables in body order (``ReaderError`` for anything unreadable)."""
    archive = open_package(data, "DOCX")
    package = _Package(archive)
    root = parse_xml(package.read_required(package.main))
    body = root.find(f"{W}body")
    if body is None:
        raise ReaderError(f"{package.main} has no w:body", "corrupt")
    walker = _Walker(package)
    walker.blocks(body, depth=0, in_cell=False)
    tables = sorted(walker.tables, key=lambda t: t.order)
    for number, table in enumerate(tables, start=1):
        table.index = number
    return Document(
        source=SourceInfo(path=str(path), format="docx", pages=package.page_count()),
        pages=[Page(number=1, items=walker.items)],
        tables=tables,
        warnings=walker.warnings,
    )


# --------------------------------------------------------------------------- package


class _Package:
    """The zip with the main part's relationships resolved to part names."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = set(archive.namelist())
        self.main = self._main_part()
        self.rels = self._relationships(self.main)

    def read(self, name: str) -> bytes | None:
        """A part's bytes, or ``None`` when the package does not have it."""
        return member_bytes(self.archive, name) if name in self.names else None

    def read_required(self, name: str) -> bytes:
        if name not in self.names:
            raise ReaderError(f"not a Word document: the package has no {name}", "corrupt")
        return member_bytes(self.archive, name)

    def resolve(self, rel_id: str) -> tuple[str, bool] | None:
        """Relationship id of the main part -> (part name, is external)."""
        return self.rels.get(rel_id)

    def _main_part(self) -> str:
        rels = self.read("_rels/.rels")
        if rels is not None:
            for rel in parse_xml(rels).iter(f"{PKG_REL}Relationship"):
                if rel.get("Type", "").endswith(OFFICE_DOCUMENT):
                    target = rel.get("Target", "").lstrip("/")
                    if target in self.names:
                        return target
        return "word/document.xml"

    def _relationships(self, part: str) -> dict[str, tuple[str, bool]]:
        folder, name = posixpath.split(part)
        data = self.read(posixpath.join(folder, "_rels", f"{name}.rels"))
        if data is None:
            return {}
        rels: dict[str, tuple[str, bool]] = {}
        for rel in parse_xml(data).iter(f"{PKG_REL}Relationship"):
            target = rel.get("Target", "")
            external = rel.get("TargetMode") == "External"
            if not external:
                target = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
                target = posixpath.normpath(target)
            rels[rel.get("Id", "")] = (target, external)
        return rels

    def page_count(self) -> int | None:
        """``<Pages>`` of docProps/app.xml when the word processor wrote real statistics."""
        data = self.read("docProps/app.xml")
        if data is None:
            return None
        root = parse_xml(data)
        stats = {
            tag: (root.findtext(f"{APP}{tag}") or "").strip() for tag in ("Pages", "Words", "Characters")
        }
        if not stats["Pages"].isdigit() or int(stats["Pages"]) < 1:
            return None
        # python-docx's template says Pages=1 with zero words/characters: statistics never computed
        if stats["Words"] in ("", "0") and stats["Characters"] in ("", "0"):
            return None
        return int(stats["Pages"])


# --------------------------------------------------------------------------- body walk


@dataclass
class _Paragraph:
    text: str
    style: str | None
    embeds: list[Any] = field(default_factory=list)


@dataclass
class _Walker:
    """Walks block content in document order, numbering items and tables in one sequence."""

    package: _Package
    items: list[TextItem] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    order: int = 0
    native_tables: int = 0

    def next_order(self) -> int:
        self.order += 1
        return self.order - 1

    def blocks(self, container: Any, depth: int, in_cell: bool) -> list[str]:
        """Read block content (paragraphs, tables); returns its text lines (a cell's text)."""
        if depth > MAX_DEPTH:
            raise UnsafeInputError(f"tables nested more than {MAX_DEPTH} deep")
        lines: list[str] = []
        recent: list[str] = []
        for element in _flatten(container):
            if element.tag == f"{W}p":
                paragraph = read_paragraph(element)
                if paragraph.text.strip():
                    recent.append(paragraph.text)
                    if not in_cell:
                        self._add_item(paragraph)
                lines.append(paragraph.text)
                self._add_embeds(paragraph, recent)
            elif element.tag == f"{W}tbl":
                table = self.table(element, depth)
                if table.title is None:
                    table.title = pick_title(recent)
                recent = []
                lines.extend("\t".join(row) for row in _nested_rows(table))
        return lines

    def _add_item(self, paragraph: _Paragraph) -> None:
        text = paragraph.text.rstrip()
        self.items.append(TextItem(text=text, order=self.next_order(), reader="docx", style=paragraph.style))

    def _add_embeds(self, paragraph: _Paragraph, recent: list[str]) -> None:
        for element in paragraph.embeds:
            embed = embed_from_element(element, self.package.resolve)
            if embed is None:
                continue
            result = read_embed(embed, self.package.read)
            self.warnings.extend(result.warnings)
            for line in result.lines_before:
                self.items.append(TextItem(text=line, order=self.next_order(), reader=result.reader))
            for table in result.tables:
                table.order = self.next_order()
                table.title = table.title or pick_title(recent)
                self.tables.append(table)
            for line in result.lines_after:
                self.items.append(TextItem(text=line, order=self.next_order(), reader=result.reader))

    def table(self, tbl: Any, depth: int) -> Table:
        """A native table; nested tables and objects in its cells follow it in body order."""
        self.native_tables += 1
        source = f"{self.package.main}#tbl{self.native_tables}"
        table = Table(reader=READER, order=self.next_order(), source=source)
        self.tables.append(table)
        grid = _GridBuilder()
        for tr in _children(tbl, f"{W}tr"):
            grid.start_row(_int_prop(tr, f"{W}trPr", f"{W}gridBefore"))
            for tc in _children(tr, f"{W}tc"):
                text = "\n".join(self.blocks(tc, depth + 1, in_cell=True)).strip("\n")
                grid.add_cell(tc, text)
            grid.end_row(_int_prop(tr, f"{W}trPr", f"{W}gridAfter"))
        table.cells, table.n_rows, table.n_cols = grid.cells, grid.row, grid.width
        return table


def _nested_rows(table: Table) -> list[list[str]]:
    """A nested table's text as kept in its parent cell: one line per row, cells tab-separated."""
    return [[text for text in row if text] for row in _anchor_rows(table)]


def _anchor_rows(table: Table) -> list[list[str]]:
    rows: list[list[str]] = [[] for _ in range(table.n_rows)]
    for cell in sorted(table.cells, key=lambda c: (c.row, c.col)):
        rows[cell.row].append(cell.text)
    return rows


def _flatten(container: Any) -> Iterator[Any]:
    """Children of a container with transparent wrappers opened and skipped elements dropped.

    Iterative (an explicit stack), so hostile nesting cannot exhaust the recursion limit.
    """
    stack = [iter(container)]
    while stack:
        for element in stack[-1]:
            if element.tag in SKIPPED:
                continue
            if element.tag in TRANSPARENT:
                stack.append(_inside(element))
                break
            yield element
        else:
            stack.pop()


def _inside(element: Any) -> Iterator[Any]:
    """An element's children; of ``mc:AlternateContent`` only the first choice's (no duplicates)."""
    if element.tag == f"{MC}AlternateContent":
        choice = element.find(f"{MC}Choice")
        return iter(choice if choice is not None else ())
    return iter(element)


def _children(element: Any, tag: str) -> Iterator[Any]:
    """Children with this tag, looking through content controls and other transparent wrappers."""
    return (child for child in _flatten(element) if child.tag == tag)


def read_paragraph(p: Any) -> _Paragraph:
    """Text of a paragraph (runs collapsed, breaks as newlines) and the objects/pictures it holds."""
    parts: list[str] = []
    embeds: list[Any] = []
    for element in _paragraph_elements(p):
        tag = element.tag
        if tag == f"{W}t":
            parts.append(element.text or "")
        elif tag in CHARACTERS:
            parts.append(CHARACTERS[tag])
        elif tag == f"{W}sym":
            parts.append(_symbol(element))
        elif tag in EMBED_TAGS:
            embeds.append(element)
    style_el = p.find(f"{W}pPr/{W}pStyle")
    style = style_el.get(f"{W}val") if style_el is not None else None
    return _Paragraph(text="".join(parts), style=style, embeds=embeds)


def _paragraph_elements(p: Any) -> Iterator[Any]:
    """Descendants of a paragraph in order, without skipped subtrees, embeds or text boxes' insides."""
    stack = [iter(p)]
    while stack:
        for element in stack[-1]:
            tag = element.tag
            if tag in SKIPPED or tag == f"{W}txbxContent":
                continue
            yield element
            if tag not in EMBED_TAGS and len(element):
                stack.append(_inside(element))
                break
        else:
            stack.pop()


def _symbol(element: Any) -> str:
    code = element.get(f"{W}char", "")
    try:
        value = int(code, 16)
    except ValueError:
        return ""
    if 0xF000 <= value <= 0xF0FF:  # symbol-font private-use range: no faithful Unicode character
        return ""
    return chr(value) if 0 < value < 0x110000 else ""


def _int_prop(element: Any, props: str, name: str, default: int = 0) -> int:
    node = element.find(f"{props}/{name}")
    if node is None:
        return default
    value = small_int(node.get(f"{W}val"))
    return default if value is None else min(value, MAX_GRID_COLUMNS)


def _prop(element: Any, name: str) -> Any:
    return element.find(f"{W}tcPr/{name}")


class _GridBuilder:
    """Places cells on the table grid: horizontal spans, vertical merges, skipped grid columns."""

    def __init__(self) -> None:
        self.cells: list[Cell] = []
        self.row = 0
        self.width = 0
        self._col = 0
        self._open: dict[int, Cell] = {}
        """Vertically merged cells that the next row may continue, by starting column."""
        self._continued: dict[int, Cell] = {}
        self._last: Cell | None = None

    def start_row(self, grid_before: int) -> None:
        self._col = grid_before
        self._continued = {}
        self._last = None

    def add_cell(self, tc: Any, text: str) -> None:
        span = _int_prop(tc, f"{W}tcPr", f"{W}gridSpan", default=1) or 1
        v_merge = _merge_kind(_prop(tc, f"{W}vMerge"))
        h_merge = _merge_kind(_prop(tc, f"{W}hMerge"))
        col = self._col
        self._col += span
        above = self._open.get(col)
        if v_merge == "continue" and above is not None and above.col_span == span:
            above.row_span = self.row - above.row + 1
            above.text = "\n".join(t for t in (above.text, text) if t)
            self._continued[col] = above
            return
        if h_merge == "continue" and self._last is not None:
            self._last.col_span += span
            self._last.text = "\n".join(t for t in (self._last.text, text) if t)
            return
        cell = Cell(row=self.row, col=col, col_span=span, text=text, source=f"r{self.row + 1}c{col + 1}")
        self.cells.append(cell)
        self._last = cell
        if v_merge == "restart":
            self._continued[col] = cell

    def end_row(self, grid_after: int) -> None:
        self.width = max(self.width, self._col + grid_after)
        self._open = self._continued
        self.row += 1


def _merge_kind(node: Any) -> str | None:
    """``restart`` / ``continue`` for a ``w:vMerge``/``w:hMerge`` element (no value means continue)."""
    if node is None:
        return None
    return "restart" if node.get(f"{W}val") == "restart" else "continue"
