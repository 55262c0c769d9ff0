"""Annotation loop without a server: contract JSON -> tasks, annotations -> gold, gold -> eval."""

from __future__ import annotations

import argparse
import copy
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree

from zhibiao.annotations import tasks as T
from zhibiao.annotations.cli import Connection, UsageError, iter_results, project_title, resolve_connection
from zhibiao.annotations.from_label_studio import (
    TRAINING_KEYS,
    GoldBuilder,
    cells_from_regions,
    spans_from_result,
    training_rows,
    write_docbin,
    write_gold,
    write_jsonl,
)
from zhibiao.annotations.gold import GoldDocument, load_gold_file
from zhibiao.annotations.images import LocalMedia, local_files_url
from zhibiao.annotations.labels import ALL_SPAN_LABELS, SPAN_LABELS
from zhibiao.annotations.server import Credentials, LabelStudioServer, ServerError, load_or_create_credentials
from zhibiao.annotations.server import server_env as make_server_env
from zhibiao.annotations.spans import RULES_VERSION, rule_spans, value_spans
from zhibiao.model import Cell, SourceInfo, Table
from zhibiao.result import (
    Budget,
    ExtractionResult,
    Flag,
    Indicator,
    NarrativeIndicator,
    Project,
    Provenance,
    Value,
)

SHA = "ab" * 32
PAGE_W, PAGE_H = 600.0, 800.0


def _cell(row: int, col: int, text: str, y: float, x0: float, x1: float, **kw: Any) -> Cell:
    return Cell(
        row=row, col=col, text=text, bbox=(x0, y, x1, y + 20 * kw.pop("row_span", 1)), source="p1", **kw
    )


def sample_result(source: str = "/data/report.pdf", fmt: str = "pdf") -> dict[str, Any]:
    """A small self-evaluation form: one project, two indicators (one flagged), one fact in prose."""
    cells = [
        _cell(0, 0, "一级指标", 100, 50, 150),
        _cell(0, 1, "三级指标", 100, 150, 300),
        _cell(0, 2, "指标值", 100, 300, 400),
        _cell(0, 3, "实际完成值", 100, 400, 500),
        Cell(row=1, col=0, row_span=2, text="产出指标", bbox=(50, 120, 150, 160), source="p1"),
        _cell(1, 1, "春蕾计划结对帮扶困难学生", 120, 150, 300),
        _cell(1, 2, "100名", 120, 300, 400),
        _cell(1, 3, "80名", 120, 400, 500, confidence=0.6),
        _cell(2, 1, "合同审核及时率≥95%，全年合同审核及时率达到100%", 140, 150, 300),
        _cell(2, 2, "95%", 140, 300, 400),
        _cell(2, 3, "100%", 140, 400, 500),
    ]
    table = Table(
        index=1, page=1, pages=[1], reader="pdf-text", n_rows=3, n_cols=4, cells=cells, title="自评表"
    )
    flagged = Indicator(
        level1="产出指标",
        name="春蕾计划结对帮扶困难学生",
        operator="≥",
        target=Value(text="100", value=100, unit="名"),
        actual=Value(text="80", value=80, unit="名"),
        weight=20,
        score=18,
        confidence=0.9,
        flags=[Flag(code="actual_below_target", message="actual < target", severity="warning")],
        provenance=Provenance(reader="pdf-text", page=1, table=1, cells=[(1, 0), (1, 1), (1, 2), (1, 3)]),
    )
    plain = Indicator(
        level1="产出指标",
        name="合同审核及时率",
        operator="≥",
        target=Value(text="95%", value=95, unit="%"),
        actual=Value(text="100%", value=100, unit="%"),
        weight=10,
        score=10,
        provenance=Provenance(
            reader="pdf-text", page=1, table=1, cells=[(2, 1), (2, 2), (2, 3)], printed={"operator": "≥"}
        ),
    )
    project = Project(
        name="市妇联妇儿工委",
        code="51030022Y000000325523",
        budget=Budget(unit="万元", initial=15.0, executed=14.63, execution_rate=100.0),
        indicators=[flagged, plain],
        total_score=98,
        provenance=Provenance(reader="pdf-text", page=1, table=1, cells=[(0, 0)]),
    )
    fact = NarrativeIndicator(
        project="市妇联妇儿工委",
        name="信访案件办结率",
        actual=Value(text="100%", value=100, unit="%"),
        sentence="1.信访案件办结率100%，完成年度绩效指标。",
        confidence=0.85,
        provenance=Provenance(reader="txt", char_span=(10, 21)),
    )
    loose = NarrativeIndicator(
        name="区级妇女儿童活动场所建筑面积",
        actual=Value(text="2,340平方米", value=2340, unit="平方米"),
        sentence="区级妇女儿童活动场所建筑面积2,340平方米。",
    )
    result = ExtractionResult(
        source=SourceInfo(path=source, sha256=SHA, format=fmt, pages=1),
        projects=[project],
        narrative_indicators=[fact, loose],
        tables=[table],
    )
    return result.model_dump(mode="json")


class FakeMedia:
    """Page images without files: every page is a 1200x1600 px rendering of a 600x800 pt page."""

    def __init__(self, text: str | None = None) -> None:
        self.crops: list[tuple[int, tuple[float, ...]]] = []
        self.text = text

    def page_image(self, result: dict[str, Any], page: int) -> T.PageImage | None:
        return T.PageImage(f"/data/local-files/?d=p{page}.png", 1200, 1600, PAGE_W, PAGE_H)

    def crop(self, result: dict[str, Any], page: int, bbox: Any) -> str | None:
        self.crops.append((page, tuple(bbox)))
        return f"/data/local-files/?d=crop{len(self.crops)}.png"

    def source_text(self, result: dict[str, Any]) -> str | None:
        return self.text


# --- configs -------------------------------------------------------------------------------------


def _controls(kind: str) -> dict[str, ElementTree.Element]:
    root = ElementTree.fromstring(T.label_config(kind))
    return {el.get("name"): el for el in root.iter() if el.get("toName")}


def test_configs_name_the_fields_the_tasks_fill():
    assert set(_controls("record")) == {T.control_name(f) for f in T.INDICATOR_FIELDS} | {"verdict"}
    assert set(_controls("project")) == {T.control_name(f) for f in T.PROJECT_FIELDS} | {"verdict"}
    assert set(_controls("table")) == {"cell", "text"}
    span_labels = [el.get("value") for el in _controls("span")["label"]]
    assert tuple(span_labels) == ALL_SPAN_LABELS
    assert SPAN_LABELS == ("INDICATOR", "TARGET", "ACTUAL", "UNIT", "OP")
    operators = [el.get("value") for el in _controls("record")["operator"]]
    assert operators == ["≥", "≤", "=", ">", "<", "定性"]
    with pytest.raises(ValueError, match="unknown task kind"):
        T.label_config("video")


def test_configs_are_valid_label_studio_configs():
    label_interface = pytest.importorskip("label_studio_sdk.label_interface")
    for kind in T.KINDS:
        label_interface.LabelInterface(T.label_config(kind)).validate()


# --- tasks -----------------------------------------------------------------------------------------


def test_build_tasks_every_kind_with_predictions_that_fit_the_configs():
    result = sample_result()
    tasks = T.build_tasks(result, FakeMedia())
    assert {k: len(v) for k, v in tasks.items()} == {"table": 1, "record": 4, "project": 1, "span": 3}
    label_interface = pytest.importorskip("label_studio_sdk.label_interface")
    for kind, items in tasks.items():
        interface = label_interface.LabelInterface(T.label_config(kind))
        for task in items:
            assert interface.validate_prediction(task["predictions"][0], return_errors=True) == []


def test_keys_are_stable_unique_and_change_with_the_document():
    result = sample_result()
    first = T.build_tasks(result, FakeMedia())
    again = T.build_tasks(copy.deepcopy(result), FakeMedia())
    keys = [t["data"]["zhibiao_key"] for items in first.values() for t in items]
    assert keys == [t["data"]["zhibiao_key"] for items in again.values() for t in items]
    assert len(set(keys)) == len(keys)
    other = sample_result()
    other["source"]["sha256"] = "cd" * 32
    other_keys = {
        t["data"]["zhibiao_key"] for items in T.build_tasks(other, FakeMedia()).values() for t in items
    }
    assert not other_keys & set(keys)


def test_flagged_and_low_confidence_records_come_first():
    records = T.build_tasks(sample_result(), FakeMedia())["record"]
    order = [t["data"]["zhibiao"]["path"] for t in records]
    assert order[0] == "projects[0].indicators[0]"  # flagged (warning): 0.9 * 0.5
    assert order[1] == "narrative_indicators[0]"  # confidence 0.85
    scores = [t["predictions"][0]["score"] for t in records]
    assert scores == sorted(scores) and scores[0] == pytest.approx(0.45)
    assert T.review_score(0.9, [{"severity": "info"}]) > T.review_score(0.9, [{"severity": "error"}])


def test_record_task_prefills_fields_and_shows_source_and_flags():
    media = FakeMedia()
    task = next(
        t
        for t in T.build_tasks(sample_result(), media)["record"]
        if t["data"]["zhibiao"]["path"] == "projects[0].indicators[0]"
    )
    values = {r["from_name"]: r["value"] for r in task["predictions"][0]["result"]}
    assert values["actual"] == {"text": ["80"]}
    assert values["unit"] == {"text": ["名"]}
    assert values["operator"] == {"choices": ["≥"]}
    assert values["weight"] == {"text": ["20"]}
    assert values["verdict"] == {"choices": ["ok"]}
    assert "reason" not in values  # empty fields are left empty
    data = task["data"]
    assert data["zhibiao"]["predicted"]["actual"] == "80"
    assert "actual_below_target" in data["checks_html"]
    assert '<img src="/data/local-files/?d=crop' in data["source_html"]
    assert "春蕾计划结对帮扶困难学生" in data["source_html"] and "background" in data["source_html"]
    # the crop is the row's one-row cells on their page, not the merged level-1 cell
    assert (1, (150.0, 120.0, 500.0, 140.0)) in media.crops


def test_text_only_media_gives_record_tasks_without_images_and_no_table_tasks():
    tasks = T.build_tasks(sample_result("/data/report.xlsx", "xlsx"), T.NoMedia())
    assert tasks["table"] == []
    assert all("<img" not in t["data"]["source_html"] for t in tasks["record"])
    assert all(
        "<table" in t["data"]["source_html"]
        for t in tasks["record"]
        if t["data"]["zhibiao"]["record"] == "indicator"
    )


def test_html_is_escaped():
    result = sample_result()
    result["projects"][0]["indicators"][0]["name"] = "<script>alert(1)</script>"
    result["tables"][0]["cells"][5]["text"] = "<b>x</b>"
    task = T.build_tasks(result, T.NoMedia())["record"][0]
    assert (
        "<script>" not in task["data"]["source_html"]
        and "&lt;b&gt;x&lt;/b&gt;" in task["data"]["source_html"]
    )


def test_table_task_regions_in_percent_with_original_size_and_confidence_as_score():
    task = T.build_tasks(sample_result(), FakeMedia())["table"][0]
    regions = task["predictions"][0]["result"]
    rect = next(r for r in regions if r["id"] == "t1r1c3" and r["type"] == "rectanglelabels")
    assert rect["value"]["x"] == pytest.approx(100 * 400 / PAGE_W, abs=1e-3)
    assert rect["value"]["y"] == pytest.approx(100 * 120 / PAGE_H, abs=1e-3)
    assert rect["value"]["width"] == pytest.approx(100 * 100 / PAGE_W, abs=1e-3)
    assert (rect["original_width"], rect["original_height"]) == (1200, 1600)
    assert rect["score"] == pytest.approx(0.6)
    text = next(r for r in regions if r["id"] == "t1r1c3" and r["type"] == "textarea")
    assert text["value"]["text"] == ["80名"]
    assert task["data"]["zhibiao"]["page_size"] == [PAGE_W, PAGE_H]
    assert task["predictions"][0]["score"] == pytest.approx(0.6)


def test_span_tasks_for_sentences_and_sentence_like_cells():
    text = "前言……1.信访案件办结率100%，完成年度绩效指标。"
    spans = T.build_tasks(sample_result(), FakeMedia(text))["span"]
    by_text = {t["data"]["text"]: t for t in spans}
    sentence = by_text["1.信访案件办结率100%，完成年度绩效指标。"]
    labels = [(r["value"]["text"], r["value"]["labels"][0]) for r in sentence["predictions"][0]["result"]]
    assert labels == [("信访案件办结率", "INDICATOR"), ("100%", "ACTUAL")]
    assert sentence["predictions"][0]["model_version"] == RULES_VERSION
    assert sentence["data"]["zhibiao"]["text_offset"] == text.index("1.信访")
    cell = by_text["合同审核及时率≥95%，全年合同审核及时率达到100%"]
    cell_labels = [(r["value"]["text"], r["value"]["labels"][0]) for r in cell["predictions"][0]["result"]]
    assert cell_labels[:3] == [("合同审核及时率", "INDICATOR"), ("≥", "OP"), ("95%", "ACTUAL")]
    assert by_text["区级妇女儿童活动场所建筑面积2,340平方米。"]["data"]["zhibiao"]["text_offset"] is None


def test_utf16_offsets_round_trip_astral_characters():
    text = "𠀀项目𠀁完成率100%"
    for i in range(len(text) + 1):
        assert T.codepoint_offset(text, T.utf16_offset(text, i)) == i
    assert T.utf16_offset(text, 3) == 4
    result = T.label_results(text, [(4, 7, "INDICATOR")])
    assert result[0]["value"]["start"] == 6 and result[0]["value"]["end"] == 9  # two surrogate pairs before
    assert spans_from_result(result, text) == [(4, 7, "INDICATOR")]


def test_format_number_without_float_noise():
    assert T.format_number(15.0) == "15"
    assert T.format_number(130.76) == "130.76"
    assert T.format_number(0.1 + 0.2) == "0.3"
    assert T.format_number(None) is None


# --- annotations -> gold ---------------------------------------------------------------------------


def annotate(task: dict[str, Any], edit: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    """A task as Label Studio lists it, with an annotation that accepts the prediction (with edits)."""
    result = copy.deepcopy(task["predictions"][0]["result"])
    for item in result:
        if edit and item["from_name"] in edit:
            key = "choices" if item["type"] == "choices" else "text"
            item["value"][key] = [edit[item["from_name"]]]
    annotation = {
        "id": 7,
        "result": result,
        "completed_by": 3,
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T10:05:00Z",
        "lead_time": 12.5,
        "was_cancelled": False,
        "ground_truth": False,
        **meta,
    }
    return {"id": 1, "data": task["data"], "annotations": [annotation]}


def _by_path(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {t["data"]["zhibiao"]["path"]: t for t in items}


def pulled(edits: dict[str, dict[str, Any]] | None = None, skip: tuple[str, ...] = ()) -> GoldBuilder:
    tasks = T.build_tasks(sample_result(), FakeMedia())
    builder = GoldBuilder({3: "annotator@example.com"})
    for kind in ("project", "record"):
        for path, task in _by_path(tasks[kind]).items():
            if path in skip:
                builder.add({"id": 2, "data": task["data"], "annotations": []})
            else:
                builder.add(annotate(task, (edits or {}).get(path)))
    return builder


def test_corrected_field_lands_in_gold_with_who_when_and_prediction():
    docs = pulled({"projects[0].indicators[0]": {"actual": "85"}}).documents()
    assert len(docs) == 1 and docs[0].complete
    gold = docs[0].gold
    project = gold.projects[0]
    assert project.name == "市妇联妇儿工委" and project.budget.initial == "15"
    flagged = next(i for i in project.indicators if i.name == "春蕾计划结对帮扶困难学生")
    assert flagged.actual == "85" and flagged.target == "100" and flagged.operator == "≥"
    fact = next(i for i in project.indicators if i.name == "信访案件办结率")
    assert fact.model_fields_set == {"name", "target", "unit", "actual"}  # a fact in prose
    assert [f.name for f in gold.narrative] == ["区级妇女儿童活动场所建筑面积"]
    review = next(r for r in docs[0].reviews if r.path == "projects[0].indicators[0]")
    assert review.changed == ["actual"]
    assert (review.predicted["actual"], review.annotated["actual"]) == ("80", "85")
    assert review.annotator == "annotator@example.com" and review.updated_at == "2026-11-20T10:05:00Z"
    assert review.gold_path == "projects[0].indicators[0]"
    assert gold.tables is None and gold.spans is None  # not annotated


def test_unreviewed_or_unsure_records_leave_the_document_partial():
    assert not pulled(skip=("projects[0].indicators[1]",)).documents()[0].complete
    unsure = pulled({"projects[0].indicators[1]": {"verdict": "unsure"}}).documents()[0]
    assert not unsure.complete
    assert [i.name for i in unsure.gold.projects[0].indicators] == [
        "春蕾计划结对帮扶困难学生",
        "信访案件办结率",
    ]


def test_not_a_record_is_dropped():
    doc = pulled({"projects[0].indicators[1]": {"verdict": "not_a_record"}}).documents()[0]
    assert doc.complete
    assert "合同审核及时率" not in [i.name for i in doc.gold.projects[0].indicators]


def test_latest_non_cancelled_annotation_counts():
    task = T.build_tasks(sample_result(), FakeMedia())["record"][0]
    listed = annotate(task, {"actual": "1"})
    newer = copy.deepcopy(listed["annotations"][0])
    newer.update(
        id=8,
        updated_at="2026-11-21T00:00:00Z",
        result=annotate(task, {"actual": "2"})["annotations"][0]["result"],
    )
    skipped = dict(newer, id=9, updated_at="2026-11-22T00:00:00Z", was_cancelled=True, result=[])
    listed["annotations"] += [newer, skipped]
    builder = GoldBuilder()
    builder.add(listed)
    review = builder.documents()[0].reviews[0]
    assert review.annotation_id == 8 and review.annotated["actual"] == "2"


def test_table_regions_keep_or_snap_cell_structure():
    task = T.build_tasks(sample_result(), FakeMedia())["table"][0]
    meta = task["data"]["zhibiao"]
    result = [r for r in copy.deepcopy(task["predictions"][0]["result"]) if r["id"] != "t1r2c3"]
    for item in result:
        if item["id"] == "t1r1c3" and item["type"] == "textarea":
            item["value"]["text"] = ["85名"]
        if item["id"] == "t1r2c1":  # stretched over two columns: a merged cell now
            item["value"]["width"] = 100 * 250 / PAGE_W
    drawn = {
        "x": 100 * 401 / PAGE_W,
        "y": 100 * 141 / PAGE_H,
        "width": 100 * 98 / PAGE_W,
        "height": 100 * 18 / PAGE_H,
    }
    result.append({**result[0], "id": "new", "value": {**drawn, "rotation": 0, "rectanglelabels": ["cell"]}})
    result.append({**result[1], "id": "new", "value": {**drawn, "rotation": 0, "text": ["100％"]}})
    cells = {(c.row, c.col): c for c in cells_from_regions(meta, result)}
    assert cells[(1, 3)].text == "85名"
    assert (cells[(1, 0)].row_span, cells[(1, 0)].col_span) == (2, 1)
    assert (cells[(2, 1)].row_span, cells[(2, 1)].col_span) == (1, 2)
    assert (cells[(2, 3)].row_span, cells[(2, 3)].col_span, cells[(2, 3)].text) == (1, 1, "100％")
    assert cells[(0, 0)].text == "一级指标"


SPAN_TEXT = "前言……1.信访案件办结率100%，完成年度绩效指标。"


def span_tasks_with_one_correction() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The span tasks of a narrative report, and the first one annotated with ACTUAL corrected to TARGET."""
    spans = _by_path(T.build_tasks(sample_result("/data/report.txt", "txt"), FakeMedia(SPAN_TEXT))["span"])
    first = spans["narrative_indicators[0]"]
    result = copy.deepcopy(first["predictions"][0]["result"])
    assert [r["value"]["text"] for r in result] == ["信访案件办结率", "100%"]
    result[1]["value"]["labels"] = ["TARGET"]
    corrected = {
        "id": 5,
        "data": first["data"],
        "annotations": [{**annotate(first)["annotations"][0], "result": result}],
    }
    return spans, corrected


def fully_annotated(spans: dict[str, dict[str, Any]], corrected: dict[str, Any]) -> GoldBuilder:
    """Every span task annotated (as predicted, but the corrected one) by a@example.com."""
    builder = GoldBuilder({3: "a@example.com"})
    builder.add(corrected)
    for path, task in spans.items():
        if path != "narrative_indicators[0]":
            builder.add(annotate(task))
    return builder


def test_span_gold_only_when_all_span_tasks_are_annotated(tmp_path):
    text = SPAN_TEXT
    spans, corrected = span_tasks_with_one_correction()
    open_tasks = GoldBuilder()
    open_tasks.add(corrected)
    for path, task in spans.items():
        if path != "narrative_indicators[0]":
            open_tasks.add({"id": 6, "data": task["data"], "annotations": []})
    assert open_tasks.documents()[0].gold.spans is None  # two span tasks still open
    builder = fully_annotated(spans, corrected)
    gold = builder.documents()[0].gold
    assert gold.spans is not None
    on_text = next(s for s in gold.spans if s.source == "report.txt")
    start = text.index("信访")
    assert [(s.start, s.end, s.label) for s in on_text.spans] == [
        (start, start + 7, "NAME"),
        (start + 7, start + 11, "TARGET"),
    ]
    assert any(s.source.startswith("label-studio:") for s in gold.spans)
    rows = list(training_rows(builder.examples))
    assert all(tuple(row) == TRAINING_KEYS for row in rows)
    changed = next(r for r in rows if r["spans"] != r["prediction"])
    assert changed["doc"] == "report" and changed["text"] == "1.信访案件办结率100%，完成年度绩效指标。"
    assert changed["spans"][1] == {"start": 9, "end": 13, "label": "TARGET"}
    assert changed["prediction"][1] == {"start": 9, "end": 13, "label": "ACTUAL"}
    assert changed["annotator"] == "a@example.com" and changed["updated_at"]
    assert sum(r["spans"] != r["prediction"] for r in rows) == 1
    # the token classifier's trainer (`zhibiao train --extra-data`) reads the file as written
    from zhibiao.models.examples import read_jsonl

    assert write_jsonl(tmp_path / "spans.jsonl", rows) == len(rows)
    read = read_jsonl(tmp_path / "spans.jsonl")
    assert [(e.group, e.text, [list(s) for s in e.spans]) for e in read] == [
        (r["doc"], r["text"], [[s["start"], s["end"], s["label"]] for s in r["spans"]]) for r in rows
    ]


@pytest.mark.slow  # importing spaCy alone takes seconds
def test_docbin_keeps_spans_who_when_and_prediction(tmp_path):
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin

    builder = fully_annotated(*span_tasks_with_one_correction())
    rows = list(training_rows(builder.examples))
    changed = next(r for r in rows if r["spans"] != r["prediction"])
    assert write_docbin(builder.examples, tmp_path / "spans.spacy") == len(rows)
    docs = list(DocBin().from_disk(tmp_path / "spans.spacy").get_docs(spacy.blank("zh").vocab))
    doc = next(d for d in docs if d.text == changed["text"])
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [
        (s["start"], s["end"], s["label"]) for s in changed["spans"]
    ]
    assert doc.user_data["annotator"] == "a@example.com" and doc.user_data["updated_at"]
    assert [list(p) for p in doc.user_data["prediction"]] == [
        [s["start"], s["end"], s["label"]] for s in changed["prediction"]
    ]
    assert (doc.user_data["group"], doc.user_data["source"]) == ("report", "annotator")


def test_written_gold_validates_and_reloads_with_reviews(tmp_path):
    docs = pulled({"projects[0].indicators[0]": {"actual": "85"}}).documents()
    written = write_gold(docs, tmp_path)
    assert written["gold"] == [str(tmp_path / "gold" / "report.json")]
    reloaded = load_gold_file(tmp_path / "gold" / "report.json")
    assert isinstance(reloaded, GoldDocument) and reloaded.gold_version == "1"
    assert reloaded.projects[0].indicators[0].actual == "85"
    reviews = [
        json.loads(line) for line in (tmp_path / "gold" / "report.reviews.jsonl").read_text().splitlines()
    ]
    assert any(r["changed"] == ["actual"] and r["predicted"]["actual"] == "80" for r in reviews)


def test_renditions_of_one_document_keep_one_gold():
    builder = GoldBuilder()
    for source, sha in (("/d/x.xlsx", "11" * 32), ("/d/x.pdf", "22" * 32)):
        result = sample_result(source, "xlsx")
        result["source"]["sha256"] = sha
        for task in T.build_tasks(result, T.NoMedia(), ["record"])["record"][: 2 if "xlsx" in source else 4]:
            builder.add(annotate(task))
    docs = builder.documents()
    assert [d.gold.doc for d in docs] == ["x", "x"]
    assert docs[0].source == "/d/x.pdf" and docs[0].superseded_by is None
    assert docs[1].superseded_by == "/d/x.pdf"


def test_a_correction_changes_the_eval_score():
    from zhibiao.eval.harness import Prediction, evaluate

    prediction = sample_result()
    base = pulled().documents()[0].gold
    corrected = pulled({"projects[0].indicators[0]": {"actual": "85"}}).documents()[0].gold

    def actual_accuracy(gold: GoldDocument) -> float:
        report = evaluate([gold], [Prediction("report", prediction, "pdf", "report")])
        return report["summary"]["fields"]["indicator.actual"]["accuracy"]

    assert actual_accuracy(base) == 1.0
    assert actual_accuracy(corrected) < 1.0


# --- cli, media, server helpers ------------------------------------------------------------------


def test_connection_never_shows_the_token(monkeypatch, tmp_path):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    args = argparse.Namespace(url="http://127.0.0.1:1", config=tmp_path / "none.json", files_root=None)
    with pytest.raises(UsageError, match="no API token") as err:
        resolve_connection(args)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "s3cret-token")
    conn = resolve_connection(args)
    assert conn.api_key == "s3cret-token"
    assert "s3cret" not in repr(conn) and "s3cret" not in str(err.value)
    assert isinstance(conn, Connection)
    with pytest.raises(UsageError, match="too long"):
        project_title("x" * 45, "project")


def test_iter_results_skips_other_json(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(sample_result()), encoding="utf-8")
    (tmp_path / "report.json").write_text("{}", encoding="utf-8")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert [p.name for p, _ in iter_results(tmp_path)] == ["a.json"]


def test_local_media_renders_pdf_pages_and_crops(tmp_path):
    pypdfium2 = pytest.importorskip("pypdfium2")
    pdf_path = tmp_path / "doc.pdf"
    pdf = pypdfium2.PdfDocument.new()
    pdf.new_page(300, 400)
    pdf.save(str(pdf_path))
    pdf.close()
    root = tmp_path / "files"
    media = LocalMedia(root, "zhibiao/p")
    result = {"source": {"path": str(pdf_path), "sha256": SHA, "format": "pdf"}}
    page = media.page_image(result, 1)
    assert page is not None and (page.width, page.height) == (300, 400)
    assert (page.width_px, page.height_px) == (600, 800)
    assert page.url == local_files_url(root, root / "zhibiao/p/pages" / SHA[:16] / "p1.png")
    assert page.url.startswith("/data/local-files/?d=zhibiao/p/pages/")
    assert media.page_image(result, 2) is None
    crop = media.crop(result, 1, (10, 100, 200, 120))
    assert crop and (root / crop.split("d=")[1]).is_file()
    txt = {"source": {"path": str(pdf_path), "sha256": "ef" * 32, "format": "docx"}}
    assert media.page_image(txt, 1) is None and media.source_text(txt) is None


def test_server_credentials_are_private_and_env_is_local_only(tmp_path, monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    creds = load_or_create_credentials(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "zhibiao-credentials.json").st_mode) == 0o600
    assert load_or_create_credentials(tmp_path) == creds
    assert creds.token not in repr(creds) and creds.password not in repr(creds)
    env = make_server_env(tmp_path, tmp_path / "files", Credentials("u@example.com", "pw", "tok"))
    assert env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true" and env["LATEST_VERSION_CHECK"] == "false"
    assert env["LOCAL_FILES_SERVING_ENABLED"] == "true" and env["LABEL_STUDIO_BASE_DATA_DIR"] == str(tmp_path)
    server = LabelStudioServer(tmp_path, tmp_path / "files", port=1, venv=tmp_path / "no-venv")
    assert "--internal-host" in server.command() and "127.0.0.1" in server.command()
    with pytest.raises(ServerError, match="setup_label_studio"):
        server.start()


def test_annotate_help_without_a_server():
    from zhibiao.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["annotate", "pull", "--project", "p", "-o", "x"])
    assert args.action == "pull" and callable(args.func)


def test_helpers_on_paths(tmp_path):
    assert T.doc_name({"source": {"path": "/x/000_abc.docx"}}) == "000_abc"
    assert Path(local_files_url(tmp_path, tmp_path / "a b.png").split("d=")[1]).name == "a%20b.png"


def toy_classifier(text: str) -> list[tuple[int, int, str]]:
    """A stand-in for the token classifier: the first four characters as INDICATOR, plus an unknown label."""
    return [(0, 4, "INDICATOR"), (4, 5, "NOT_A_LABEL")]


toy_classifier.model_version = "toy-1"  # type: ignore[attr-defined]


def test_span_predictor_replaces_rule_spans_under_its_model_version():
    from zhibiao.annotations.cli import load_span_predictor

    predictor = load_span_predictor(f"{__name__}:toy_classifier")
    assert predictor is not None and predictor.model_version == "toy-1"
    spans = T.build_tasks(sample_result(), FakeMedia(), ["span"], predictor)["span"]
    for task in spans:
        prediction = task["predictions"][0]
        assert prediction["model_version"] == "toy-1"
        assert [r["value"]["labels"] for r in prediction["result"]] == [["INDICATOR"]]
    with pytest.raises(UsageError, match="cannot load"):
        load_span_predictor("zhibiao.nowhere:predict")


def test_rule_spans_follow_the_guidelines():
    text = "服务对象满意度：年度指标值≥95%，实际完成值98%"
    assert [(text[s:e], label) for s, e, label in rule_spans(text)] == [
        ("服务对象满意度", "INDICATOR"),
        ("≥", "OP"),
        ("95%", "TARGET"),
        ("98%", "ACTUAL"),
    ]
    text = "培训覆盖率90%以上。"
    assert [(text[s:e], label) for s, e, label in rule_spans(text)] == [
        ("培训覆盖率", "INDICATOR"),
        ("90%以上", "ACTUAL"),
    ]
    assert rule_spans("没有任何指标的句子。") == []


def test_value_spans_keep_the_phrase_offsets():
    from zhibiao.records.narrative import Phrase

    assert value_spans(Phrase("≥ 95%", 10), "TARGET") == [(10, 11, "OP"), (12, 15, "TARGET")]
    assert value_spans(Phrase("不低于50%", 3), "TARGET") == [(3, 6, "OP"), (6, 9, "TARGET")]
    assert value_spans(Phrase("100名以上", 0), "TARGET") == [(0, 6, "TARGET")]


def test_span_source_spans_are_cleaned_before_they_become_predictions():
    def sloppy(text: str) -> list[tuple[int, int, str]]:
        return [(0, 4, "INDICATOR"), (2, 6, "TARGET"), (5, 999, "ACTUAL"), (3, 3, "UNIT")]

    tasks = T.build_tasks(sample_result(), FakeMedia(), ["span"], sloppy)["span"]
    for task in tasks:
        result = task["predictions"][0]["result"]
        assert [(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in result] == [
            (0, 4, "INDICATOR")
        ]
        assert task["predictions"][0]["model_version"].endswith("sloppy")


class FakeTagger:
    """Stands in for ``zhibiao.models.tagger.Tagger``: one good span, one overlapping, one out of range."""

    def predict(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        return [[(0, 4, "INDICATOR"), (2, 6, "ACTUAL"), (0, 999, "TARGET")] for _ in texts]


def test_token_classifier_plugs_in_as_span_source(monkeypatch):
    from zhibiao.annotations import spans as S
    from zhibiao.annotations.cli import load_span_predictor

    monkeypatch.setattr(S, "load_tagger", lambda model_dir=None: (FakeTagger(), "zhibiao-tagger-t1"))
    predictor = load_span_predictor("zhibiao.annotations.spans:tagger_spans")
    assert predictor is not None and predictor.model_version == "zhibiao-tagger-t1"
    assert S.tagger_spans("信访案件办结率") == [(0, 4, "INDICATOR")]
    for task in T.build_tasks(sample_result(), FakeMedia(), ["span"], predictor)["span"]:
        assert task["predictions"][0]["model_version"] == "zhibiao-tagger-t1"
        assert [r["value"]["labels"] for r in task["predictions"][0]["result"]] == [["INDICATOR"]]


def test_missing_token_classifier_is_a_usage_error(monkeypatch, tmp_path):
    from zhibiao.annotations import spans as S
    from zhibiao.annotations.cli import load_span_predictor
    from zhibiao.models.narrative_source import TAGGER_ENV

    monkeypatch.setenv(TAGGER_ENV, str(tmp_path / "no-model"))
    S.load_tagger.cache_clear()
    with pytest.raises(UsageError, match="cannot load the token classifier"):
        load_span_predictor("zhibiao.annotations.spans:tagger_spans")
