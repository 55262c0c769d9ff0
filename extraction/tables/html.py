"""Tables to and from the gold HTML form (``<table><tr><td rowspan colspan>``)."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from zhibiao.model import Cell, Table


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[tuple[int, int, str]]] = []
        self._cell: list[str] | None = None
        self._spans = (1, 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            a = dict(attrs)
            self._spans = (int(a.get("rowspan") or 1), int(a.get("colspan") or 1))
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            if not self.rows:
                self.rows.append([])
            self.rows[-1].append((*self._spans, "".join(self._cell)))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_from_html(markup: str, reader: str = "html") -> Table:
    """Parse one HTML table, placing cells on the grid the way browsers do (skip occupied slots)."""
    parser = _TableParser()
    parser.feed(markup)
    occupied: set[tuple[int, int]] = set()
    cells: list[Cell] = []
    for r, row in enumerate(parser.rows):
        c = 0
        for row_span, col_span, text in row:
            while (r, c) in occupied:
                c += 1
            cells.append(Cell(row=r, col=c, row_span=row_span, col_span=col_span, text=text))
            occupied.update((r + i, c + j) for i in range(row_span) for j in range(col_span))
            c += col_span
    n_rows = max((r for r, _ in occupied), default=-1) + 1
    n_cols = max((c for _, c in occupied), default=-1) + 1
    return Table(reader=reader, n_rows=n_rows, n_cols=n_cols, cells=cells)


def table_to_html(table: Table) -> str:
    """Serialise a table to the gold HTML form (cells in row-major anchor order)."""
    by_row: dict[int, list[Cell]] = {}
    for cell in sorted(table.cells, key=lambda c: (c.row, c.col)):
        by_row.setdefault(cell.row, []).append(cell)
    lines = ["<table>"]
    for r in range(table.n_rows):
        tds = []
        for cell in by_row.get(r, []):
            attrs = ""
            if cell.row_span > 1:
                attrs += f' rowspan="{cell.row_span}"'
            if cell.col_span > 1:
                attrs += f' colspan="{cell.col_span}"'
            tds.append(f"<td{attrs}>{html.escape(cell.text, quote=False)}</td>")
        lines.append("<tr>" + "".join(tds) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)
