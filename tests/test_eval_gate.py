"""The regression gate is real: a deliberately broken extractor fails it, a correct one passes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from test_eval_harness import corpus, make_gold  # noqa: F401  (fixture)

from conftest import DEV, REPO, require
from zhibiao.eval.gate import EXACT_TOLERANCE, baseline_from_report, check, gate, write_baseline
from zhibiao.eval.gold import load_gold_dir
from zhibiao.eval.harness import run_corpus
from zhibiao.eval.oracle import oracle_extractor


def _script():
    spec = importlib.util.spec_from_file_location("eval_gate", REPO / "scripts" / "eval_gate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gate_fails_for_broken_extractor_and_passes_for_correct(corpus, tmp_path):  # noqa: F811
    gold = [make_gold()]
    good = run_corpus(corpus, tmp_path / "good", oracle_extractor(gold))
    baseline = write_baseline(good, tmp_path / "baseline.json")

    assert gate(good, baseline)[0]
    broken = run_corpus(corpus, tmp_path / "broken", oracle_extractor(gold, damage_every=3))
    passed, lines = gate(broken, baseline)
    assert not passed
    assert any("indicator_f1" in line for line in lines) and any("field_accuracy" in line for line in lines)

    report_path = tmp_path / "broken.json"
    report_path.write_text(json.dumps(broken), encoding="utf-8")
    assert _script().main([str(report_path), "--baseline", str(baseline)]) == 1
    report_path.write_text(json.dumps(good), encoding="utf-8")
    assert _script().main([str(report_path), "--baseline", str(baseline)]) == 0


def test_drop_within_tolerance_passes_and_just_beyond_fails():
    report = {"summary": {"groups": {"pdf": {"field_accuracy": 0.9, "indicator_f1": 0.8, "teds": 0.7}}}}
    baseline = baseline_from_report(report)
    report["summary"]["groups"]["pdf"]["teds"] = 0.7 - EXACT_TOLERANCE / 2
    assert check(report, baseline)[0] == []
    report["summary"]["groups"]["pdf"]["teds"] = 0.7 - 2 * EXACT_TOLERANCE
    assert [r.metric for r in check(report, baseline)[0]] == ["teds"]


def test_missing_group_or_metric_is_a_regression():
    baseline = {"metrics": ["teds"], "groups": {"pdf": {"tolerance": 0.001, "teds": 0.5}}}
    assert check({"summary": {"groups": {}}}, baseline)[0][0].current is None
    assert check({"summary": {"groups": {"pdf": {"teds": None}}}}, baseline)[0]


def empty_extractor(path: Path) -> dict:
    """An extractor that finds nothing (resolved by name from the CLI)."""
    return {"source": {"path": str(path)}, "projects": [], "tables": []}


def test_cli_gate_exit_status(corpus, tmp_path):  # noqa: F811
    from zhibiao.eval.cli import main

    args = ["--run", str(corpus), "--no-peers", "--no-html", "-q"]
    assert main([*args, "--out", str(tmp_path / "x"), "--extractor", "zhibiao.eval.oracle:nope"]) == 2
    empty = [*args, "--extractor", "test_eval_gate:empty_extractor"]
    assert main([*empty, "--out", str(tmp_path / "a")]) == 0
    assert json.loads((tmp_path / "a" / "report.json").read_text())["summary"]["field_accuracy"] == 0.0
    baseline = tmp_path / "baseline.json"
    expected = {"metrics": ["field_accuracy"], "groups": {"pdf": {"field_accuracy": 0.5}}}
    baseline.write_text(json.dumps(expected))
    assert main([*empty, "--out", str(tmp_path / "b"), "--gate", str(baseline)]) == 1


def test_gate_on_the_dev_corpus_with_a_broken_extractor(tmp_path):
    gold = load_gold_dir(require(DEV / "gold"))
    kinds = ["docx", "pdf", "emf"]
    good = run_corpus(DEV, tmp_path / "good", oracle_extractor(gold), kinds=kinds)
    baseline = write_baseline(good, tmp_path / "dev.json")
    assert gate(good, baseline)[0]
    broken = run_corpus(DEV, tmp_path / "broken", oracle_extractor(gold, damage_every=3), kinds=kinds)
    assert not gate(broken, baseline)[0]


def test_checked_in_baseline_is_well_formed():
    path = REPO / "eval" / "baselines" / "dev.json"
    if not path.exists():
        pytest.skip("no baseline checked in yet")
    baseline = json.loads(path.read_text(encoding="utf-8"))
    assert baseline["groups"] and set(baseline["metrics"]) <= {"field_accuracy", "indicator_f1", "teds"}
    for group in baseline["groups"].values():
        assert 0 <= group["tolerance"] < 0.05
        assert all(0.0 <= group[m] <= 1.0 for m in baseline["metrics"] if m in group)
    assert Path(path).read_text(encoding="utf-8").endswith("\n")
