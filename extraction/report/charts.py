"""Small inline SVG bar charts: no plotting library, no image files, text in the browser's fonts
(so Chinese labels render with the system CJK fonts)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from zhibiao.report.layout import display_width

Bar = tuple[str, float, str]
"""(label, value, css class of the bar)."""

WIDTH = 460
LABEL_WIDTH = 170
VALUE_WIDTH = 64
ROW_HEIGHT = 20
BAR_GAP = 4
PLOT_HEIGHT = 140
AXIS_HEIGHT = 34
MAX_LABEL_UNITS = 28
"""Label width in half-width units (a CJK character is two) that fits the label column."""


def _short(label: str, limit: int = MAX_LABEL_UNITS) -> str:
    """The label cut to ``limit`` half-width units, with an ellipsis when cut."""
    if display_width(label) <= limit:
        return label
    out, used = [], 1
    for ch in label:
        used += display_width(ch)
        if used > limit:
            break
        out.append(ch)
    return "".join(out) + "…"


def _default_format(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"


def _figure(title: str, svg: str) -> str:
    return f'<figure class="chart"><figcaption>{escape(title)}</figcaption>{svg}</figure>'


def _empty(title: str) -> str:
    return _figure(title, '<p class="empty">no data</p>')


def hbar_chart(
    title: str, bars: Sequence[Bar], fmt: Callable[[float], str] = _default_format, limit: int = 15
) -> str:
    """Horizontal bars, one row per label, largest scale = longest bar; at most ``limit`` rows."""
    bars = list(bars)[:limit]
    if not bars:
        return _empty(title)
    top = max(value for _, value, _ in bars) or 1.0
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(bars) * ROW_HEIGHT
    rows = []
    for i, (label, value, css) in enumerate(bars):
        y = i * ROW_HEIGHT
        length = max(span * value / top, 1.0 if value else 0.0)
        text = f"{label}: {fmt(value)}"
        rows.append(
            f'<g class="bar {escape(css)}"><title>{escape(text)}</title>'
            f'<text x="{LABEL_WIDTH - 6}" y="{y + ROW_HEIGHT - 6}" text-anchor="end">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + BAR_GAP / 2}" width="{length:.1f}" '
            f'height="{ROW_HEIGHT - BAR_GAP}"/>'
            f'<text class="value" x="{LABEL_WIDTH + length + 4:.1f}" y="{y + ROW_HEIGHT - 6}">'
            f"{escape(fmt(value))}</text></g>"
        )
    svg = (
        f'<svg class="hbar" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">'
        f"<title>{escape(title)}</title>{''.join(rows)}</svg>"
    )
    return _figure(title, svg)


def vbar_chart(title: str, bars: Sequence[Bar], fmt: Callable[[float], str] = _default_format) -> str:
    """Vertical bars in the given order (years, histogram bins), labels under each bar."""
    bars = list(bars)
    if not bars:
        return _empty(title)
    top = max(value for _, value, _ in bars) or 1.0
    slot = WIDTH / len(bars)
    parts = []
    for i, (label, value, css) in enumerate(bars):
        h = PLOT_HEIGHT * value / top
        x = i * slot
        parts.append(
            f'<g class="bar {escape(css)}"><title>{escape(f"{label}: {fmt(value)}")}</title>'
            f'<rect x="{x + 2:.1f}" y="{PLOT_HEIGHT - h + 14:.1f}" width="{max(slot - 4, 1):.1f}" '
            f'height="{h:.1f}"/>'
            f'<text class="value" x="{x + slot / 2:.1f}" y="{PLOT_HEIGHT - h + 10:.1f}" text-anchor="middle">'
            f"{escape(fmt(value))}</text>"
            f'<text x="{x + slot / 2:.1f}" y="{PLOT_HEIGHT + 30}" text-anchor="middle">'
            f"{escape(_short(label, 12))}</text>"
            "</g>"
        )
    height = PLOT_HEIGHT + AXIS_HEIGHT
    svg = (
        f'<svg class="vbar" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )
    return _figure(title, svg)
