"""The harness end to end on a small synthetic corpus: naming, kinds, scoring, report files, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zhibiao.annotations.gold import GoldDocument, cells_from_table
from zhibiao.eval.cli import main
from zhibiao.eval.harness import (
    corpus_inputs,
    evaluate_dirs,
    extract_one,
    rendition_kind,
    rendition_name,
    run_corpus,
)
from zhibiao.eval.oracle import oracle_extractor
from zhibiao.eval.report import write_report
from zhibiao.tables.html import table_from_html

TABLE = (
    '<table><tr><td>项目名称</td><td colspan="2">项目甲</td></tr>'
    "<tr><td>三级指标</td><td>指标值</td><td>完成值</td></tr>"
    "<tr><td>培训人次</td><td>100</td><td>120</td></tr><tr><td>满意度</td><td>95%</td><td>98%</td></tr></table>"
)


def make_gold() -> GoldDocument:
    table = table_from_html(TABLE)
    return GoldDocument(
        gold_version="1",
        doc="900_demo",
        department="演示部门",
        projects=[
            {
                "name": "项目甲",
                "budget": {"initial": "10.00", "execution_rate": "100%"},
                "indicators": [
                    {"name": "培训人次", "operator": "≥", "target": "100", "unit": "人次", "actual": "120"},
                    {"name": "满意度", "operator": "≥", "target": "95%", "unit": "%", "actual": "98%"},
                    {"name": "宣传活动", "operator": "=", "target": "3", "unit": "场", "actual": "3"},
                ],
            }
        ],
        tables=[
            {
                "index": 1,
                "pages": [2],
                "parts": [{"page": 2, "bbox_pt": [50, 60, 500, 300]}],
                "n_rows": table.n_rows,
                "n_cols": table.n_cols,
                "cells": cells_from_table(table),
            }
        ],
    )


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "gold").mkdir(parents=True)
    (root / "gold" / "900.json").write_text(make_gold().model_dump_json(exclude_unset=True), encoding="utf-8")
    for name in ("900_demo.docx", "900_demo_ole.docx", "900_demo.pdf", "900_demo_scan.pdf", "other.pdf"):
        (root / name).write_bytes(b"x")
    (root / "900_demo_emf").mkdir()
    (root / "900_demo_emf" / "table1.emf").write_bytes(b"x")
    (root / "900_demo_scan").mkdir()
    (root / "900_demo_scan" / "page2.png").write_bytes(b"x")
    return root


@pytest.mark.parametrize(
    ("name", "source", "kind"),
    [
        ("003_x", "/c/003_x.txt", "txt"),
        ("003_x", "/c/003_x.docx", "docx"),
        ("003_x_ole", "/c/003_x_ole.docx", "ole-docx"),
        ("003_x", "/c/003_x.xlsx", "xlsx"),
        ("003_x", "/c/003_x.pdf", "pdf"),
        ("003_x_scan", "/c/003_x_scan.pdf", "scan-pdf"),
        ("003_x_emf_table2", "/c/003_x_emf/table2.emf", "emf"),
        ("003_x_scan_page21", "/c/003_x_scan/page21.png", "scan-png"),
        ("003_x_scan_page21", None, "scan-png"),
        ("003_x_emf_table1", None, "emf"),
    ],
)
def test_rendition_kind(name, source, kind):
    data = {"source": {"path": source}} if source else {}
    assert rendition_kind(name, data) == kind


def test_inputs_and_names(corpus):
    names = [rendition_name(p, corpus) for p in corpus_inputs(corpus, ["900_demo"])]
    assert names == [
        "900_demo",
        "900_demo",
        "900_demo_emf_table1",
        "900_demo_ole",
        "900_demo_scan_page2",
        "900_demo_scan",
    ]


def test_oracle_scores_one_everywhere(corpus, tmp_path):
    gold = [make_gold()]
    report = run_corpus(corpus, tmp_path / "out", oracle_extractor(gold))
    summary = report["summary"]
    assert set(summary["groups"]) == {"docx", "ole-docx", "pdf", "emf", "scan-pdf", "scan-png"}
    for key in (
        "field_accuracy",
        "indicator_precision",
        "indicator_recall",
        "indicator_f1",
        "teds",
        "teds_s",
    ):
        assert summary[key] == 1.0, key
    assert summary["groups"]["scan-png"]["field_accuracy"] is None
    assert summary["fields"]["indicator.target"]["support"] == 3 * 5
    assert (tmp_path / "out" / "predictions" / "emf" / "900_demo_emf_table1.json").exists()


def test_broken_extractor_scores_lower_by_the_expected_amount(corpus, tmp_path):
    report = run_corpus(corpus, tmp_path / "out", oracle_extractor([make_gold()], damage_every=3))
    summary = report["summary"]
    assert summary["indicator_recall"] == pytest.approx(2 / 3)
    assert summary["indicator_precision"] == 1.0
    assert summary["fields"]["indicator.actual"]["accuracy"] == pytest.approx(2 / 3)


def test_crashing_extractor_becomes_an_error_prediction(tmp_path):
    def boom(_path: Path) -> dict:
        raise RuntimeError("reader exploded")

    data, _wall = extract_one(boom, tmp_path / "x.pdf")
    assert data["errors"][0]["code"] == "RuntimeError"


def test_report_files_and_cli(corpus, tmp_path):
    run_corpus(corpus, tmp_path / "run", oracle_extractor([make_gold()]))
    out = tmp_path / "report"
    status = main(
        [
            "--gold",
            str(corpus / "gold"),
            "--pred",
            str(tmp_path / "run" / "predictions"),
            "--out",
            str(out),
            "--no-peers",
            "-q",
        ]
    )
    assert status == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for key in ("field_accuracy", "indicator_precision", "indicator_recall", "indicator_f1", "fields"):
        assert key in report["summary"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "Per-field accuracy" in html
    assert (out / "report.md").read_text(encoding="utf-8").count("report_files/") >= 2


def test_speed_from_timings(tmp_path):
    gold = make_gold()
    pred_dir = tmp_path / "pred"
    pred_dir.mkdir()
    (tmp_path / "gold").mkdir()
    (tmp_path / "gold" / "g.json").write_text(gold.model_dump_json(exclude_unset=True), encoding="utf-8")
    data = oracle_extractor([gold])(Path("900_demo.pdf"))
    data["source"]["pages"] = 4
    data["timings"] = {"read": 2.0, "records": 0.4}
    (pred_dir / "900_demo.json").write_text(json.dumps(data), encoding="utf-8")
    report = evaluate_dirs(tmp_path / "gold", pred_dir)
    speed = report["summary"]["groups"]["pdf"]["speed"]
    assert speed["stages"]["read"]["per_page"] == pytest.approx(0.5)
    assert speed["stages"]["records"]["per_table"] == pytest.approx(0.4)
    write_report(report, tmp_path / "r")
    assert (tmp_path / "r" / "report_files" / "speed.png").exists()


def test_cli_refuses_bad_arguments(tmp_path, capsys):
    assert main(["--pred", str(tmp_path)]) == 2
    assert main(["--run", str(tmp_path / "nope")]) == 2


def test_malformed_prediction_scores_as_empty_instead_of_crashing(tmp_path):
    (tmp_path / "gold").mkdir()
    gold = make_gold().model_dump_json(exclude_unset=True)
    (tmp_path / "gold" / "g.json").write_text(gold, encoding="utf-8")
    (tmp_path / "pred").mkdir()
    bad = {"source": "x", "projects": ["nope", {"name": "项目甲", "indicators": "broken"}], "tables": [7]}
    (tmp_path / "pred" / "900_demo.json").write_text(json.dumps(bad), encoding="utf-8")
    (tmp_path / "pred" / "900_demo_ole.json").write_text("{not json", encoding="utf-8")
    report = evaluate_dirs(tmp_path / "gold", tmp_path / "pred")
    (doc,) = report["documents"]
    assert doc["indicator_recall"] == 0.0 and doc["project_recall"] == 1.0


def test_invalid_gold_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "gold").mkdir()
    invalid = '{"doc": "x", "projects": [{"indicators": [{}]}]}'  # an indicator without a name
    (tmp_path / "gold" / "g.json").write_text(invalid, encoding="utf-8")
    (tmp_path / "pred").mkdir()
    assert main(["--gold", str(tmp_path / "gold"), "--pred", str(tmp_path / "pred"), "--no-peers"]) == 2
    assert "name" in capsys.readouterr().err
