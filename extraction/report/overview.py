"""The archive overview: totals, plots, the error list and the documents, paginated statically
(``index.html``, ``index-2.html`` …) so that an archive of thousands loads one page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from zhibiao.report.charts import hbar_chart, vbar_chart
from zhibiao.report.layout import count_item, esc, page, sortable_head
from zhibiao.report.summary import CONFIDENCE_BINS, UNKNOWN, ArchiveTotals, DocSummary

PAGE_SIZE = 100
"""Documents listed per overview page."""
ERRORS_ON_INDEX = 20
"""Errors listed on the first overview page; all of them are on ``errors.html``."""
TITLE = "zhibiao review report"


def overview_name(page_number: int) -> str:
    """File name of overview page ``page_number`` (1-based)."""
    return "index.html" if page_number == 1 else f"index-{page_number}.html"


def page_of(position: int) -> int:
    """Overview page listing the document at 0-based ``position``."""
    return position // PAGE_SIZE + 1


def page_name(name: str) -> str:
    """File name (no folder) of a document's page; a batch's nested names stay unique and flat."""
    return f"{name.replace('/', '__')}.html"


def doc_href(name: str) -> str:
    return f"docs/{quote(page_name(name))}"


def totals_html(totals: ArchiveTotals) -> str:
    items = [
        ("documents", "documents", totals.documents),
        ("pages", "pages", totals.pages),
        ("tables", "tables", totals.tables),
        ("projects", "projects", totals.projects),
        ("records", "records", totals.records),
        ("score_rows", "score rows", totals.score_rows),
        ("flags", "flags", totals.flags),
        ("errors", "errors", totals.errors),
        ("failed_documents", "failed documents", totals.failed_documents),
    ]
    return f'<dl class="counts totals">{"".join(count_item(k, label, v) for k, label, v in items)}</dl>'


def _by_count(counter: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0] == UNKNOWN, kv[0]))


def charts_html(totals: ArchiveTotals) -> str:
    """The overview's plots: records per year and department, flag types, confidence, speed."""
    years = sorted(totals.records_per_year.items(), key=lambda kv: (kv[0] == UNKNOWN, kv[0]))
    width = 1 / CONFIDENCE_BINS
    bins = [
        (f"{i * width:.1f}–{(i + 1) * width:.1f}", n, "conf-" + _bin_class(i))
        for i, n in enumerate(totals.confidence_bins)
    ]
    speed = sorted(totals.seconds_per_page().items(), key=lambda kv: -kv[1])
    charts = [
        vbar_chart("Records per year", [(y, n, "") for y, n in years]),
        hbar_chart(
            "Records per department", [(d, n, "") for d, n in _by_count(totals.records_per_department)]
        ),
        hbar_chart(
            "Flag types",
            [
                (code, n, f"flag-{totals.flag_severity.get(code, 'info')}")
                for code, n in _by_count(totals.flag_codes)
            ],
        ),
        vbar_chart("Record confidence", bins if any(totals.confidence_bins) else []),
        hbar_chart("Seconds per page by stage", [(s, v, "") for s, v in speed], fmt=seconds_text),
    ]
    return f'<section class="charts" aria-label="plots">{"".join(charts)}</section>'


def seconds_text(seconds: float) -> str:
    """``1.23 s`` from a second up, ``4.5 ms`` below."""
    return f"{seconds:.3g} s" if seconds >= 1 else f"{seconds * 1000:.3g} ms"


def _bin_class(index: int) -> str:
    low = index / CONFIDENCE_BINS
    return "hi" if low >= 0.9 else "mid" if low >= 0.7 else "lo"


def error_rows(docs: Sequence[DocSummary], limit: int | None) -> list[str]:
    rows = []
    for doc in docs:
        for code, stage, message in doc.errors:
            rows.append(
                f'<tr><td><a href="{esc(doc_href(doc.name))}">{esc(doc.name)}</a></td>'
                f"<td>{esc(code)}</td><td>{esc(stage)}</td><td>{esc(message)}</td></tr>"
            )
            if limit is not None and len(rows) >= limit:
                return rows
    return rows


def errors_table(rows: list[str]) -> str:
    head = "<tr><th scope='col'>document</th><th scope='col'>code</th><th scope='col'>stage</th>" + (
        "<th scope='col'>reason</th></tr>"
    )
    return f'<table class="errorlist sortable"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def errors_section(docs: Sequence[DocSummary], totals: ArchiveTotals) -> str:
    if not totals.errors:
        return '<section class="errors"><h2>Errors</h2><p class="empty">No errors.</p></section>'
    rows = error_rows(docs, ERRORS_ON_INDEX)
    more = f'<p><a href="errors.html">All {totals.errors} errors</a></p>' if totals.errors > len(rows) else ""
    return f'<section class="errors"><h2>Errors ({totals.errors})</h2>{errors_table(rows)}{more}</section>'


DOC_COLUMNS = (
    ("document", "text"),
    ("format", "text"),
    ("pages", "num"),
    ("tables", "num"),
    ("records", "num"),
    ("flags", "num"),
    ("errors", "num"),
    ("department", "text"),
    ("year", "num"),
)


def doc_row(doc: DocSummary) -> str:
    status = "failed" if doc.errors else "flagged" if doc.flags else "ok"
    cells = [
        f'<td data-v="{esc(doc.name)}"><a href="{esc(doc_href(doc.name))}">{esc(doc.name)}</a></td>',
        f"<td>{esc(doc.format)}</td>",
        f'<td data-col="pages">{doc.pages}</td>',
        f'<td data-col="tables">{doc.tables}</td>',
        f'<td data-col="records">{doc.records}</td>',
        f'<td data-col="flags">{doc.flags}</td>',
        f'<td data-col="errors">{len(doc.errors)}</td>',
        f"<td>{esc(doc.department or '')}</td>",
        f'<td data-v="{doc.year or ""}">{doc.year or ""}</td>',
    ]
    return f'<tr data-doc="{esc(doc.name)}" class="status-{status}">{"".join(cells)}</tr>'


def documents_table(docs: Sequence[DocSummary]) -> str:
    body = "".join(doc_row(doc) for doc in docs)
    return (
        f'<table class="documents sortable" aria-label="documents">{sortable_head(DOC_COLUMNS)}'
        f"<tbody>{body}</tbody></table>"
    )


def pager(current: int, pages: int) -> str:
    if pages <= 1:
        return ""
    links = []
    for number in range(1, pages + 1):
        if number == current:
            links.append(f'<span aria-current="page">{number}</span>')
        elif number in (1, pages) or abs(number - current) <= 3:
            links.append(f'<a href="{overview_name(number)}">{number}</a>')
        elif links and links[-1] != "…":
            links.append("…")
    return f'<nav class="pager" aria-label="document pages">{" ".join(links)}</nav>'


def overview_pages(docs: Sequence[DocSummary], totals: ArchiveTotals, source: str) -> dict[str, str]:
    """File name -> HTML of every overview page (documents in the given order)."""
    n_pages = max(1, -(-len(docs) // PAGE_SIZE))
    out: dict[str, str] = {}
    for number in range(1, n_pages + 1):
        chunk = docs[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        first = (number - 1) * PAGE_SIZE + 1
        listing = f"documents {first}–{first + len(chunk) - 1} of {len(docs)}" if docs else "no documents"
        parts = [f'<p class="source">{esc(source)}</p>', totals_html(totals)]
        if number == 1:
            parts += [charts_html(totals), errors_section(docs, totals)]
        parts.append(
            f'<section class="doclist"><h2>Documents <small>({esc(listing)})</small></h2>'
            f"{pager(number, n_pages)}{documents_table(chunk)}{pager(number, n_pages)}</section>"
        )
        nav = "" if number == 1 else '<a href="index.html">overview</a>'
        out[overview_name(number)] = page(TITLE, TITLE, "".join(parts), "", nav, "overview")
    if totals.errors > ERRORS_ON_INDEX:
        rows = error_rows(docs, None)
        body = f"<section class='errors'><h2>Errors ({totals.errors})</h2>{errors_table(rows)}</section>"
        out["errors.html"] = page(
            f"errors · {TITLE}", "Errors", body, "", '<a href="index.html">overview</a>'
        )
    return out
