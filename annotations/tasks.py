"""Output-contract JSON -> Label Studio tasks with pre-annotations (pure functions).

Four kinds of task, one Label Studio project each (configs in ``annotations/configs/<kind>.xml``):

- ``table``: one page of one table on its page image, one rectangle + text per cell (percent
  coordinates, the image's original size, the cell's confidence as region score). Only for media with
  geometry and a page image (PDF, scans, image files).
- ``record``: one indicator record (a table row or a fact stated in prose): the source (a crop of the
  page where there is one, the table rows as HTML otherwise, or the sentence), the checks' flags, and
  every field pre-filled for correction.
- ``project``: one project's header and budget fields, the same way.
- ``span``: a narrative sentence or a sentence-like table cell with entity spans (``labels.SPAN_LABELS``)
  from a span source (``spans.py``: the narrative rules by default, or the token classifier).

Every task's ``data.zhibiao_key`` is a stable key (document sha256 + kind + record path + name), which
makes pushing idempotent; ``data.zhibiao`` keeps what the pull needs (document, record path, the
predicted values the annotator corrects). Each prediction's ``score`` is the review score: the
record's confidence, lowered for records the checks flagged, so that Label Studio's uncertainty
sampling (and the import order) serves flagged and low-confidence records first.

Where images come from is not decided here: builders take a ``Media`` (see ``images.py``).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from zhibiao import __version__
from zhibiao.annotations.labels import ALL_SPAN_LABELS
from zhibiao.annotations.spans import Span, SpanSource, rule_spans, source_version, without_overlaps

KINDS = ("table", "record", "project", "span")
CONFIG_DIR = Path(__file__).parent / "configs"
MODEL_VERSION = f"zhibiao-{__version__}"
"""``model_version`` of our predictions (Label Studio's uncertainty sampling uses the current one)."""

INDICATOR_FIELDS = (
    "name",
    "level1",
    "level2",
    "operator",
    "target",
    "unit",
    "actual",
    "weight",
    "score",
    "reason",
)
"""Fields of a table indicator record, in the order the record config shows them."""
FACT_FIELDS = ("name", "target", "unit", "actual")
"""Fields of a fact stated in prose (the gold format scores a fact by exactly these)."""
BUDGET_FIELDS = (
    "unit",
    "initial",
    "adjusted",
    "executed",
    "execution_rate",
    "fiscal",
    "total",
    "weight",
    "score",
)
PROJECT_FIELDS = (
    "name",
    "code",
    "department",
    "implementing_unit",
    *(f"budget.{key}" for key in BUDGET_FIELDS),
    "total_weight",
    "total_score",
)
CHOICE_FIELDS = frozenset({"operator", "verdict"})
"""Fields shown as Choices (the rest are TextAreas)."""
VERDICTS = ("ok", "not_a_record", "unsure")

SEVERITY_WEIGHT = {"error": 0.25, "warning": 0.5, "info": 0.9}
"""How much a flag of each severity lowers a record's review score (multiplied in, worst flag only)."""
SPAN_TASK_MIN_CHARS = 8
"""A table cell shorter than this is a value, not a sentence (no span task)."""
CONTEXT_ROWS = 40
"""Tables up to this many rows are shown whole in a record task; larger ones as a window of rows."""
WINDOW_ROWS = 5
CROP_MARGIN = 0.35
"""Extra height around a record's box in a crop, as a fraction of the box height (at least one line)."""


# --- configs and keys ---------------------------------------------------------------------------


def label_config(kind: str) -> str:
    """The labeling config (XML) of a task kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown task kind {kind!r} (one of {', '.join(KINDS)})")
    return (CONFIG_DIR / f"{kind}.xml").read_text(encoding="utf-8")


def control_name(field: str) -> str:
    """Config control of a contract field: ``budget.initial`` -> ``budget_initial``."""
    return field.replace(".", "_")


def task_key(sha256: str, kind: str, path: str, name: str = "") -> str:
    """Stable task key: the same record of the same document gives the same key in every push."""
    raw = "\x1f".join((sha256, kind, path, "".join(name.split())))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def doc_name(result: dict[str, Any]) -> str:
    """The gold ``doc`` of a result: its source file's stem."""
    name = Path(str((result.get("source") or {}).get("path") or "document")).name
    return name.rsplit(".", 1)[0] if "." in name else name


# --- values as annotators see them --------------------------------------------------------------


def format_number(value: float | int | None) -> str | None:
    """``15.0`` -> ``"15"``, ``130.76`` -> ``"130.76"`` (no float noise), ``None`` -> ``None``."""
    if value is None:
        return None
    return format(float(value), ".12g")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("text")
    if isinstance(value, float | int) and not isinstance(value, bool):
        return format_number(value)
    text = str(value).strip() if value is not None else ""
    return text or None


def indicator_values(indicator: dict[str, Any]) -> dict[str, str | None]:
    """A table indicator's fields as the strings an annotator edits (``None``: empty)."""
    target, actual = indicator.get("target") or {}, indicator.get("actual") or {}
    unit = target.get("unit") or actual.get("unit")
    values = {key: _text(indicator.get(key)) for key in INDICATOR_FIELDS if key != "unit"}
    values["unit"] = _text(unit)
    return {key: values[key] for key in INDICATOR_FIELDS}


def fact_values(fact: dict[str, Any]) -> dict[str, str | None]:
    """A narrative fact's fields (name, target, unit, actual) as strings."""
    target, actual = fact.get("target") or {}, fact.get("actual") or {}
    return {
        "name": _text(fact.get("name")),
        "target": _text(target),
        "unit": _text(target.get("unit") or actual.get("unit")),
        "actual": _text(actual),
    }


def project_values(project: dict[str, Any]) -> dict[str, str | None]:
    """A project's header, budget and totals as strings (``budget.initial`` ...)."""
    budget = project.get("budget") or {}
    values: dict[str, str | None] = {}
    for field in PROJECT_FIELDS:
        if field.startswith("budget."):
            values[field] = _text(budget.get(field.split(".", 1)[1]))
        else:
            values[field] = _text(project.get(field))
    return values


def review_score(confidence: float | None, flags: Iterable[dict[str, Any]] = ()) -> float:
    """Confidence, lowered by the worst flag's severity: low scores are reviewed first."""
    weight = min((SEVERITY_WEIGHT.get(str(f.get("severity")), 0.5) for f in flags), default=1.0)
    base = 1.0 if confidence is None else max(0.0, min(1.0, float(confidence)))
    return round(base * weight, 4)


def field_results(values: dict[str, str | None], verdict: str | None = "ok") -> list[dict[str, Any]]:
    """Pre-filled TextArea/Choices results for the record and project configs (empty fields left out)."""
    results = []
    if verdict is not None:
        results.append(_choice("verdict", verdict))
    for field, value in values.items():
        if value is None:
            continue
        if field in CHOICE_FIELDS:
            results.append(_choice(control_name(field), value))
        else:
            results.append(
                {
                    "from_name": control_name(field),
                    "to_name": "source",
                    "type": "textarea",
                    "value": {"text": [value]},
                }
            )
    return results


def _choice(name: str, value: str) -> dict[str, Any]:
    return {"from_name": name, "to_name": "source", "type": "choices", "value": {"choices": [value]}}


# --- UTF-16 offsets (Label Studio counts text offsets in JavaScript string units) ------------------


def utf16_offset(text: str, index: int) -> int:
    """Python (code point) offset -> JavaScript (UTF-16 unit) offset."""
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)


def codepoint_offset(text: str, units: int) -> int:
    """JavaScript (UTF-16 unit) offset -> Python (code point) offset (clamped to the text)."""
    count = 0
    for i, ch in enumerate(text):
        if count >= units:
            return i
        count += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


# --- media (page images, crops, source text) ---------------------------------------------------


@dataclass(frozen=True)
class PageImage:
    """A rendered page as Label Studio serves it, with the size of the page in bbox units."""

    url: str
    width_px: int
    height_px: int
    width: float
    """Page width in the unit of the document's bboxes (PDF points, image pixels)."""
    height: float


class Media(Protocol):
    """Where page images, crops and document texts come from (``images.LocalMedia`` writes files)."""

    def page_image(self, result: dict[str, Any], page: int) -> PageImage | None: ...

    def crop(self, result: dict[str, Any], page: int, bbox: Sequence[float]) -> str | None: ...

    def source_text(self, result: dict[str, Any]) -> str | None: ...


class NoMedia:
    """No images and no source texts (text-only tasks)."""

    def page_image(self, result: dict[str, Any], page: int) -> PageImage | None:
        return None

    def crop(self, result: dict[str, Any], page: int, bbox: Sequence[float]) -> str | None:
        return None

    def source_text(self, result: dict[str, Any]) -> str | None:
        return None


# --- HTML shown to annotators (all text escaped; images only from Label Studio's own URLs) --------


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def table_html(
    table: dict[str, Any], highlight: Iterable[Sequence[int]] = (), rows: range | None = None
) -> str:
    """A table (or a range of its rows) as HTML with merged cells; ``highlight`` cells shaded."""
    marked = {(int(r), int(c)) for r, c in highlight}
    cells = sorted(table.get("cells") or [], key=lambda c: (c["row"], c["col"]))
    n_rows = int(table.get("n_rows") or max((c["row"] + c.get("row_span", 1) for c in cells), default=0))
    shown = rows if rows is not None else range(n_rows)
    by_row: dict[int, list[str]] = {}
    for cell in cells:
        top, bottom = cell["row"], cell["row"] + cell.get("row_span", 1)
        first = max(top, shown.start)
        if first >= min(bottom, shown.stop):
            continue
        span = min(bottom, shown.stop) - first
        style = ' style="background:#fff3bf"' if (cell["row"], cell["col"]) in marked else ""
        attrs = (f' rowspan="{span}"' if span > 1 else "") + (
            f' colspan="{cell["col_span"]}"' if cell.get("col_span", 1) > 1 else ""
        )
        text = _esc(cell.get("text")).replace("\n", "<br/>")
        by_row.setdefault(first, []).append(f"<td{attrs}{style}>{text}</td>")
    body = "".join(f"<tr>{''.join(by_row.get(r, []))}</tr>" for r in shown)
    return f'<table border="1" style="border-collapse:collapse;font-size:12px" cellpadding="3">{body}</table>'


def context_rows(table: dict[str, Any], record_rows: Iterable[int]) -> range:
    """Rows to show around a record: the whole table when it is small, else a window around the record."""
    n_rows = int(table.get("n_rows") or 0)
    rows = sorted(record_rows)
    if n_rows <= CONTEXT_ROWS or not rows:
        return range(n_rows)
    return range(max(0, rows[0] - WINDOW_ROWS), min(n_rows, rows[-1] + WINDOW_ROWS + 1))


def flags_html(flags: Iterable[dict[str, Any]]) -> str:
    """The checks' flags as a list (code, severity, message, evidence)."""
    items = [
        f"<li><b>{_esc(f.get('code'))}</b> ({_esc(f.get('severity'))}): {_esc(f.get('message'))}"
        + (f" <code>{_esc(_compact(f.get('evidence')))}</code>" if f.get("evidence") else "")
        + "</li>"
        for f in flags
    ]
    if not items:
        return "<p>检查：无问题 (checks: no flags)</p>"
    return f"<p>检查提示 (checks' flags):</p><ul>{''.join(items)}</ul>"


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _img(url: str) -> str:
    return f'<img src="{_esc(url)}" style="max-width:100%;border:1px solid #ccc" alt="source"/>'


# --- records ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRef:
    """One record of a result, with what its task shows and is keyed by."""

    record: str
    """``indicator``, ``fact`` or ``project``."""
    path: str
    """Where it sits in the result: ``projects[0].indicators[3]``, ``narrative_indicators[2]``."""
    data: dict[str, Any]
    project_path: str | None = None
    project_name: str | None = None


def iter_records(result: dict[str, Any]) -> Iterator[RecordRef]:
    """Projects, their indicators and the narrative facts of one result, in document order."""
    names = []
    for i, project in enumerate(result.get("projects") or []):
        names.append(project.get("name"))
        yield RecordRef("project", f"projects[{i}]", project)
        for j, indicator in enumerate(project.get("indicators") or []):
            yield RecordRef(
                "indicator",
                f"projects[{i}].indicators[{j}]",
                indicator,
                f"projects[{i}]",
                project.get("name"),
            )
    for k, fact in enumerate(result.get("narrative_indicators") or []):
        owner = next((i for i, name in enumerate(names) if name and name == fact.get("project")), None)
        yield RecordRef(
            "fact",
            f"narrative_indicators[{k}]",
            fact,
            f"projects[{owner}]" if owner is not None else None,
            fact.get("project"),
        )


def _table(result: dict[str, Any], index: Any) -> dict[str, Any] | None:
    if index is None:
        return None
    tables = result.get("tables") or []
    found = next((t for t in tables if t.get("index") == index), None)
    if found is None and isinstance(index, int) and 1 <= index <= len(tables):
        found = tables[index - 1]
    return found


def record_region(
    result: dict[str, Any], ref: RecordRef
) -> tuple[int, tuple[float, float, float, float]] | None:
    """Page and box of a record: the union of its one-row table cells on their page, else its provenance box.

    The cells say exactly where a row sits even when the table runs over several pages.
    """
    prov = ref.data.get("provenance") or {}
    table = _table(result, prov.get("table"))
    wanted = {tuple(c) for c in prov.get("cells") or []}
    if table is not None and wanted:
        cells = [c for c in table.get("cells") or [] if (c["row"], c["col"]) in wanted and c.get("bbox")]
        single = [c for c in cells if c.get("row_span", 1) == 1] or cells
        pages = [cell_page(c, table) for c in single]
        if single and pages[0] is not None:
            page = max(set(pages), key=lambda p: (pages.count(p), -(p or 0)))
            boxes = [c["bbox"] for c, p in zip(single, pages, strict=True) if p == page]
            x0, y0, x1, y1 = zip(*boxes, strict=True)
            return int(page), (min(x0), min(y0), max(x1), max(y1))
    if prov.get("bbox") and prov.get("page"):
        x0, y0, x1, y1 = prov["bbox"]
        return int(prov["page"]), (x0, y0, x1, y1)
    return None


def source_html(result: dict[str, Any], ref: RecordRef, media: Media) -> str:
    """What the record was read from: a crop of the page, the table rows, or the sentence."""
    prov = ref.data.get("provenance") or {}
    parts = []
    region = record_region(result, ref)
    if region is not None:
        url = media.crop(result, *region)
        if url:
            parts.append(_img(url))
    table = _table(result, prov.get("table"))
    cells = [tuple(c) for c in prov.get("cells") or []]
    if table is not None and table.get("cells"):
        rows = context_rows(table, {r for r, _ in cells})
        title = table.get("title") or table.get("sheet") or f"table {table.get('index')}"
        parts.append(f"<p>{_esc(title)}</p>{table_html(table, cells, rows)}")
    if ref.data.get("sentence"):
        parts.append(f"<blockquote>{_esc(ref.data['sentence'])}</blockquote>")
    page = region[0] if region else prov.get("page")
    where = f"{doc_name(result)} · {prov.get('reader') or ''}" + (f" · p.{page}" if page else "")
    parts.append(f"<p style='color:#666'>{_esc(where)}</p>")
    return "".join(parts)


def record_values(ref: RecordRef) -> dict[str, str | None]:
    if ref.record == "project":
        return project_values(ref.data)
    if ref.record == "fact":
        return fact_values(ref.data)
    return indicator_values(ref.data)


def record_title(result: dict[str, Any], ref: RecordRef) -> str:
    label = {"project": "项目 project", "indicator": "指标 indicator", "fact": "文中指标 fact in prose"}[
        ref.record
    ]
    name = ref.data.get("name") or "（无名称 unnamed）"
    owner = f" · {ref.project_name}" if ref.record != "project" and ref.project_name else ""
    return f"{label}: {name}{owner} — {doc_name(result)}"


def record_task(result: dict[str, Any], ref: RecordRef, media: Media) -> dict[str, Any]:
    """One record/project review task with its pre-filled fields as the prediction."""
    source = result.get("source") or {}
    kind = "project" if ref.record == "project" else "record"
    flags = list(ref.data.get("flags") or [])
    confidence = ref.data.get("confidence", 1.0)
    values = record_values(ref)
    score = review_score(confidence, flags)
    region = record_region(result, ref)
    return {
        "data": {
            "zhibiao_key": task_key(source.get("sha256") or "", kind, ref.path, ref.data.get("name") or ""),
            "title": record_title(result, ref),
            "source_html": source_html(result, ref, media),
            "checks_html": flags_html(flags),
            "priority": score,
            "zhibiao": {
                "kind": kind,
                "record": ref.record,
                "doc": doc_name(result),
                "source": source.get("path"),
                "sha256": source.get("sha256"),
                "path": ref.path,
                "project_path": ref.project_path,
                "project_name": ref.project_name,
                "fields": list(FACT_FIELDS if ref.record == "fact" else values),
                "predicted": values,
                "confidence": confidence,
                "flags": [f.get("code") for f in flags],
                "page": region[0] if region else None,
                "model_version": MODEL_VERSION,
            },
        },
        "predictions": [{"model_version": MODEL_VERSION, "score": score, "result": field_results(values)}],
    }


# --- text spans ------------------------------------------------------------------------------------


def locate_spans(text: str, parts: Iterable[tuple[str, str | None]]) -> list[Span]:
    """Find each ``(label, printed)`` left to right in ``text``, no overlaps; those not found are skipped."""
    spans: list[Span] = []
    cursor = 0
    for label, printed in parts:
        if not printed:
            continue
        at = text.find(printed, cursor)
        if at < 0:
            continue
        spans.append((at, at + len(printed), label))
        cursor = at + len(printed)
    return spans


def fact_spans(text: str, fact: dict[str, Any]) -> list[Span]:
    """Rule spans of a fact or an indicator in its sentence: INDICATOR, OP, TARGET, ACTUAL."""
    printed_op = ((fact.get("provenance") or {}).get("printed") or {}).get("operator")
    parts = [
        ("INDICATOR", fact.get("name")),
        ("OP", printed_op if printed_op and printed_op in text else None),
        ("TARGET", _text(fact.get("target"))),
        ("ACTUAL", _text(fact.get("actual"))),
    ]
    return locate_spans(text, parts)


def label_results(text: str, spans: Iterable[Span]) -> list[dict[str, Any]]:
    """Label Studio ``labels`` results over a Text object (offsets in UTF-16 units)."""
    return [
        {
            "id": f"s{n}",
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "value": {
                "start": utf16_offset(text, start),
                "end": utf16_offset(text, end),
                "text": text[start:end],
                "labels": [label],
            },
        }
        for n, (start, end, label) in enumerate(sorted(spans))
        if label in ALL_SPAN_LABELS and 0 <= start < end <= len(text)
    ]


@dataclass
class SpanText:
    """A text to tag: a narrative sentence or a sentence-like cell (``spans``: what the span source found)."""

    text: str
    origin: str
    """``narrative_indicators[2]`` or ``tables[0].cells[5,2]``."""
    spans: list[Span]
    confidence: float = 1.0
    flags: list[dict[str, Any]] | None = None
    project: str | None = None
    char_span: tuple[int, int] | None = None


def sentence_texts(result: dict[str, Any]) -> list[SpanText]:
    """Narrative sentences (one per distinct sentence) in document order."""
    by_text: dict[str, SpanText] = {}
    for k, fact in enumerate(result.get("narrative_indicators") or []):
        sentence = fact.get("sentence") or ""
        if not sentence.strip():
            continue
        item = by_text.get(sentence)
        if item is None:
            span = (fact.get("provenance") or {}).get("char_span")
            item = by_text[sentence] = SpanText(
                sentence,
                f"narrative_indicators[{k}]",
                [],
                1.0,
                [],
                fact.get("project"),
                tuple(span) if span else None,
            )
        item.confidence = min(item.confidence, float(fact.get("confidence", 1.0)))
        item.flags = [*(item.flags or []), *(fact.get("flags") or [])]
    return list(by_text.values())


def cell_texts(result: dict[str, Any]) -> list[SpanText]:
    """Sentence-like table cells: a cell holding an indicator's name and one of its values with more text."""
    found: dict[str, SpanText] = {}
    for ref in iter_records(result):
        if ref.record != "indicator":
            continue
        prov = ref.data.get("provenance") or {}
        table = _table(result, prov.get("table"))
        if table is None:
            continue
        lookup = {(c["row"], c["col"]): c for c in table.get("cells") or []}
        for row, col in prov.get("cells") or []:
            cell = lookup.get((row, col))
            text = (cell or {}).get("text") or ""
            if len(text) < SPAN_TASK_MIN_CHARS or text in found:
                continue
            spans = fact_spans(text, ref.data)
            labels = {label for _, _, label in spans}
            covered = sum(end - start for start, end, _ in spans)
            if "INDICATOR" in labels and labels & {"TARGET", "ACTUAL"} and covered < len(text):
                found[text] = SpanText(
                    text,
                    f"tables[{table.get('index')}].cells[{row},{col}]",
                    spans,
                    min(float(ref.data.get("confidence", 1.0)), float(cell.get("confidence", 1.0))),
                    list(ref.data.get("flags") or []),
                    ref.project_name,
                )
    return list(found.values())


def text_offset(source_text: str | None, item: SpanText) -> int | None:
    """Where ``item.text`` starts in the source file's text (the occurrence nearest its char span)."""
    if not source_text:
        return None
    hits, at = [], source_text.find(item.text)
    while at >= 0 and len(hits) < 1000:
        hits.append(at)
        at = source_text.find(item.text, at + 1)
    if not hits:
        return None
    near = item.char_span[0] if item.char_span else 0
    return min(hits, key=lambda h: abs(h - near))


def span_task(
    result: dict[str, Any], item: SpanText, media: Media, model_version: str = MODEL_VERSION
) -> dict[str, Any]:
    """One text-span task: the text, its context, and the predicted spans."""
    source = result.get("source") or {}
    score = review_score(item.confidence, item.flags or [])
    context = f"{doc_name(result)}" + (f" · {item.project}" if item.project else "") + f" · {item.origin}"
    return {
        "data": {
            "zhibiao_key": task_key(source.get("sha256") or "", "span", item.origin, item.text),
            "title": f"文本标注 spans — {doc_name(result)}",
            "text": item.text,
            "context_html": f"<p style='color:#666'>{_esc(context)}</p>"
            + (flags_html(item.flags) if item.flags else ""),
            "priority": score,
            "zhibiao": {
                "kind": "span",
                "doc": doc_name(result),
                "source": source.get("path"),
                "sha256": source.get("sha256"),
                "format": source.get("format"),
                "path": item.origin,
                "text_offset": text_offset(media.source_text(result), item),
                "predicted": [list(s) for s in item.spans],
                "confidence": item.confidence,
                "model_version": model_version,
            },
        },
        "predictions": [
            {"model_version": model_version, "score": score, "result": label_results(item.text, item.spans)}
        ],
    }


# --- tables on page images ---------------------------------------------------------------------------


def cell_page(cell: dict[str, Any], table: dict[str, Any]) -> int | None:
    """The page a cell sits on: from its source (``p2``), else the table's (first) page."""
    if match := re.match(r"p(\d+)", str(cell.get("source") or "")):
        return int(match[1])
    return table.get("page") or next(iter(table.get("pages") or []), None)


def percent_box(bbox: Sequence[float], page: PageImage) -> dict[str, float]:
    """A bbox in page units -> Label Studio's percent x/y/width/height (clamped to the page)."""
    x0, y0, x1, y1 = (float(v) for v in bbox)
    x0, x1 = sorted((max(0.0, min(x0, page.width)), max(0.0, min(x1, page.width))))
    y0, y1 = sorted((max(0.0, min(y0, page.height)), max(0.0, min(y1, page.height))))
    return {
        "x": round(100.0 * x0 / page.width, 4),
        "y": round(100.0 * y0 / page.height, 4),
        "width": round(100.0 * (x1 - x0) / page.width, 4),
        "height": round(100.0 * (y1 - y0) / page.height, 4),
        "rotation": 0,
    }


def region_id(table_index: int, cell: dict[str, Any]) -> str:
    return f"t{table_index}r{cell['row']}c{cell['col']}"


def cell_results(table_index: int, cells: Iterable[dict[str, Any]], page: PageImage) -> list[dict[str, Any]]:
    """One rectangle (+ its text, where the cell has any) per cell; confidence as the region score."""
    results = []
    for cell in cells:
        common = {
            "id": region_id(table_index, cell),
            "to_name": "page",
            "original_width": page.width_px,
            "original_height": page.height_px,
            "image_rotation": 0,
            "score": float(cell.get("confidence", 1.0)),
        }
        box = percent_box(cell["bbox"], page)
        results.append(
            {
                **common,
                "from_name": "cell",
                "type": "rectanglelabels",
                "value": {**box, "rectanglelabels": ["cell"]},
            }
        )
        if cell.get("text"):
            results.append(
                {**common, "from_name": "text", "type": "textarea", "value": {**box, "text": [cell["text"]]}}
            )
    return results


def cells_by_page(table: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """A table's cells that have a box, grouped by the page they sit on."""
    by_page: dict[int, list[dict[str, Any]]] = {}
    for cell in table.get("cells") or []:
        page = cell_page(cell, table)
        if cell.get("bbox") and page is not None:
            by_page.setdefault(page, []).append(cell)
    return dict(sorted(by_page.items()))


def predicted_cells(cells: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """Compact predicted cells kept in the task: ``[row, col, row_span, col_span, text, bbox]``."""
    return [
        [c["row"], c["col"], c.get("row_span", 1), c.get("col_span", 1), c.get("text", ""), list(c["bbox"])]
        for c in cells
    ]


def table_page_task(
    result: dict[str, Any],
    position: int,
    table: dict[str, Any],
    page_no: int,
    pages: list[int],
    image: PageImage,
) -> dict[str, Any]:
    """The review task of the cells of one table (``position`` in ``tables``) on one page image."""
    source = result.get("source") or {}
    cells = cells_by_page(table)[page_no]
    index = int(table.get("index") or position + 1)
    confidence = min(float(c.get("confidence", 1.0)) for c in cells)
    low = sum(1 for c in cells if float(c.get("confidence", 1.0)) < 0.9)
    score = review_score(min(confidence, float(table.get("confidence", 1.0))))
    title = table.get("title") or table.get("sheet") or f"table {index}"
    size = f"{table.get('n_rows')}×{table.get('n_cols')}"
    meta = {
        "kind": "table",
        "doc": doc_name(result),
        "source": source.get("path"),
        "sha256": source.get("sha256"),
        "path": f"tables[{position}]",
        "table": index,
        "title": table.get("title"),
        "page": page_no,
        "pages": pages,
        "n_rows": table.get("n_rows"),
        "n_cols": table.get("n_cols"),
        "page_size": [image.width, image.height],
        "predicted": predicted_cells(cells),
        "confidence": confidence,
        "model_version": MODEL_VERSION,
    }
    data = {
        "zhibiao_key": task_key(source.get("sha256") or "", "table", f"tables[{position}]@p{page_no}", title),
        "title": f"表格 table {index}: {title} — {doc_name(result)} p.{page_no}",
        "info": f"{len(cells)} cells on this page ({size} table); {low} below 0.9 confidence",
        "image": image.url,
        "priority": score,
        "zhibiao": meta,
    }
    result_items = cell_results(index, cells, image)
    return {
        "data": data,
        "predictions": [{"model_version": MODEL_VERSION, "score": score, "result": result_items}],
    }


def table_tasks(result: dict[str, Any], media: Media) -> list[dict[str, Any]]:
    """One task per page of every table whose cells have boxes and whose page has an image."""
    tasks = []
    for position, table in enumerate(result.get("tables") or []):
        pages = list(cells_by_page(table))
        for page_no in pages:
            image = media.page_image(result, page_no)
            if image is not None:
                tasks.append(table_page_task(result, position, table, page_no, pages, image))
    return tasks


# --- all tasks of a result --------------------------------------------------------------------------


def predicted_spans(items: list[SpanText], source: SpanSource) -> list[SpanText]:
    """The texts with the span source's spans (unknown labels, overlaps and out-of-range spans dropped)."""
    return [
        SpanText(
            item.text,
            item.origin,
            without_overlaps(
                ((int(s), int(e), str(lab)) for s, e, lab in source(item.text) if lab in ALL_SPAN_LABELS),
                len(item.text),
            ),
            item.confidence,
            item.flags,
            item.project,
            item.char_span,
        )
        for item in items
    ]


def build_tasks(
    result: dict[str, Any],
    media: Media | None = None,
    kinds: Iterable[str] = KINDS,
    span_predictor: SpanSource | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Tasks of every kind for one output-contract result (``{kind: [task, ...]}``, review order).

    Span tasks carry the spans of ``span_predictor`` (a function ``text -> [(start, end, label)]``: the
    token classifier) under its ``model_version``, by default those of the narrative rules
    (``spans.rule_spans``).
    """
    media = media or NoMedia()
    wanted = set(kinds)
    out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS if kind in wanted}
    if "table" in wanted:
        out["table"] = table_tasks(result, media)
    for ref in iter_records(result):
        kind = "project" if ref.record == "project" else "record"
        if kind in wanted:
            out[kind].append(record_task(result, ref, media))
    if "span" in wanted:
        source = span_predictor or rule_spans
        texts = predicted_spans([*sentence_texts(result), *cell_texts(result)], source)
        version = source_version(source)
        out["span"] = [span_task(result, item, media, version) for item in texts]
    return {kind: review_order(tasks) for kind, tasks in out.items()}


def review_order(tasks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flagged and low-confidence first (review score ascending), then by document and record; keys unique."""
    seen: set[str] = set()
    unique = []
    for task in tasks:
        key = task["data"]["zhibiao_key"]
        if key not in seen:
            seen.add(key)
            unique.append(task)
    return sorted(
        unique,
        key=lambda t: (t["data"]["priority"], t["data"]["zhibiao"]["doc"], t["data"]["zhibiao"]["path"]),
    )
