"""Label Studio tasks with annotations -> gold documents (``annotations/GOLD_FORMAT.md``) and training data.

Tasks are fed one at a time (``GoldBuilder.add``), as the client pages through a project, and only
the converted records are kept. Per document (source file):

- record and project tasks -> ``GoldProject`` / ``GoldIndicator`` (facts in prose with only
  name/target/unit/actual) / ``GoldFact``; verdict ``not_a_record`` drops the record, ``unsure`` and
  skipped tasks leave the document incomplete;
- table tasks -> ``GoldTable`` (cell structure from the regions: a region the annotator kept keeps its
  predicted row/column, a new or moved one is snapped to the page's grid lines);
- span tasks -> ``GoldSpans``, one set per text (offsets into the ``.txt`` source where the sentence
  was located there, else into the task's text, ``source`` = ``label-studio:<key>``) and classifier
  training examples (``training_rows``: the ``train/spans.jsonl`` format of ``annotations/README.md``).

Who annotated, when, and the prediction they corrected go to ``Review`` entries (the gold models do not
take extra keys): ``gold/<doc>.reviews.jsonl`` beside each gold file. A document whose record tasks are
all reviewed goes to ``gold/``; one with unreviewed tasks to ``gold-partial/`` (scoring it would count
the unreviewed predictions as wrong). Tables and spans are added to a document only when all their
tasks are annotated (else they stay ``null``: not annotated).
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

from zhibiao.annotations.gold import (
    GOLD_VERSION,
    GoldBudget,
    GoldCell,
    GoldDocument,
    GoldFact,
    GoldIndicator,
    GoldProject,
    GoldSpan,
    GoldSpans,
    GoldTable,
)
from zhibiao.annotations.labels import ALL_SPAN_LABELS, gold_span_label
from zhibiao.annotations.tasks import (
    BUDGET_FIELDS,
    FACT_FIELDS,
    INDICATOR_FIELDS,
    codepoint_offset,
    control_name,
)

FINAL_VERDICTS = frozenset({"ok", "not_a_record"})
BOX_TOLERANCE = 0.01
"""A region moved less than this fraction of the page keeps its predicted cell position."""


# --- one annotation ------------------------------------------------------------------------------


def final_annotation(task: dict[str, Any]) -> dict[str, Any] | None:
    """The annotation that counts: not cancelled (skipped), ground truth first, else the latest updated."""
    candidates = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda a: (bool(a.get("ground_truth")), str(a.get("updated_at") or ""), a.get("id") or 0),
    )


def result_values(result: Iterable[dict[str, Any]]) -> dict[str, str | None]:
    """Control name -> value of the per-task (not per-region) TextArea and Choices results."""
    values: dict[str, str | None] = {}
    for item in result:
        value = item.get("value") or {}
        if item.get("type") == "textarea" and "x" not in value:
            text = "\n".join(str(t) for t in value.get("text") or []).strip()
            values[str(item.get("from_name"))] = text or None
        elif item.get("type") == "choices":
            choices = value.get("choices") or []
            values[str(item.get("from_name"))] = str(choices[0]) if choices else None
    return values


def same_text(a: Any, b: Any) -> bool:
    """Equal after NFKC and whitespace removal (a retyped value that did not change is not a correction)."""

    def norm(v: Any) -> str:
        return "".join(unicodedata.normalize("NFKC", "" if v is None else str(v)).split())

    return norm(a) == norm(b)


def changed_fields(predicted: dict[str, Any], annotated: dict[str, Any]) -> list[str]:
    return [key for key in annotated if not same_text(predicted.get(key), annotated.get(key))]


@dataclass
class Review:
    """Who reviewed which prediction when, and what they changed."""

    key: str
    kind: str
    doc: str
    source: str | None
    path: str
    task_id: int | None
    annotation_id: int | None
    annotator: str | None
    created_at: str | None
    updated_at: str | None
    lead_time: float | None
    verdict: str
    predicted: Any
    annotated: Any
    changed: list[str]
    model_version: str | None
    gold_path: str | None = None
    """Where the record sits in the gold document (``projects[0].indicators[2]``), if it is there."""


def annotator_of(annotation: dict[str, Any], users: dict[int, str]) -> str | None:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return str(who.get("email") or who.get("username") or who.get("id"))
    if isinstance(who, int):
        return users.get(who, f"user {who}")
    return None


def make_review(
    task: dict[str, Any], annotation: dict[str, Any] | None, users: dict[int, str], **kw: Any
) -> Review:
    meta = task["data"]["zhibiao"]
    annotation = annotation or {}
    return Review(
        key=str(task["data"].get("zhibiao_key")),
        kind=str(meta.get("kind")),
        doc=str(meta.get("doc")),
        source=meta.get("source"),
        path=str(meta.get("path")),
        task_id=task.get("id"),
        annotation_id=annotation.get("id"),
        annotator=annotator_of(annotation, users) if annotation else None,
        created_at=annotation.get("created_at"),
        updated_at=annotation.get("updated_at"),
        lead_time=annotation.get("lead_time"),
        model_version=meta.get("model_version"),
        **kw,
    )


# --- tables: regions -> cells -------------------------------------------------------------------


@dataclass
class Region:
    id: str
    box: tuple[float, float, float, float]
    """x0, y0, x1, y1 in page units."""
    text: str = ""


def regions_from_result(result: Iterable[dict[str, Any]], page_size: tuple[float, float]) -> list[Region]:
    """Rectangles (with their per-region text) of a table annotation, in page units."""
    width, height = page_size
    boxes: dict[str, tuple[float, float, float, float]] = {}
    texts: dict[str, str] = {}
    for item in result:
        value = item.get("value") or {}
        rid = str(item.get("id"))
        if item.get("type") == "rectanglelabels" and {"x", "y", "width", "height"} <= value.keys():
            x, y = float(value["x"]) * width / 100, float(value["y"]) * height / 100
            boxes[rid] = (
                x,
                y,
                x + float(value["width"]) * width / 100,
                y + float(value["height"]) * height / 100,
            )
        elif item.get("type") == "textarea":
            texts[rid] = "\n".join(str(t) for t in value.get("text") or [])
    return [Region(rid, box, texts.get(rid, "")) for rid, box in boxes.items()]


def grid_lines(predicted: Iterable[list[Any]]) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
    """Row and column boundary positions on the page from the predicted cells: ``[(coordinate, index)]``."""
    ys: dict[int, list[float]] = {}
    xs: dict[int, list[float]] = {}
    for row, col, row_span, col_span, _text, bbox in predicted:
        ys.setdefault(row, []).append(bbox[1])
        ys.setdefault(row + row_span, []).append(bbox[3])
        xs.setdefault(col, []).append(bbox[0])
        xs.setdefault(col + col_span, []).append(bbox[2])
    return sorted((fmean(v), k) for k, v in ys.items()), sorted((fmean(v), k) for k, v in xs.items())


def _nearest(lines: list[tuple[float, int]], value: float) -> int:
    return min(lines, key=lambda line: abs(line[0] - value))[1]


def snap(
    box: tuple[float, float, float, float], rows: list[tuple[float, int]], cols: list[tuple[float, int]]
) -> tuple[int, int, int, int]:
    """A box -> (row, col, row_span, col_span) on the nearest grid lines (at least one slot)."""
    r0, r1 = _nearest(rows, box[1]), _nearest(rows, box[3])
    c0, c1 = _nearest(cols, box[0]), _nearest(cols, box[2])
    return r0, c0, max(1, r1 - r0), max(1, c1 - c0)


def cells_from_regions(meta: dict[str, Any], result: Iterable[dict[str, Any]]) -> list[GoldCell]:
    """The annotated cells of one table page (kept regions keep their predicted slot, others are snapped)."""
    predicted = meta.get("predicted") or []
    width, height = meta["page_size"]
    rows, cols = grid_lines(predicted)
    by_id = {f"t{meta['table']}r{p[0]}c{p[1]}": p for p in predicted}
    tolerance = BOX_TOLERANCE * max(width, height)
    cells: dict[tuple[int, int], GoldCell] = {}
    for region in regions_from_result(result, (width, height)):
        known = by_id.get(region.id)
        if known is not None and all(
            abs(a - b) <= tolerance for a, b in zip(region.box, known[5], strict=True)
        ):
            row, col, row_span, col_span = known[0], known[1], known[2], known[3]
        elif rows and cols:
            row, col, row_span, col_span = snap(region.box, rows, cols)
        else:
            continue
        cells[(row, col)] = GoldCell(row=row, col=col, row_span=row_span, col_span=col_span, text=region.text)
    return [cells[k] for k in sorted(cells)]


# --- spans -------------------------------------------------------------------------------------------


def spans_from_result(result: Iterable[dict[str, Any]], text: str) -> list[tuple[int, int, str]]:
    """Label Studio ``labels`` results -> ``(start, end, label)`` in code points, checked against the text."""
    spans = set()
    for item in result:
        value = item.get("value") or {}
        if item.get("type") != "labels" or "start" not in value:
            continue
        start, end = codepoint_offset(text, int(value["start"])), codepoint_offset(text, int(value["end"]))
        shown = value.get("text")
        if shown and text[start:end] != shown:
            at = text.find(shown, max(0, start - len(shown)))
            if at < 0:
                continue
            start, end = at, at + len(shown)
        for label in value.get("labels") or []:
            if label in ALL_SPAN_LABELS and 0 <= start < end <= len(text):
                spans.add((start, end, str(label)))
    return sorted(spans)


# --- building gold ---------------------------------------------------------------------------------


@dataclass
class _Project:
    path: str
    name: str | None
    values: dict[str, str | None] | None = None
    dropped: bool = False
    indicators: list[tuple[str, GoldIndicator, Review]] = field(default_factory=list)


@dataclass
class DocState:
    """What the pull keeps of one source document while paging through the projects."""

    doc: str
    source: str | None
    sha256: str | None
    projects: dict[str, _Project] = field(default_factory=dict)
    facts: list[tuple[GoldFact, Review]] = field(default_factory=list)
    table_pages: dict[int, dict[int, list[GoldCell]]] = field(default_factory=dict)
    table_meta: dict[int, dict[str, Any]] = field(default_factory=dict)
    spans: dict[str, list[GoldSpan]] = field(default_factory=dict)
    """Annotated spans per text they are offsets into (the ``.txt`` source, or one task's text)."""
    reviews: list[Review] = field(default_factory=list)
    total: Counter[str] = field(default_factory=Counter)
    done: Counter[str] = field(default_factory=Counter)

    @property
    def records_complete(self) -> bool:
        return all(self.done[k] == self.total[k] for k in ("record", "project"))

    def complete(self, kind: str) -> bool:
        return self.total[kind] > 0 and self.done[kind] == self.total[kind]


@dataclass
class TrainingExample:
    """One annotated text for the token classifier (labels from ``labels.ALL_SPAN_LABELS``)."""

    text: str
    spans: list[tuple[int, int, str]]
    review: Review


class GoldBuilder:
    """Accumulates annotated tasks (fed page by page) into gold documents and training examples."""

    def __init__(self, users: dict[int, str] | None = None) -> None:
        self.users = users or {}
        self.docs: dict[str, DocState] = {}
        self.examples: list[TrainingExample] = []
        self.skipped: Counter[str] = Counter()

    def _state(self, meta: dict[str, Any]) -> DocState:
        key = str(meta.get("sha256") or meta.get("doc"))
        if key not in self.docs:
            self.docs[key] = DocState(str(meta.get("doc")), meta.get("source"), meta.get("sha256"))
        return self.docs[key]

    def add(self, task: dict[str, Any]) -> None:
        """Take one task (as listed with ``fields=all``); tasks that are not ours are counted and skipped."""
        meta = (task.get("data") or {}).get("zhibiao")
        if not isinstance(meta, dict) or meta.get("kind") not in ("record", "project", "table", "span"):
            self.skipped["not a zhibiao task"] += 1
            return
        state = self._state(meta)
        kind = str(meta["kind"])
        state.total[kind] += 1
        annotation = final_annotation(task)
        if annotation is None:
            return
        if kind in ("record", "project"):
            self._add_record(state, task, annotation)
        elif kind == "table":
            self._add_table(state, task, annotation)
        else:
            self._add_span(state, task, annotation)

    def _add_record(self, state: DocState, task: dict[str, Any], annotation: dict[str, Any]) -> None:
        meta = task["data"]["zhibiao"]
        values = result_values(annotation.get("result") or [])
        verdict = values.get("verdict") or "ok"
        fields = list(meta.get("fields") or [])
        predicted = {k: (meta.get("predicted") or {}).get(k) for k in fields}
        annotated = {k: values.get(control_name(k)) for k in fields}
        review = make_review(
            task,
            annotation,
            self.users,
            verdict=verdict,
            predicted=predicted,
            annotated=annotated,
            changed=changed_fields(predicted, annotated) if verdict == "ok" else [],
        )
        state.reviews.append(review)
        if verdict not in FINAL_VERDICTS:
            return
        state.done[meta["kind"]] += 1
        if verdict == "not_a_record":
            if meta["kind"] == "project":
                self._project(state, meta["path"], meta.get("project_name")).dropped = True
            return
        if not annotated.get("name") and meta.get("record") != "project":
            review.verdict = "no_name"
            return
        if meta["record"] == "project":
            project = self._project(state, meta["path"], annotated.get("name"))
            project.values = annotated
            project.name = annotated.get("name") or project.name
        elif meta["record"] == "indicator" or (meta["record"] == "fact" and meta.get("project_path")):
            keys = INDICATOR_FIELDS if meta["record"] == "indicator" else FACT_FIELDS
            indicator = GoldIndicator(**{k: annotated.get(k) for k in keys})
            project = self._project(state, meta["project_path"], meta.get("project_name"))
            project.indicators.append((meta["path"], indicator, review))
        else:
            fact = GoldFact(
                project=meta.get("project_name"),
                name=str(annotated["name"]),
                target=annotated.get("target"),
                actual=annotated.get("actual"),
            )
            state.facts.append((fact, review))

    @staticmethod
    def _project(state: DocState, path: str, name: str | None) -> _Project:
        if path not in state.projects:
            state.projects[path] = _Project(path, name)
        return state.projects[path]

    def _add_table(self, state: DocState, task: dict[str, Any], annotation: dict[str, Any]) -> None:
        meta = task["data"]["zhibiao"]
        cells = cells_from_regions(meta, annotation.get("result") or [])
        predicted = {(p[0], p[1]): p[4] for p in meta.get("predicted") or []}
        annotated = {(c.row, c.col): c.text for c in cells}
        changed = sorted(
            f"r{r}c{c}"
            for r, c in predicted.keys() | annotated.keys()
            if not same_text(predicted.get((r, c)), annotated.get((r, c)))
        )
        state.reviews.append(
            make_review(
                task,
                annotation,
                self.users,
                verdict="ok",
                predicted={f"r{r}c{c}": t for (r, c), t in sorted(predicted.items())},
                annotated={f"r{r}c{c}": t for (r, c), t in sorted(annotated.items())},
                changed=changed,
            )
        )
        state.done["table"] += 1
        index = int(meta["table"])
        state.table_pages.setdefault(index, {})[int(meta["page"])] = cells
        state.table_meta[index] = meta

    def _add_span(self, state: DocState, task: dict[str, Any], annotation: dict[str, Any]) -> None:
        meta, text = task["data"]["zhibiao"], str(task["data"].get("text") or "")
        spans = spans_from_result(annotation.get("result") or [], text)
        predicted = [tuple(s) for s in meta.get("predicted") or []]
        review = make_review(
            task,
            annotation,
            self.users,
            verdict="ok",
            predicted=[list(s) for s in predicted],
            annotated=[list(s) for s in spans],
            changed=sorted({s[2] for s in set(spans) ^ {tuple(p) for p in predicted}}),
        )
        state.reviews.append(review)
        state.done["span"] += 1
        self.examples.append(TrainingExample(text, spans, review))
        offset = meta.get("text_offset")
        if isinstance(offset, int) and meta.get("format") == "txt" and meta.get("source"):
            source, shift = Path(str(meta["source"])).name, offset
        else:
            source, shift = f"label-studio:{review.key}", 0
        state.spans.setdefault(source, []).extend(
            GoldSpan(start=s + shift, end=e + shift, label=gold_span_label(lab), text=text[s:e])
            for s, e, lab in spans
        )

    # --- results ----------------------------------------------------------------------------------

    def documents(self) -> list[PulledDoc]:
        """One pulled document per source that has any annotation (gold + reviews + completeness)."""
        pulled = [doc_gold(state) for state in self.docs.values() if state.reviews]
        return choose_per_stem(pulled)


@dataclass
class PulledDoc:
    gold: GoldDocument
    reviews: list[Review]
    complete: bool
    counts: dict[str, dict[str, int]]
    source: str | None
    superseded_by: str | None = None
    """Another rendition of the same document (more reviewed tasks) holds the gold for this stem."""


def _budget(values: dict[str, str | None]) -> GoldBudget:
    return GoldBudget(**{key: values.get(f"budget.{key}") for key in BUDGET_FIELDS})


def doc_gold(state: DocState) -> PulledDoc:
    """The gold document of one source from its annotated records, tables and spans."""
    projects = []
    for project in sorted(state.projects.values(), key=lambda p: _path_key(p.path)):
        if project.dropped:
            continue
        gold_index = len(projects)
        fields: dict[str, Any] = {}
        if project.values is not None:
            fields = {k: project.values.get(k) for k in ("name", "code", "department", "implementing_unit")}
            fields.update(budget=_budget(project.values), total_weight=project.values.get("total_weight"))
            fields["total_score"] = project.values.get("total_score")
        else:
            fields = {"name": project.name}
        indicators = []
        for n, (_path, indicator, review) in enumerate(
            sorted(project.indicators, key=lambda x: _record_order(x[0]))
        ):
            indicators.append(indicator)
            review.gold_path = f"projects[{gold_index}].indicators[{n}]"
        projects.append(GoldProject(**fields, indicators=indicators))
    for n, (_fact, review) in enumerate(state.facts):
        review.gold_path = f"narrative[{n}]"
    document: dict[str, Any] = {
        "gold_version": GOLD_VERSION,
        "doc": state.doc,
        "origin": f"label-studio:{Path(state.source).name if state.source else state.doc}",
        "projects": projects,
        "narrative": [fact for fact, _ in state.facts],
    }
    if state.complete("table"):
        document["tables"] = [_table(index, state) for index in sorted(state.table_pages)]
    if state.complete("span"):
        document["spans"] = gold_spans(state.spans)
    counts = {k: {"tasks": state.total[k], "annotated": state.done[k]} for k in sorted(state.total)}
    return PulledDoc(GoldDocument(**document), state.reviews, state.records_complete, counts, state.source)


def gold_spans(by_source: dict[str, list[GoldSpan]]) -> list[GoldSpans]:
    """One span set per source text (as the eval harness scores them), spans in text order, no repeats."""
    out = []
    for source, spans in by_source.items():
        unique = {(s.start, s.end, s.label): s for s in spans}
        out.append(GoldSpans(source=source, spans=[unique[k] for k in sorted(unique)]))
    return out


def _table(index: int, state: DocState) -> GoldTable:
    meta = state.table_meta[index]
    cells: dict[tuple[int, int], GoldCell] = {}
    for page in sorted(state.table_pages[index]):
        for cell in state.table_pages[index][page]:
            cells.setdefault((cell.row, cell.col), cell)
    ordered = [cells[k] for k in sorted(cells)]
    n_rows = max([int(meta.get("n_rows") or 0), *(c.row + c.row_span for c in ordered)])
    n_cols = max([int(meta.get("n_cols") or 0), *(c.col + c.col_span for c in ordered)])
    return GoldTable(
        index=index,
        title=meta.get("title"),
        pages=list(meta.get("pages") or []),
        n_rows=n_rows,
        n_cols=n_cols,
        cells=ordered,
    )


def _record_order(path: str) -> tuple[bool, tuple[int, ...]]:
    """Table indicators (``projects[i].indicators[j]``) before facts in prose, each in document order."""
    return path.startswith("narrative"), _path_key(path)


def _path_key(path: str) -> tuple[int, ...]:
    """``projects[10].indicators[2]`` -> ``(10, 2)`` (numeric order)."""
    import re

    return tuple(int(n) for n in re.findall(r"\[(\d+)\]", path))


def choose_per_stem(pulled: list[PulledDoc]) -> list[PulledDoc]:
    """Where several renditions of one document were annotated, the one with most reviews holds the gold."""
    by_stem: dict[str, list[PulledDoc]] = {}
    for doc in pulled:
        by_stem.setdefault(doc.gold.doc, []).append(doc)
    for docs in by_stem.values():
        docs.sort(key=lambda d: (-d.complete, -len(d.reviews), str(d.source)))
        for other in docs[1:]:
            other.superseded_by = docs[0].source
    return sorted(pulled, key=lambda d: (d.gold.doc, d.superseded_by is not None, str(d.source)))


# --- writing -----------------------------------------------------------------------------------------


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def gold_file_name(doc: PulledDoc) -> str:
    if doc.superseded_by is None:
        return doc.gold.doc
    return Path(str(doc.source)).name


def write_gold(docs: Iterable[PulledDoc], out_dir: Path) -> dict[str, list[str]]:
    """``gold/<doc>.json`` (+ ``.reviews.jsonl``) for complete documents, ``gold-partial/`` for the rest."""
    written: dict[str, list[str]] = {"gold": [], "gold-partial": []}
    for doc in docs:
        folder = "gold" if doc.complete and doc.superseded_by is None else "gold-partial"
        target = out_dir / folder / f"{gold_file_name(doc)}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(doc.gold.model_dump_json(indent=1, exclude_unset=True), encoding="utf-8")
        tmp.replace(target)
        write_jsonl(target.with_suffix(".reviews.jsonl"), (asdict(r) for r in doc.reviews))
        written[folder].append(str(target))
    return written


TRAINING_KEYS = ("doc", "text", "spans", "annotator", "updated_at", "prediction")
"""Keys of one ``train/spans.jsonl`` row, in this order (the token classifier in ``models/`` reads it)."""


def span_objects(spans: Iterable[Any]) -> list[dict[str, Any]]:
    """``(start, end, label)`` -> ``{"start", "end", "label"}`` (code points, end exclusive)."""
    return [{"start": int(s), "end": int(e), "label": str(lab)} for s, e, lab in spans]


def training_rows(examples: Iterable[TrainingExample]) -> Iterator[dict[str, Any]]:
    """``train/spans.jsonl`` rows, one per annotated text (see ``annotations/README.md``)::

        {"doc", "text", "spans": [{"start", "end", "label"}], "annotator", "updated_at",
         "prediction": [{"start", "end", "label"}]}

    ``spans`` are the annotator's, ``prediction`` the spans they were shown and corrected.
    """
    for ex in examples:
        r = ex.review
        yield {
            "doc": r.doc,
            "text": ex.text,
            "spans": span_objects(ex.spans),
            "annotator": r.annotator,
            "updated_at": r.updated_at,
            "prediction": span_objects(r.predicted or []),
        }


def write_docbin(examples: Iterable[TrainingExample], path: Path) -> int | None:
    """spaCy ``DocBin`` of the examples (``spacy.blank("zh")``, character tokens): entities where spans do
    not overlap, every span in ``doc.spans["sc"]``; ``doc.user_data`` keeps who/when and the prediction
    (``docbin_user_data``). ``None`` when spaCy is not installed."""
    try:
        import spacy
        from spacy.tokens import DocBin
        from spacy.util import filter_spans
    except ImportError:
        return None
    nlp = spacy.blank("zh")
    docbin = DocBin(store_user_data=True)
    n = 0
    for ex in examples:
        doc = nlp.make_doc(ex.text)
        spans = [doc.char_span(s, e, label=lab, alignment_mode="expand") for s, e, lab in ex.spans]
        spans = [s for s in spans if s is not None]
        doc.ents = filter_spans(spans)
        doc.spans["sc"] = spans
        doc.user_data.update(docbin_user_data(ex))
        docbin.add(doc)
        n += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    docbin.to_disk(path)
    return n


def docbin_user_data(ex: TrainingExample) -> dict[str, Any]:
    """What a DocBin doc keeps beside its spans: the JSONL row's who/when/prediction, plus ``group`` /
    ``source`` / ``split`` as ``zhibiao.models.examples.read_docbin`` reads them."""
    r = ex.review
    return {
        "zhibiao_key": r.key,
        "doc": r.doc,
        "group": r.doc,
        "source": "annotator",
        "split": "train",
        "annotator": r.annotator,
        "updated_at": r.updated_at,
        "prediction": [[s, e, label] for s, e, label in (r.predicted or [])],
    }
