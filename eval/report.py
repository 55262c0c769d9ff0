"""Writing the report: ``report.json``, ``report.md`` (+ PNGs) and a self-contained ``report.html``.

The HTML inlines its matplotlib figures as base64 PNGs so it opens from ``file://`` anywhere. Figures:
per-field accuracy by rendition kind, errors per document by kind of error, table similarity next to
the peers, and seconds per page by stage.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MAX_DIFFS_PER_DOCUMENT = 40
"""Side-by-side gold/predicted rows listed per document (all of them stay in report.json)."""

GROUP_COLUMNS = (
    ("predictions", "n", "d"),
    ("field_accuracy", "field acc", "p"),
    ("indicator_precision", "ind P", "p"),
    ("indicator_recall", "ind R", "p"),
    ("indicator_f1", "ind F1", "p"),
    ("record_exact_match", "exact rec", "p"),
    ("teds", "TEDS", "p"),
    ("teds_s", "TEDS-S", "p"),
    ("cell_text_accuracy", "cell acc", "p"),
)


def fmt(value: Any, kind: str = "p") -> str:
    """A metric for a table cell: ratios with 3 decimals, ``–`` for not measured."""
    if value is None:
        return "–"
    if kind == "d":
        return str(value)
    if kind == "s":
        return f"{value:.3f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, dict):
        value = value.get("text") if "text" in value else json.dumps(value, ensure_ascii=False)
    elif isinstance(value, list):
        value = " | ".join(str(v) for v in value)
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- tables as rows -------------------------------------------------------------------------------


def group_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Per rendition kind (and overall): the headline numbers."""
    header = ["rendition", *(title for _, title, _ in GROUP_COLUMNS), "s/page"]
    rows = []
    summary = report["summary"]
    for name, group in [*summary["groups"].items(), ("all", summary)]:
        rows.append([name, *(fmt(group.get(k), f) for k, _, f in GROUP_COLUMNS), fmt(_per_page(group), "s")])
    return header, rows


def _per_page(group: dict[str, Any]) -> float | None:
    speed = group.get("speed") or {}
    stages = speed.get("stages") or {}
    if "total" in stages:
        return stages["total"]["per_page"]
    if stages and speed.get("pages"):
        return sum(s["seconds"] for s in stages.values()) / speed["pages"]
    wall = speed.get("wall") or {}
    return wall.get("per_page")


def field_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Per field: support and P/R/F1 overall, then the accuracy in each rendition kind."""
    summary = report["summary"]
    groups = [g for g, v in summary["groups"].items() if v.get("fields")]
    header = ["field", "support", "accuracy", "P", "R", "F1", *groups]
    rows = []
    for name, stats in (summary.get("fields") or {}).items():
        per_group = [
            fmt(((summary["groups"][g].get("fields") or {}).get(name) or {}).get("accuracy")) for g in groups
        ]
        rows.append(
            [
                name,
                str(stats["support"]),
                *(fmt(stats[k]) for k in ("accuracy", "precision", "recall", "f1")),
                *per_group,
            ]
        )
    return header, rows


def document_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = [
        "document",
        "kind",
        "field acc",
        "ind P",
        "ind R",
        "ind F1",
        "exact rec",
        "TEDS",
        "TEDS-S",
        "diffs",
        "errors",
    ]
    rows = []
    for doc in report["documents"]:
        tables = doc.get("tables") or {}
        rows.append(
            [
                doc["name"],
                doc["kind"],
                fmt(doc.get("field_accuracy")),
                fmt(doc.get("indicator_precision")),
                fmt(doc.get("indicator_recall")),
                fmt(doc.get("indicator_f1")),
                fmt(doc.get("record_exact_match")),
                fmt(tables.get("teds")),
                fmt(tables.get("teds_s")),
                str(len(doc.get("diffs") or [])),
                "; ".join(e.get("code", "") for e in doc.get("errors") or []) or "",
            ]
        )
    return header, rows


PEER_COMPARISON = (
    ("pdf", "NAME.pdf", (("pdfplumber", "merged"), ("pdfplumber", "pages"))),
    ("scan-pdf", "NAME_scan.pdf", (("rapidtable", "merged"),)),
    ("scan-png", "NAME_scan/pageN.png", (("rapidtable", "pages"),)),
)
"""zhibiao's rendition kind, the file the peers read, and which peer results sit next to it."""

SCOPES = {"merged": "whole tables (page parts stacked)", "pages": "per-page parts"}


def peer_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """zhibiao next to each peer on the same tables: TEDS, TEDS-S, cell accuracy."""
    header = [
        "file",
        "system",
        "scored against",
        "tables",
        "TEDS",
        "TEDS-S",
        "cell acc",
        "cell F1",
        "s/table part",
    ]
    rows = []
    groups = report["summary"]["groups"]
    for kind, label, peers in PEER_COMPARISON:
        ours = groups.get(kind) or {}
        scope = "per-page parts" if kind == "scan-png" else "whole tables"
        if ours.get("teds") is not None:
            rows.append(
                [
                    label,
                    f"zhibiao ({kind})",
                    scope,
                    str(ours.get("tables", 0)),
                    fmt(ours.get("teds")),
                    fmt(ours.get("teds_s")),
                    fmt(ours.get("cell_text_accuracy")),
                    fmt(ours.get("cell_f1")),
                    "",
                ]
            )
        for peer, peer_scope in peers:
            entry = report.get("peers", {}).get(peer) or {}
            scores = entry.get(peer_scope)
            if scores is None:
                rows.append(
                    [
                        label,
                        peer,
                        SCOPES[peer_scope],
                        "–",
                        "–",
                        "–",
                        "–",
                        "–",
                        "; ".join(entry.get("notes") or []),
                    ]
                )
                continue
            rows.append(
                [
                    label,
                    peer,
                    SCOPES[peer_scope],
                    str(scores["tables"]),
                    fmt(scores["teds"]),
                    fmt(scores["teds_s"]),
                    fmt(scores["cell_text_accuracy"]),
                    fmt(scores["cell_f1"]),
                    fmt(entry.get("seconds_per_table_part"), "s"),
                ]
            )
    return header, rows


def speed_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["rendition", "stage", "seconds", "s/page", "s/table", "s/document"]
    rows = []
    for name, group in report["summary"]["groups"].items():
        speed = group.get("speed") or {}
        for stage, s in (speed.get("stages") or {}).items():
            rows.append(
                [
                    name,
                    stage,
                    fmt(s["seconds"], "s"),
                    fmt(s["per_page"], "s"),
                    fmt(s["per_table"], "s"),
                    fmt(s["per_document"], "s"),
                ]
            )
        if speed.get("wall"):
            rows.append(
                [
                    name,
                    "wall (harness)",
                    fmt(speed["wall"]["seconds"], "s"),
                    fmt(speed["wall"]["per_page"], "s"),
                    "–",
                    "–",
                ]
            )
    return header, rows


def span_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["label", "support", "predicted", "P", "R", "F1"]
    spans = report["summary"].get("spans") or {}
    return header, [
        [label, str(s["support"]), str(s["predicted"]), fmt(s["precision"]), fmt(s["recall"]), fmt(s["f1"])]
        for label, s in spans.items()
    ]


def diff_rows(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["record", "field", "status", "gold", "predicted"]
    rows = [
        [_short(d["where"], 50), d["field"], d["status"], _short(d["gold"]), _short(d["pred"])]
        for d in (doc.get("diffs") or [])[:MAX_DIFFS_PER_DOCUMENT]
    ]
    rows += [["(unmatched gold)", "", "missing", _short(w, 80), ""] for w in doc.get("unmatched_gold") or []]
    rows += [
        ["(unmatched prediction)", "", "spurious", "", _short(w, 80)] for w in doc.get("unmatched_pred") or []
    ]
    return header, rows


# --- figures --------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def figure_field_accuracy(report: dict[str, Any]) -> bytes | None:
    """Heat map: accuracy of every field (rows) in every rendition kind (columns)."""
    summary = report["summary"]
    groups = [g for g, v in summary["groups"].items() if v.get("fields")]
    fields = list(summary.get("fields") or {})
    if not groups or not fields:
        return None
    import numpy as np

    data = np.full((len(fields), len(groups)), np.nan)
    for j, g in enumerate(groups):
        for i, f in enumerate(fields):
            stats = (summary["groups"][g].get("fields") or {}).get(f)
            if stats and stats["support"]:
                data[i, j] = stats["accuracy"]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(groups), 0.9 + 0.28 * len(fields)))
    image = ax.imshow(np.ma.masked_invalid(data), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(groups)), groups, rotation=30, ha="right")
    ax.set_yticks(range(len(fields)), fields, fontsize=8)
    for i in range(len(fields)):
        for j in range(len(groups)):
            if not np.isnan(data[i, j]):
                ax.text(j, i, f"{data[i, j]:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, fraction=0.04)
    ax.set_title("Field accuracy by rendition")
    return _png(fig)


def figure_document_errors(report: dict[str, Any]) -> bytes | None:
    """Stacked bars: wrong / missing / spurious fields per predicted document."""
    docs = [d for d in report["documents"] if d.get("diffs") is not None]
    if not docs:
        return None
    statuses = ("wrong", "missing", "spurious", "unmatched_empty")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.3 * len(docs)))
    left = [0] * len(docs)
    labels = [f"{d['name']} ({d['kind']})" for d in docs]
    for status in statuses:
        counts = [sum(x["status"] == status for x in d["diffs"]) for d in docs]
        ax.barh(labels, counts, left=left, label=status)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("fields")
    ax.legend(fontsize=7)
    ax.set_title("Field errors per document")
    return _png(fig)


def figure_tables(report: dict[str, Any]) -> bytes | None:
    """TEDS and TEDS-S of every rendition kind and every peer."""
    bars: list[tuple[str, float, float]] = []
    for name, group in report["summary"]["groups"].items():
        if group.get("teds") is not None:
            bars.append((name, group["teds"], group["teds_s"]))
    for peer, entry in (report.get("peers") or {}).items():
        for scope in ("merged", "pages"):
            if (entry or {}).get(scope):
                bars.append((f"{peer} ({scope})", entry[scope]["teds"], entry[scope]["teds_s"]))
    if not bars:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.5 + 0.7 * len(bars), 3.2))
    xs = range(len(bars))
    ax.bar([x - 0.2 for x in xs], [b[1] for b in bars], width=0.4, label="TEDS")
    ax.bar([x + 0.2 for x in xs], [b[2] for b in bars], width=0.4, label="TEDS-S")
    ax.set_xticks(list(xs), [b[0] for b in bars], rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title("Table structure: zhibiao by rendition and peers")
    return _png(fig)


def figure_speed(report: dict[str, Any]) -> bytes | None:
    """Stacked bars: seconds per page of every pipeline stage, per rendition kind."""
    groups = report["summary"]["groups"]
    stages: list[str] = []
    for group in groups.values():
        for stage in (group.get("speed") or {}).get("stages") or {}:
            if stage != "total" and stage not in stages:
                stages.append(stage)
    if not stages:
        return None
    plt = _pyplot()
    names = list(groups)
    fig, ax = plt.subplots(figsize=(1.5 + 0.8 * len(names), 3.2))
    bottom = [0.0] * len(names)
    for stage in stages:
        values = [
            (((groups[n].get("speed") or {}).get("stages") or {}).get(stage) or {}).get("per_page") or 0.0
            for n in names
        ]
        ax.bar(names, values, bottom=bottom, label=stage)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    for x, total in enumerate(bottom):
        ax.annotate(f"{total:.3g}", (x, total), ha="center", va="bottom", fontsize=7)
    ax.set_ylabel("seconds per page")
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize=7)
    ax.set_title("Speed by stage")
    return _png(fig)


FIGURES = {
    "field_accuracy": figure_field_accuracy,
    "document_errors": figure_document_errors,
    "tables": figure_tables,
    "speed": figure_speed,
}


def figures(report: dict[str, Any]) -> dict[str, bytes]:
    out = {}
    for name, make in FIGURES.items():
        png = make(report)
        if png:
            out[name] = png
    return out


# --- markdown and html ----------------------------------------------------------------------------


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def esc(cell: str) -> str:
        return str(cell).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def sections(
    report: dict[str, Any],
) -> list[tuple[str, str | None, tuple[list[str], list[list[str]]] | None]]:
    """``(title, figure name, table)`` in report order; per-document diffs come last."""
    out = [
        ("Summary by rendition", None, group_rows(report)),
        ("Per-field accuracy", "field_accuracy", field_rows(report)),
        ("Per document", "document_errors", document_rows(report)),
        ("Tables: zhibiao and peers", "tables", peer_rows(report)),
        ("Speed", "speed", speed_rows(report)),
    ]
    if report["summary"].get("spans"):
        out.append(("Token spans (entity-level strict)", None, span_rows(report)))
    return out


def _meta_lines(report: dict[str, Any]) -> list[str]:
    meta = report.get("meta") or {}
    lines = [f"{k}: {v}" for k, v in meta.items() if v not in (None, [], "")]
    return lines


def to_markdown(report: dict[str, Any], figure_files: dict[str, str]) -> str:
    parts = ["# zhibiao evaluation report", "", *[f"- {line}" for line in _meta_lines(report)], ""]
    for title, figure, table in sections(report):
        parts += [f"## {title}", ""]
        if figure and figure in figure_files:
            parts += [f"![{title}]({figure_files[figure]})", ""]
        if table:
            parts += [md_table(*table), ""]
    parts += ["## Errors per document (gold vs predicted)", ""]
    for doc in report["documents"]:
        header, rows = diff_rows(doc)
        if rows:
            total = len(doc.get("diffs") or [])
            parts += [
                f"### {doc['name']} ({doc['kind']}) — {total} field diffs",
                "",
                md_table(header, rows),
                "",
            ]
    return "\n".join(parts)


STYLE = """body{font-family:sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
th{background:#eee}
img{max-width:100%}details{margin:.5em 0}"""


def to_html(report: dict[str, Any], pngs: dict[str, bytes]) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>zhibiao evaluation report</title>",
        f"<style>{STYLE}</style></head><body><h1>zhibiao evaluation report</h1><ul>",
        *[f"<li>{html.escape(line)}</li>" for line in _meta_lines(report)],
        "</ul>",
    ]
    for title, figure, table in sections(report):
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if figure and figure in pngs:
            data = base64.b64encode(pngs[figure]).decode("ascii")
            parts.append(f"<img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>")
        if table:
            parts.append(html_table(*table))
    parts.append("<h2>Errors per document (gold vs predicted)</h2>")
    for doc in report["documents"]:
        header, rows = diff_rows(doc)
        if rows:
            total = len(doc.get("diffs") or [])
            summary = html.escape(f"{doc['name']} ({doc['kind']}) — {total} field diffs")
            parts.append(f"<details><summary>{summary}</summary>{html_table(header, rows)}</details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(report: dict[str, Any], out_dir: Path, html_report: bool = True) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` (+ ``report_files/*.png``) and ``report.html`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {"json": out_dir / "report.json"}
    written["json"].write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    pngs = figures(report) if html_report else {}
    files: dict[str, str] = {}
    if pngs:
        (out_dir / "report_files").mkdir(exist_ok=True)
        for name, png in pngs.items():
            (out_dir / "report_files" / f"{name}.png").write_bytes(png)
            files[name] = f"report_files/{name}.png"
    written["markdown"] = out_dir / "report.md"
    written["markdown"].write_text(to_markdown(report, files), encoding="utf-8")
    if html_report:
        written["html"] = out_dir / "report.html"
        written["html"].write_text(to_html(report, pngs), encoding="utf-8")
    return written
