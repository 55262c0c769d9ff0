"""The review page of one document: its pages with the cells overlaid, the tables' grids, the
records as a sortable table, the provenance panel, projects, and the narrative sentences with
their spans highlighted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from zhibiao.model import Cell, Table
from zhibiao.report.layout import (
    attrs,
    confidence_class,
    count_item,
    data_island,
    display_width,
    esc,
    legend,
    number_text,
    page,
    sortable_head,
)
from zhibiao.report.pages import PageView
from zhibiao.report.review import (
    CellKey,
    ReviewItem,
    cell_id,
    citing_items,
    flagged_cells,
    panel_data,
    tables_by_index,
    value_text,
    worst_severity,
)
from zhibiao.report.summary import DocSummary
from zhibiao.result import ExtractionResult, Project

MAX_GRID_SLOTS = 200_000
"""A table with more row × column slots than this is listed cell by cell, not drawn as a grid."""
DRAWN_FONT_MAX = 9.0
DRAWN_FONT_MIN = 3.0
LINE_HEIGHT = 1.2
MAX_DRAWN_CHARS = 400
ENTITY_LABELS = (("name", "指标"), ("target", "目标"), ("actual", "实际"))
"""Narrative spans highlighted in a sentence: record field -> label shown on the span."""


@dataclass
class CellMarks:
    """Per cell: the records citing it, the lowest confidence among them, the worst flag severity."""

    citing: dict[CellKey, list[str]]
    confidence: dict[CellKey, float]
    flags: dict[CellKey, str]

    @classmethod
    def build(cls, items: list[ReviewItem], tables: dict[int, Table]) -> CellMarks:
        citing = citing_items(items)
        confidence: dict[CellKey, float] = {}
        flags: dict[CellKey, str] = {}
        for item in items:
            for key in item.cell_keys():
                confidence[key] = min(confidence.get(key, 1.0), item.confidence)
            if item.provenance is None or item.provenance.table is None:
                continue
            number = item.provenance.table
            for (row, col), severity in flagged_cells(item, tables.get(number)).items():
                key = (number, row, col)
                flags[key] = worst_severity([flags.get(key, severity), severity]) or severity
        return cls(citing, confidence, flags)

    def classes(self, key: CellKey, cell: Cell) -> str:
        conf = min(cell.confidence, self.confidence.get(key, 1.0))
        names = ["cell", confidence_class(conf)]
        if key in self.citing:
            names.append("cited")
        if key in self.flags:
            names.append(f"flag-{self.flags[key]}")
        return " ".join(names)

    def recs(self, key: CellKey) -> str | None:
        return " ".join(self.citing[key]) if key in self.citing else None


# ---------------------------------------------------------------- page views (SVG over a picture)


def _flag_mark(severity: str) -> str:
    return f'<span class="flagmark" role="img" aria-label="{esc(severity)} flag">⚑</span>'


def _svg_cell(number: int, cell: Cell, marks: CellMarks, drawn: bool) -> str:
    assert cell.bbox is not None
    x0, y0, x1, y1 = cell.bbox
    key = (number, cell.row, cell.col)
    width, height = max(x1 - x0, 0.5), max(y1 - y0, 0.5)
    rect = (
        f"<rect{attrs(class_=marks.classes(key, cell), data_cell=cell_id(*key), data_recs=marks.recs(key))}"
        f' x="{x0:.1f}" y="{y0:.1f}" width="{width:.1f}" height="{height:.1f}">'
        f"<title>{esc(cell.text)}</title></rect>"
    )
    parts = [rect]
    if drawn and cell.text:
        parts.append(drawn_text(cell.text, x0, y0, width, height))
    if key in marks.flags:
        size = min(max(height * 0.6, 4.0), 14.0)
        parts.append(
            f'<text class="flagmark flag-{esc(marks.flags[key])}" x="{x1 - size:.1f}" y="{y0 + size:.1f}" '
            f'font-size="{size:.1f}" aria-hidden="true">⚑</text>'
        )
    return "".join(parts)


def fit_text(text: str, width: float, height: float) -> tuple[float, list[str]]:
    """Font size and lines that fit a cell's box (shrinking to ``DRAWN_FONT_MIN``, then cut with …)."""
    text = text[:MAX_DRAWN_CHARS]
    size = min(DRAWN_FONT_MAX, height * 0.7)
    while True:
        lines = wrap_text(text, max(int(2 * (width - 2) / max(size, 0.1)), 2))
        if len(lines) * size * LINE_HEIGHT <= height or size <= DRAWN_FONT_MIN:
            break
        size = max(size * 0.85, DRAWN_FONT_MIN)
    fits = max(int(height / (size * LINE_HEIGHT)), 1)
    if len(lines) > fits:
        lines = [*lines[: fits - 1], lines[fits - 1][:-1] + "…"]
    return size, lines


def wrap_text(text: str, units: int) -> list[str]:
    """Lines of at most ``units`` half-width units (a CJK character is two), breaking anywhere."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0
        for ch in paragraph:
            w = display_width(ch)
            if used + w > units and line:
                lines.append(line)
                line, used = "", 0
            line, used = line + ch, used + w
        lines.append(line)
    return lines


def drawn_text(text: str, x0: float, y0: float, width: float, height: float) -> str:
    """The cell's text as SVG lines inside its box (for pages drawn from geometry)."""
    size, lines = fit_text(text, width, height)
    spans = "".join(
        f'<tspan x="{x0 + 1:.1f}" y="{y0 + size * (LINE_HEIGHT * i + 1):.1f}">{esc(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text font-size="{size:.1f}">{spans}</text>'


def page_view_html(view: PageView, marks: CellMarks) -> str:
    """One page (or drawn table) with its cells as clickable boxes over it."""
    drawn = view.image is None
    cells = "".join(_svg_cell(n, c, marks, drawn) for n, c in view.cells)
    boxes = "".join(
        f'<rect class="recbox" data-box="{esc(item_id)}" x="{b[0]:.1f}" y="{b[1]:.1f}" '
        f'width="{max(b[2] - b[0], 0.5):.1f}" height="{max(b[3] - b[1], 0.5):.1f}"/>'
        for item_id, b in view.boxes
    )
    box = f"{view.x0:.1f} {view.y0:.1f} {view.width:.1f} {view.height:.1f}"
    label = f"{view.label}: {len(view.cells)} cells"
    fit = "" if drawn else ' preserveAspectRatio="none"'
    svg = (
        f'<svg class="overlay" viewBox="{box}"{fit} role="group" '
        f'aria-label="{esc(label)}">{cells}{boxes}</svg>'
    )
    if drawn:
        inner = f'<div class="drawn">{svg}</div>'
    else:
        inner = (
            f'<div class="raster"><img src="../{esc(view.image)}" alt="{esc(view.label)}" loading="lazy" '
            f'width="{view.width:.0f}" height="{view.height:.0f}">{svg}</div>'
        )
    return (
        f'<figure class="pageview" id="view-{esc(view.key)}"><figcaption>{esc(view.label)}'
        f" · {len(view.cells)} cells</figcaption>{inner}</figure>"
    )


# ---------------------------------------------------------------- table grids


def _grid_cell(number: int, cell: Cell, marks: CellMarks) -> str:
    key = (number, cell.row, cell.col)
    mark = _flag_mark(marks.flags[key]) if key in marks.flags else ""
    return (
        f"<td{attrs(class_=marks.classes(key, cell), data_cell=cell_id(*key), data_recs=marks.recs(key))}"
        f"{attrs(rowspan=cell.row_span if cell.row_span > 1 else None)}"
        f"{attrs(colspan=cell.col_span if cell.col_span > 1 else None)}>{mark}{esc(cell.text)}</td>"
    )


def grid_html(number: int, table: Table, marks: CellMarks) -> str:
    """The table as an HTML grid with its merged cells; empty slots stay empty cells."""
    if table.n_rows * table.n_cols > MAX_GRID_SLOTS or not table.cells:
        items = "".join(
            f"<li>[{c.row},{c.col}] {esc(c.text)}</li>"
            for c in sorted(table.cells, key=lambda c: (c.row, c.col))
        )
        return f'<ul class="celllist">{items}</ul>'
    grid = table.grid()
    rows = []
    for r, slots in enumerate(grid):
        cells = []
        for c, cell in enumerate(slots):
            if cell is None:
                cells.append('<td class="empty"></td>')
            elif cell.row == r and cell.col == c:
                cells.append(_grid_cell(number, cell, marks))
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f'<div class="gridwrap"><table class="grid">{"".join(rows)}</table></div>'


def table_section(number: int, table: Table, marks: CellMarks, has_view: bool) -> str:
    bits = [f"table {number}", table.title, table.sheet, table.reader, f"{table.n_rows} × {table.n_cols}"]
    if table.pages:
        bits.append("pages " + ", ".join(map(str, table.pages)))
    elif table.page:
        bits.append(f"page {table.page}")
    caption = " · ".join(esc(b) for b in bits if b)
    open_ = "" if has_view else " open"
    return (
        f'<details class="table" id="table-{number}"{open_}><summary>{caption}</summary>'
        f"{grid_html(number, table, marks)}</details>"
    )


# ---------------------------------------------------------------- records table


RECORD_COLUMNS = (
    ("#", "num"),
    ("indicator", "text"),
    ("target", "text"),
    ("actual", "text"),
    ("weight", "num"),
    ("score", "num"),
    ("conf.", "num"),
    ("flags", "text"),
    ("page", "num"),
)


def _td(text: str, sort: str | float | None = None, class_: str | None = None) -> str:
    return f"<td{attrs(data_v=sort, class_=class_)}>{text}</td>"


def _flag_badges(item: ReviewItem) -> str:
    return " ".join(
        f'<span class="badge flag-{esc(f.severity)}" title="{esc(f.message)}">{esc(f.code)}</span>'
        for f in item.flags
    )


def record_row(number: int, item: ReviewItem) -> str:
    context = " / ".join(x for x in (item.level1, item.level2) if x)
    if item.kind != "indicator":
        context = " · ".join(x for x in (item.kind, context) if x)
    small = (
        f'<small title="{esc(item.project)}">{esc(context or item.project)}</small>'
        if context or item.project
        else ""
    )
    target = " ".join(x for x in (item.operator, value_text(item.target)) if x)
    page_no = item.provenance.page if item.provenance else None
    severity = item.severity
    cells = [
        _td(str(number + 1), number + 1),
        _td(f"{esc(item.name)}{small}", item.name),
        _td(esc(target), value_text(item.target)),
        _td(esc(value_text(item.actual))),
        _td(number_text(item.weight), item.weight),
        _td(number_text(item.score), item.score),
        _td(f"{item.confidence:.2f}", item.confidence, confidence_class(item.confidence)),
        _td(_flag_badges(item), " ".join(f.code for f in item.flags)),
        _td("" if page_no is None else str(page_no), page_no),
    ]
    row_attrs = attrs(
        data_rec=item.id, data_flag=severity, tabindex="0", class_=f"sev-{severity}" if severity else None
    )
    return f"<tr{row_attrs}>{''.join(cells)}</tr>"


def records_table(items: list[ReviewItem]) -> str:
    if not items:
        return '<p class="empty">No records.</p>'
    body = "".join(record_row(n, item) for n, item in enumerate(items))
    return (
        '<table class="records sortable" aria-label="records">'
        f"{sortable_head(RECORD_COLUMNS)}<tbody>{body}</tbody></table>"
    )


# ---------------------------------------------------------------- projects and narrative


def _budget_rows(project: Project) -> str:
    budget = project.budget.model_dump(exclude_none=True)
    unit = budget.pop("unit", None)
    if not budget:
        return ""
    cells = "".join(
        f"<tr><th scope='row'>{esc(k)}</th><td>{esc(number_text(v))}</td></tr>" for k, v in budget.items()
    )
    caption = f"budget ({esc(unit)})" if unit else "budget"
    return f'<table class="budget"><caption>{caption}</caption>{cells}</table>'


def project_card(number: int, project: Project) -> str:
    """A project's facts, budget and project-level flags; clicking it shows its provenance."""
    flags = "".join(
        f'<li class="flag-{esc(f.severity)}">{_flag_mark(f.severity)}<b>{esc(f.code)}</b> '
        f"{esc(f.message)}</li>"
        for f in project.flags
    )
    facts = [project.code, project.family, project.department, project.implementing_unit]
    facts.append(f"{len(project.indicators)} indicators")
    if project.total_weight is not None or project.total_score is not None:
        facts.append(
            f"Σ weight {number_text(project.total_weight)} · Σ score {number_text(project.total_score)}"
        )
    return (
        f'<article class="project" data-rec="p{number}" tabindex="0">'
        f"<h3>{esc(project.name or '(unnamed project)')}</h3>"
        f'<p class="facts">{" · ".join(esc(f) for f in facts if f)}</p>'
        f"{_budget_rows(project)}"
        f"{f'<ul class=flags>{flags}</ul>' if flags else ''}</article>"
    )


def entity_spans(sentence: str, wanted: Iterable[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """(start, end, label) of each wanted text in the sentence: first free occurrence, no overlaps."""
    spans: list[tuple[int, int, str]] = []
    for label, text in wanted:
        if not text:
            continue
        start = sentence.find(text)
        while start >= 0 and any(start < e and start + len(text) > s for s, e, _ in spans):
            start = sentence.find(text, start + 1)
        if start >= 0:
            spans.append((start, start + len(text), label))
    return sorted(spans)


def highlighted(sentence: str, spans: list[tuple[int, int, str]]) -> str:
    """The sentence as HTML with each span marked and labelled (displaCy style)."""
    parts, at = [], 0
    for start, end, label in spans:
        parts.append(esc(sentence[at:start]))
        parts.append(
            f'<mark class="ent" data-label="{esc(label)}">{esc(sentence[start:end])}'
            f'<span class="ent-label">{esc(label)}</span></mark>'
        )
        at = end
    parts.append(esc(sentence[at:]))
    return "".join(parts)


def narrative_section(items: list[ReviewItem]) -> str:
    facts = [item for item in items if item.kind == "narrative"]
    if not facts:
        return ""
    by_project: dict[str, list[ReviewItem]] = defaultdict(list)
    for item in facts:
        by_project[item.project or ""].append(item)
    blocks = []
    for project, group in by_project.items():
        sentences = []
        for item in group:
            wanted = [(label, _entity_text(item, name)) for name, label in ENTITY_LABELS]
            text = item.sentence or item.name
            sentences.append(
                f'<p class="sentence" id="sent-{esc(item.id)}" data-rec="{esc(item.id)}" tabindex="0">'
                f"{highlighted(text, entity_spans(text, wanted))}</p>"
            )
        title = f"<h3>{esc(project)}</h3>" if project else ""
        blocks.append(f"{title}{''.join(sentences)}")
    return (
        '<section class="narrative" aria-labelledby="h-narrative"><h2 id="h-narrative">Narrative text</h2>'
        f"{''.join(blocks)}</section>"
    )


def _entity_text(item: ReviewItem, name: str) -> str:
    value = getattr(item, name)
    return value if isinstance(value, str) else value_text(value)


# ---------------------------------------------------------------- the page


def doc_counts(summary: DocSummary) -> str:
    items = [
        ("pages", "pages", summary.pages),
        ("tables", "tables", summary.tables),
        ("projects", "projects", summary.projects),
        ("records", "records", summary.records),
        ("score_rows", "score rows", summary.score_rows),
        ("flags", "flags", summary.flags),
        ("errors", "errors", len(summary.errors)),
        ("warnings", "warnings", summary.warnings),
    ]
    return f'<dl class="counts">{"".join(count_item(k, label, v) for k, label, v in items)}</dl>'


def _source_line(result: ExtractionResult, source: Path | None) -> str:
    src = result.source
    path = esc(src.path)
    if source is not None:
        path = f'<a href="{esc(source.resolve().as_uri())}">{path}</a>'
    facts = [src.format, result.department, str(result.year) if result.year else None]
    timing = " · ".join(f"{k} {v:.3f} s" for k, v in result.timings.items())
    return (
        f'<p class="source">{path} · {" · ".join(esc(f) for f in facts if f)}</p>'
        f"{f'<p class=timings>{esc(timing)}</p>' if timing else ''}"
    )


def _messages(result: ExtractionResult, notes: list[str]) -> str:
    errors = "".join(
        f'<li class="flag-error"><b>{esc(e.code)}</b> ({esc(e.stage)}): {esc(e.message)}</li>'
        for e in result.errors
    )
    warnings = "".join(f"<li>{esc(w)}</li>" for w in [*result.warnings, *notes])
    out = f'<ul class="errors" aria-label="errors">{errors}</ul>' if errors else ""
    if warnings:
        n = len(result.warnings) + len(notes)
        out += (
            f'<details class="warnings"><summary>{n} warnings and notes</summary>'
            f"<ul>{warnings}</ul></details>"
        )
    return out


def document_html(
    result: ExtractionResult,
    summary: DocSummary,
    items: list[ReviewItem],
    views: list[PageView],
    notes: list[str],
    source: Path | None,
    back: str,
) -> str:
    """The whole review page of one document."""
    tables = tables_by_index(result.tables)
    marks = CellMarks.build(items, tables)
    on_views = {n for view in views for n, _ in view.cells}
    view_html = "".join(page_view_html(v, marks) for v in views)
    grids = "".join(table_section(n, t, marks, n in on_views) for n, t in tables.items())
    projects = "".join(project_card(i, p) for i, p in enumerate(result.projects))
    score_flags = "".join(
        f'<li data-rec="s{i}" tabindex="0">{esc(t.title or "score table")}: '
        f"{', '.join(esc(f.code) for f in t.flags)}</li>"
        for i, t in enumerate(result.score_tables)
        if t.flags
    )
    left = view_html + grids if (view_html or grids) else '<p class="empty">No tables.</p>'
    body = (
        f"{_source_line(result, source)}{doc_counts(summary)}{_messages(result, notes)}{legend()}"
        '<div class="review">'
        f'<section class="pages" aria-label="pages and tables">{left}</section>'
        '<aside class="side" aria-label="records and provenance">'
        f'<h2>Records <small>({len(items)})</small></h2><div class="recwrap">{records_table(items)}</div>'
        '<section id="provenance" class="provenance" aria-live="polite" tabindex="-1">'
        "<h2>Provenance</h2><p class='hint'>Click a record, a cell or a sentence to see where it came from "
        "and the checks that flagged it.</p></section></aside></div>"
        + (f'<section class="projects"><h2>Projects</h2>{projects}</section>' if projects else "")
        + (
            f'<section class="scoretables"><h2>Score table flags</h2><ul>{score_flags}</ul></section>'
            if score_flags
            else ""
        )
        + narrative_section(items)
    )
    name = Path(result.source.path).name or summary.name
    nav = f'<a href="{esc(back)}">← overview</a>'
    return page(
        title=f"{name} · zhibiao review",
        heading=esc(name),
        body=body,
        root="../",
        nav=nav,
        body_class="document",
        data=data_island("panel-data", panel_data(result, items)),
    )
