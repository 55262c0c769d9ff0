"""The evaluation harness: predictions (or a corpus to extract) against gold, every stage, one report.

- ``evaluate(gold_docs, predictions)`` scores each prediction against the gold of its document
  (records, tables, token spans, speed) and aggregates per rendition kind and overall;
- ``evaluate_dirs(gold_dir, pred_dir)`` does that for files on disk;
- ``run_corpus(corpus_dir, out_dir)`` extracts every rendition with ``zhibiao.pipeline.extract``
  (or any callable ``Path -> ExtractionResult | dict``), writes the predictions, then scores them.

Renditions and what is scored (``KINDS``): ``txt docx ole-docx xlsx pdf scan-pdf`` hold the whole
document (records, every table, token spans for txt); ``emf`` (``NAME_emf/tableK.emf``) holds one
table: table K, and the records of the projects that table holds; ``scan-png``
(``NAME_scan/pageN.png``) holds one page: the parts of the tables on page N, records not scored.
"""

from __future__ import annotations

import importlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhibiao.annotations.gold import GoldDocument
from zhibiao.eval.fields import (
    Counts,
    FieldOutcome,
    FieldStats,
    RecordScore,
    field_sort_key,
    field_stats,
    score_document_records,
)
from zhibiao.eval.gold import gold_for, gold_records, load_gold_dir
from zhibiao.eval.normalize import compact
from zhibiao.eval.spans import SpanCounts, add_counts, score_spans, spans_from_prediction
from zhibiao.eval.speed import SpeedTotals, prediction_speed
from zhibiao.eval.tables import TableScore, score_tables, table_from_dict
from zhibiao.model import Table

KINDS = ("txt", "docx", "ole-docx", "xlsx", "pdf", "emf", "scan-pdf", "scan-png")
"""Rendition kinds, in the order reports list them (``other`` for anything else)."""

Extractor = Callable[[Path], Any]


@dataclass
class Prediction:
    """One rendition's output-contract JSON, with the gold document and kind it is scored as."""

    name: str
    data: dict[str, Any]
    kind: str
    doc: str | None
    path: Path | None = None
    wall_s: float | None = None
    """Seconds the harness measured around the extractor (``run_corpus`` only)."""


# --- naming ---------------------------------------------------------------------------------------


def rendition_name(path: Path, corpus_dir: Path | None = None) -> str:
    """File stem of an input: ``X_ole.docx`` -> ``X_ole``, ``X_emf/table1.emf`` -> ``X_emf_table1``."""
    if corpus_dir is not None and path.parent.resolve() != corpus_dir.resolve():
        return f"{path.parent.name}_{path.stem}"
    return path.stem


def rendition_kind(name: str, data: dict[str, Any] | None = None, hint: str | None = None) -> str:
    """Which rendition a prediction is: from the folder it sits in, its ``source.path``, or its name."""
    if hint in KINDS:
        return str(hint)
    source = Path(str(((data or {}).get("source") or {}).get("path") or ""))
    parent = source.parent.name
    if source.suffix.lower() == ".emf" or parent.endswith("_emf") or re.search(r"_emf_table\d+$", name):
        return "emf"
    if parent.endswith("_scan") or re.search(r"_scan_page\d+$", name):
        return "scan-png"
    stem = source.stem if source.name else name
    if stem.endswith("_scan"):
        return "scan-pdf"
    if stem.endswith("_ole"):
        return "ole-docx"
    ext = source.suffix.lower().lstrip(".") or str(((data or {}).get("source") or {}).get("format") or "")
    return {"txt": "txt", "docx": "docx", "xlsx": "xlsx", "xls": "xlsx", "pdf": "pdf"}.get(ext, "other")


def _number_after(word: str, *texts: str) -> int | None:
    for text in texts:
        if match := re.search(rf"{word}(\d+)", text):
            return int(match[1])
    return None


# --- loading ------------------------------------------------------------------------------------


def load_predictions(pred_dir: Path, stems: list[str]) -> list[Prediction]:
    """All prediction JSON under ``pred_dir``, recursively (``report.json`` and non-contract JSON skipped)."""
    preds = []
    for path in sorted(pred_dir.rglob("*.json")):
        if path.name == "report.json":
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(data, dict) or not ({"projects", "tables", "source"} & data.keys()):
            continue
        hint = path.parent.name if path.parent != pred_dir else None
        data = well_formed(data)
        kind = rendition_kind(path.stem, data, hint)
        preds.append(Prediction(path.stem, data, kind, gold_for(path.stem, stems), path))
    return preds


LIST_KEYS = {
    "projects": ("indicators",),
    "narrative_indicators": (),
    "score_tables": ("rows",),
    "tables": ("cells",),
    "errors": (),
}
"""Contract lists (and the lists inside their items) that scoring walks."""


def well_formed(data: dict[str, Any]) -> dict[str, Any]:
    """The prediction with every list the scorer walks made a list of objects (other entries dropped).

    A malformed prediction file then scores as what it validly holds instead of crashing the run.
    """
    out = dict(data)
    for key, inner in LIST_KEYS.items():
        items = (
            [dict(x) for x in data.get(key) or [] if isinstance(x, dict)]
            if isinstance(data.get(key), list)
            else []
        )
        for item in items:
            for sub in inner:
                value = item.get(sub)
                item[sub] = [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []
        out[key] = items
    for key in ("source", "timings"):
        out[key] = data.get(key) if isinstance(data.get(key), dict) else {}
    return out


# --- scoring one prediction -----------------------------------------------------------------------


@dataclass
class Scored:
    """Everything measured on one prediction (kept for aggregation; ``as_dict`` goes to the report)."""

    pred: Prediction
    records: RecordScore | None = None
    tables: TableScore | None = None
    spans: dict[str, SpanCounts] | None = None
    speed: tuple[dict[str, float], int, int] = field(default_factory=lambda: ({}, 1, 0))
    notes: list[str] = field(default_factory=list)

    @property
    def fields(self) -> dict[str, FieldStats]:
        return field_stats(self.records.outcomes) if self.records else {}

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.pred.name,
            "doc": self.pred.doc,
            "kind": self.pred.kind,
            "source": (self.pred.data.get("source") or {}).get("path"),
            "errors": self.pred.data.get("errors") or [],
            "notes": self.notes,
        }
        out.update(record_metrics(self.records, self.fields))
        if self.records is not None:
            out["diffs"] = [
                _diff(o) for o in self.records.outcomes if o.status not in ("correct", "empty_ok")
            ]
            out["unmatched_gold"] = self.records.unmatched_gold
            out["unmatched_pred"] = self.records.unmatched_pred
        out["tables"] = self.tables.summary() if self.tables else None
        out["table_pairs"] = [p.as_dict() for p in self.tables.pairs] if self.tables else []
        out["spans"] = {k: v.as_dict() for k, v in self.spans.items()} if self.spans else None
        timings, pages, tables = self.speed
        out["speed"] = {"timings": timings, "pages": pages, "tables": tables, "wall": self.pred.wall_s}
        return out


def _diff(o: FieldOutcome) -> dict[str, Any]:
    return {"where": o.where, "field": o.field, "status": o.status, "gold": o.gold, "pred": o.pred}


def record_metrics(records: RecordScore | None, fields: dict[str, FieldStats]) -> dict[str, Any]:
    """The headline record numbers (``None`` where records were not scored)."""
    if records is None:
        return dict.fromkeys(RECORD_KEYS)
    total = FieldStats()
    for stats in fields.values():
        total += stats
    measured_fields = total.slots or total.fp
    return {
        "field_accuracy": total.accuracy if total.slots else None,
        "field_precision": total.precision if measured_fields else None,
        "field_recall": total.recall if measured_fields else None,
        "field_f1": total.f1 if measured_fields else None,
        "gold_slots": total.slots,
        **_counts("indicator", records.indicators),
        "record_exact_match": _if_any(records.indicators, records.indicators.exact_match),
        "gold_indicators": records.indicators.tp + records.indicators.fn,
        "predicted_indicators": records.indicators.tp + records.indicators.fp,
        **_counts("project", records.projects),
        "project_exact_match": _if_any(records.projects, records.projects.exact_match),
        "fields": {name: fields[name].as_dict() for name in sorted(fields, key=field_sort_key)},
    }


def _if_any(counts: Counts, value: float) -> float | None:
    """``value``, or ``None`` where there was nothing to count (no gold and no predicted record)."""
    return value if counts.tp + counts.fp + counts.fn else None


def _counts(prefix: str, counts: Counts) -> dict[str, float | None]:
    return {
        f"{prefix}_precision": _if_any(counts, counts.precision),
        f"{prefix}_recall": _if_any(counts, counts.recall),
        f"{prefix}_f1": _if_any(counts, counts.f1),
    }


RECORD_KEYS = (
    "field_accuracy",
    "field_precision",
    "field_recall",
    "field_f1",
    "gold_slots",
    "indicator_precision",
    "indicator_recall",
    "indicator_f1",
    "record_exact_match",
    "gold_indicators",
    "predicted_indicators",
    "project_precision",
    "project_recall",
    "project_f1",
    "project_exact_match",
    "fields",
)


def _predicted_tables(data: dict[str, Any]) -> list[Table]:
    return [table_from_dict(t) for t in data.get("tables") or [] if isinstance(t, dict)]


def _table_text(table: Table) -> str:
    return "".join(compact(c.text) for c in table.cells)


def projects_in_table(gold: dict[str, Any], table: Table) -> list[int]:
    """Projects an input holding only ``table`` can yield: named or coded in it, with its indicators."""
    text = _table_text(table)
    chosen = []
    for i, project in enumerate(gold.get("projects") or []):
        named = any(compact(project.get(k)) and compact(project.get(k)) in text for k in ("name", "code"))
        indicators = project.get("indicators") or []
        if named and (not indicators or any(compact(ind.get("name")) in text for ind in indicators)):
            chosen.append(i)
    return chosen


def _restrict(gold: dict[str, Any], pred: dict[str, Any], keep: list[int]) -> tuple[dict, dict]:
    """Gold with only the projects in ``keep``; prediction without projects that stand for the others."""
    from zhibiao.eval.fields import PROJECT_MATCH, project_similarity

    projects = gold.get("projects") or []
    others = [p for i, p in enumerate(projects) if i not in keep]
    kept = [p for i, p in enumerate(projects) if i in keep]

    def stands_for_other(pp: dict[str, Any]) -> bool:
        best_other = max((project_similarity(g, pp) for g in others), default=0.0)
        best_kept = max((project_similarity(g, pp) for g in kept), default=0.0)
        return best_other >= PROJECT_MATCH and best_other > best_kept

    pred_projects = [pp for pp in pred.get("projects") or [] if not stands_for_other(pp)]
    return {**gold, "projects": kept}, {**pred, "projects": pred_projects}


def score_prediction(gold: GoldDocument, pred: Prediction, texts: dict[str, str] | None = None) -> Scored:
    """Score one prediction against its gold document according to its rendition kind."""
    scored = Scored(pred, speed=prediction_speed(pred.data))
    records = gold_records(gold)
    source = str((pred.data.get("source") or {}).get("path") or "")
    predicted = _predicted_tables(pred.data)
    gold_tables = gold.tables
    if pred.kind == "emf":
        k = _number_after("table", pred.name, source)
        chosen = [t for t in gold_tables or [] if t.index == k]
        if gold_tables is not None:
            scored.tables = score_tables([(f"table{t.index}", t.table()) for t in chosen], predicted)
        if chosen:
            gold_part, pred_part = _restrict(
                records, pred.data, projects_in_table(records, chosen[0].table())
            )
            scored.records = score_document_records(gold_part, pred_part, partial=True)
        else:
            scored.notes.append(f"no gold table {k}: records not scored")
    elif pred.kind == "scan-png":
        n = _number_after("page", pred.name, source)
        if gold_tables is not None and n is not None:
            parts = [(f"table{t.index}@p{n}", t.part_table(n)) for t in gold_tables if n in t.pages]
            scored.tables = score_tables([(label, t) for label, t in parts if t is not None], predicted)
        scored.notes.append("single page image: records not scored")
    else:
        scored.records = score_document_records(records, pred.data)
        if gold_tables is not None:
            scored.tables = score_tables([(f"table{t.index}", t.table()) for t in gold_tables], predicted)
    if pred.kind == "txt" and gold.spans and texts:
        for annotated in gold.spans:
            text = texts.get(annotated.source)
            if text is not None:
                gold_spans = [(s.start, s.end, s.label) for s in annotated.spans]
                counts = score_spans(gold_spans, spans_from_prediction(pred.data, text))
                scored.spans = add_counts(scored.spans or {}, counts)
    return scored


# --- aggregation ----------------------------------------------------------------------------------


@dataclass
class Aggregate:
    """Micro-averaged totals over a set of scored predictions."""

    predictions: int = 0
    fields: dict[str, FieldStats] = field(default_factory=dict)
    indicators: Counts = field(default_factory=Counts)
    projects: Counts = field(default_factory=Counts)
    records_scored: bool = False
    tables: TableScore = field(default_factory=TableScore)
    spans: dict[str, SpanCounts] = field(default_factory=dict)
    speed: SpeedTotals = field(default_factory=SpeedTotals)

    def add(self, scored: Scored) -> None:
        self.predictions += 1
        if scored.records is not None:
            self.records_scored = True
            for name, stats in scored.fields.items():
                self.fields.setdefault(name, FieldStats()).__iadd__(stats)
            self.indicators += scored.records.indicators
            self.projects += scored.records.projects
        if scored.tables is not None:
            self.tables += scored.tables
        if scored.spans:
            add_counts(self.spans, scored.spans)
        self.speed.add(*scored.speed, wall=scored.pred.wall_s)

    def as_dict(self) -> dict[str, Any]:
        records = (
            RecordScore(indicators=self.indicators, projects=self.projects) if self.records_scored else None
        )
        out: dict[str, Any] = {"predictions": self.predictions, **record_metrics(records, self.fields)}
        tables = self.tables.summary() or {}
        for key in (
            "teds",
            "teds_s",
            "cell_text_accuracy",
            "cell_precision",
            "cell_f1",
            "cell_structure_accuracy",
        ):
            out[key] = tables.get(key)
        out["tables"] = tables.get("tables", 0)
        out["tables_matched"] = tables.get("tables_matched", 0)
        out["tables_extra"] = tables.get("tables_extra", 0)
        out["spans"] = {k: v.as_dict() for k, v in self.spans.items()} if self.spans else None
        out["speed"] = self.speed.as_dict()
        return out


def _kind_order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


def summarize(scored: list[Scored]) -> dict[str, Any]:
    """Overall totals (all renditions pooled) with ``groups`` per rendition kind."""
    overall = Aggregate()
    groups: dict[str, Aggregate] = {}
    for item in scored:
        overall.add(item)
        groups.setdefault(item.pred.kind, Aggregate()).add(item)
    summary = overall.as_dict()
    summary["groups"] = {k: groups[k].as_dict() for k in sorted(groups, key=_kind_order)}
    return summary


def evaluate(
    gold_docs: list[GoldDocument],
    preds: list[Prediction],
    texts: dict[str, str] | None = None,
    peers: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report: ``summary`` (overall + ``groups``), ``documents`` (one per prediction), ``peers``."""
    by_stem = {g.doc: g for g in gold_docs}
    scored, unmatched = [], []
    for pred in sorted(preds, key=lambda p: (p.doc or "", _kind_order(p.kind), p.name)):
        if pred.doc is None or pred.doc not in by_stem:
            unmatched.append(pred.name)
            continue
        scored.append(score_prediction(by_stem[pred.doc], pred, texts))
    missing = sorted({g.doc for g in gold_docs} - {s.pred.doc for s in scored})
    return {
        "meta": {**(meta or {}), "unmatched_predictions": unmatched, "gold_without_predictions": missing},
        "summary": summarize(scored),
        "documents": [s.as_dict() for s in scored],
        "peers": peers or {},
    }


def texts_for(gold_docs: Iterable[GoldDocument], corpus_dir: Path | None) -> dict[str, str]:
    """The texts the gold token spans refer to, read from the corpus folder."""
    texts = {}
    for doc in gold_docs:
        for annotated in doc.spans or []:
            path = corpus_dir / annotated.source if corpus_dir else None
            if path is not None and path.is_file():
                texts[annotated.source] = path.read_text(encoding="utf-8")
    return texts


def evaluate_dirs(
    gold_dir: Path,
    pred_dir: Path,
    corpus_dir: Path | None = None,
    peers: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score every prediction under ``pred_dir`` against the gold files in ``gold_dir``."""
    gold_docs = load_gold_dir(gold_dir)
    preds = load_predictions(pred_dir, [g.doc for g in gold_docs])
    corpus = corpus_dir or gold_dir.parent
    return evaluate(gold_docs, preds, texts_for(gold_docs, corpus), peers, meta)


# --- running the pipeline -------------------------------------------------------------------------


def corpus_inputs(corpus_dir: Path, stems: list[str]) -> list[Path]:
    """Renditions of the gold documents in a corpus: top-level files, ``*_emf/*.emf``, ``*_scan/*.png``."""
    inputs = []
    for path in sorted(corpus_dir.iterdir()):
        if path.is_file() and gold_for(path.name, stems):
            inputs.append(path)
        elif path.is_dir() and gold_for(path.name, stems):
            pattern = "*.emf" if path.name.endswith("_emf") else "*.png"
            inputs.extend(sorted(path.glob(pattern), key=lambda p: (len(p.stem), p.stem)))
    return inputs


def resolve_extractor(name: str = "zhibiao.pipeline:extract") -> Extractor:
    """Import the extractor lazily (``module:function``) so the harness works before the pipeline exists."""
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RuntimeError(f"cannot import the extractor {name!r}: {exc}") from exc
    extractor = getattr(module, attr or "extract", None)
    if not callable(extractor):
        raise RuntimeError(f"the extractor {name!r} is not a function of {module_name}")
    return extractor


def _as_json(result: Any) -> dict[str, Any]:
    if hasattr(result, "model_dump"):
        return result.model_dump(mode="json")
    if isinstance(result, dict):
        return result
    raise TypeError(f"the extractor returned {type(result).__name__}, not an ExtractionResult or dict")


def extract_one(extractor: Extractor, path: Path) -> tuple[dict[str, Any], float]:
    """Run the extractor on one file; a crash becomes a prediction with an error (the run goes on)."""
    start = time.perf_counter()
    try:
        data = _as_json(extractor(path))
    except Exception as exc:  # the harness must score a failing extractor, not die with it
        data = {
            "source": {"path": str(path)},
            "errors": [{"code": type(exc).__name__, "message": str(exc), "stage": "extract"}],
        }
    return data, time.perf_counter() - start


def run_corpus(
    corpus_dir: Path,
    out_dir: Path,
    extractor: Extractor | None = None,
    gold_dir: Path | None = None,
    kinds: Iterable[str] | None = None,
    peers: Callable[[list[GoldDocument]], dict[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Extract every rendition in ``corpus_dir``, write ``out_dir/predictions/<kind>/<name>.json``, score."""
    gold_dir = gold_dir or corpus_dir / "gold"
    gold_docs = load_gold_dir(gold_dir)
    stems = [g.doc for g in gold_docs]
    extractor = extractor or resolve_extractor()
    wanted = set(kinds) if kinds else None
    preds = []
    for path in corpus_inputs(corpus_dir, stems):
        name = rendition_name(path, corpus_dir)
        kind = rendition_kind(name, {"source": {"path": str(path)}})
        if wanted is not None and kind not in wanted:
            continue
        data, wall = extract_one(extractor, path)
        data = well_formed(data)
        data["source"].setdefault("path", str(path))
        target = out_dir / "predictions" / kind / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        preds.append(Prediction(name, data, kind, gold_for(name, stems), target, wall))
        if progress:
            progress(f"{kind:9s} {name}  {wall:.2f} s")
    peer_results = peers(gold_docs) if peers else {}
    meta = {"corpus": str(corpus_dir), "gold": str(gold_dir), "predictions": str(out_dir / "predictions")}
    return evaluate(gold_docs, preds, texts_for(gold_docs, corpus_dir), peer_results, meta)
