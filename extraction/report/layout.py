"""HTML building blocks shared by the report's pages: escaping, attributes, the page skeleton.

Every text that comes from a document goes through :func:`esc` (or :func:`script_json` inside a
``<script>``), so a cell holding ``<script>`` shows as text and runs nothing.
"""

from __future__ import annotations

import json
import unicodedata
from html import escape
from string import Template
from typing import Any

CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)
"""Content Security Policy: the page can load only its own local files, never anything remote."""

PAGE = Template(
    """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="$csp">
<title>$title</title>
<link rel="stylesheet" href="${root}assets/report.css">
</head>
<body class="$body_class">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<nav aria-label="breadcrumb">$nav</nav>
<h1>$heading</h1>
</header>
<main id="main">
$body
</main>
$data
<script src="${root}assets/report.js"></script>
</body>
</html>
"""
)


def esc(value: Any) -> str:
    """Text for HTML content or a quoted attribute ('' for None)."""
    return "" if value is None else escape(str(value), quote=True)


def attrs(**values: Any) -> str:
    """`` name="value"`` pairs; None/False are left out, True is a bare attribute, ``_`` -> ``-``."""
    parts = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        key = name.rstrip("_").replace("_", "-")
        parts.append(f" {key}" if value is True else f' {key}="{esc(value)}"')
    return "".join(parts)


def script_json(data: Any) -> str:
    """JSON safe to place inside ``<script type="application/json">`` (no ``</script>`` breakout)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def data_island(element_id: str, data: Any) -> str:
    return f'<script type="application/json" id="{esc(element_id)}">{script_json(data)}</script>'


def page(
    title: str, heading: str, body: str, root: str, nav: str = "", body_class: str = "", data: str = ""
) -> str:
    """A complete HTML page; ``root`` is the relative path from the page to the report root."""
    return PAGE.substitute(
        csp=CSP,
        title=esc(title),
        heading=heading,
        body=body,
        root=root,
        nav=nav,
        body_class=esc(body_class),
        data=data,
    )


def display_width(text: str) -> int:
    """Width in half-width units: CJK and other wide characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def number_text(value: float | None) -> str:
    """A number as a reviewer reads it: no trailing ``.0``; '' for None."""
    if value is None:
        return ""
    return f"{value:g}" if abs(value) < 1e15 else str(value)


def confidence_class(confidence: float) -> str:
    """CSS class of a confidence: high (≥ 0.9), medium (≥ 0.7) or low."""
    if confidence >= 0.9:
        return "conf-hi"
    if confidence >= 0.7:
        return "conf-mid"
    return "conf-lo"


def count_item(key: str, label: str, value: int) -> str:
    """One ``<div><dt>label</dt><dd data-count=key>n</dd></div>`` of a counts list."""
    return f'<div><dt>{esc(label)}</dt><dd data-count="{esc(key)}">{value}</dd></div>'


def sortable_head(columns: tuple[tuple[str, str], ...]) -> str:
    """``<thead>`` of a sortable table: (label, ``num``/``text``) per column, sorted by report.js."""
    cells = "".join(
        f'<th scope="col" data-type="{esc(kind)}" aria-sort="none">'
        f'<button type="button">{esc(label)}</button></th>'
        for label, kind in columns
    )
    return f"<thead><tr>{cells}</tr></thead>"


def legend() -> str:
    """Colour key of confidence and flag markers."""
    return (
        '<p class="legend" aria-label="legend">'
        '<span class="key conf-hi">confidence ≥ 0.9</span>'
        '<span class="key conf-mid">0.7–0.9</span>'
        '<span class="key conf-lo">&lt; 0.7</span>'
        '<span class="key flag-error">⚑ error flag</span>'
        '<span class="key flag-warning">⚑ warning</span>'
        '<span class="key flag-info">⚑ info</span>'
        "</p>"
    )
