"""``zhibiao train``: fine-tune a Chinese encoder as the span tagger, evaluate it, export it to ONNX.

Reproducible: the config file is copied next to the model together with the resolved settings, the
seed, the data version (a hash of the examples) and ``metrics.json``. torch / transformers / spacy
are imported inside the functions, so importing this module is cheap.

Output folder: ``model.int8.onnx`` + ``tagger.json`` + ``tokenizer.json`` (what inference needs),
``train-config.json`` (the config as given), ``run.json`` (resolved settings, data version, counts),
``metrics.json``, ``MODEL_CARD.md``, and ``data/`` (the examples as JSONL and DocBin; not shipped).
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zhibiao.models.align import IGNORE, token_tags
from zhibiao.models.base import DEFAULT_BASE_MODEL, base_licence, resolve_base_model
from zhibiao.models.encoding import Piece, encode_texts, load_tokenizer, pad_batch, pieces, special_ids
from zhibiao.models.examples import Example, read_jsonl, write_docbin, write_jsonl
from zhibiao.models.labels import BIO_TAGS, TAG_IDS
from zhibiao.models.weak import BuildConfig, DataSet, build_examples

Log = Callable[[str], None]


@dataclass
class TrainConfig:
    """Hyper-parameters and data settings of one run (a JSON file; ``data`` is a ``BuildConfig``)."""

    data: BuildConfig
    base_model: str = DEFAULT_BASE_MODEL
    seed: int = 13
    max_length: int = 96
    stride: int = 32
    batch_size: int = 16
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    epochs: float = 3.0
    max_steps: int | None = None
    threads: int = 2
    freeze_embeddings: bool = False
    """Keep the word embeddings (half the parameters) fixed: half the optimiser work, same accuracy here."""
    notes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path) -> TrainConfig:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        data = BuildConfig.from_dict(raw.pop("data"))
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"{path}: unknown settings {sorted(unknown)}")
        return cls(data=data, **raw)


@dataclass(frozen=True)
class Feature:
    """One training window: ids with [CLS]/[SEP] and a label id per position (``IGNORE`` on specials)."""

    piece: Piece
    labels: tuple[int, ...]


def features(examples: Sequence[Example], tokenizer: Any, max_length: int, stride: int) -> list[Feature]:
    """Windows of every example with token labels (a token takes its first character's tag)."""
    cls_id, sep_id, _ = special_ids(tokenizer)
    encoded = encode_texts(tokenizer, [e.text for e in examples])
    out = []
    for piece in pieces(encoded, max_length, stride, cls_id, sep_id):
        example, enc = examples[piece.text_index], encoded[piece.text_index]
        window = piece.window
        tags = token_tags(enc.offsets[window.start : window.end], example.spans, len(example.text))
        out.append(Feature(piece, (IGNORE, *(TAG_IDS[t] for t in tags), IGNORE)))
    return out


def collate(batch: Sequence[Feature], pad_id: int) -> dict[str, Any]:
    """Padded torch tensors of a batch (labels padded with ``IGNORE``)."""
    import torch

    ids, mask = pad_batch([f.piece for f in batch], pad_id)
    width = ids.shape[1]
    labels = [list(f.labels) + [IGNORE] * (width - len(f.labels)) for f in batch]
    return {
        "input_ids": torch.from_numpy(ids),
        "attention_mask": torch.from_numpy(mask),
        "labels": torch.tensor(labels, dtype=torch.long),
    }


def set_seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_model(base: str) -> Any:
    """A token-classification head over the base encoder, eager attention (exports cleanly to ONNX)."""
    from transformers import AutoModelForTokenClassification

    return AutoModelForTokenClassification.from_pretrained(
        base,
        num_labels=len(BIO_TAGS),
        id2label=dict(enumerate(BIO_TAGS)),
        label2id=dict(TAG_IDS),
        attn_implementation="eager",
    )


def total_steps(n_features: int, config: TrainConfig) -> int:
    per_epoch = max(1, math.ceil(n_features / config.batch_size))
    steps = max(1, int(per_epoch * config.epochs))
    return min(steps, config.max_steps) if config.max_steps is not None else steps


def fit(
    model: Any, train: Sequence[Feature], config: TrainConfig, pad_id: int, log: Log = print
) -> dict[str, Any]:
    """AdamW with linear warm-up and decay; returns steps, final loss and seconds."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    if not train:
        raise ValueError("no training examples")
    rng = random.Random(config.seed)
    total = total_steps(len(train), config)
    if config.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = get_linear_schedule_with_warmup(optimizer, int(total * config.warmup_ratio), total)
    model.train()
    step, started, losses = 0, time.monotonic(), []
    while step < total:
        order = list(range(len(train)))
        rng.shuffle(order)
        for first in range(0, len(order), config.batch_size):
            if step >= total:
                break
            loss = model(**collate([train[i] for i in order[first : first + config.batch_size]], pad_id)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(float(loss.detach()))
            step += 1
            if step % 50 == 0 or step == total:
                recent = losses[-50:]
                log(f"step {step}/{total} loss {sum(recent) / len(recent):.4f}")
    model.eval()
    recent = losses[-20:]
    return {
        "steps": step,
        "final_loss": round(sum(recent) / len(recent), 5),
        "seconds": round(time.monotonic() - started, 1),
    }


def build_data(config: TrainConfig, extra_data: Sequence[Path], out_dir: Path) -> DataSet:
    """The examples (with annotator JSONL files first) written as ``data/examples.jsonl`` and DocBins."""
    extra = [e for path in extra_data for e in read_jsonl(Path(path))]
    data = build_examples(config.data, extra)
    folder = out_dir / "data"
    write_jsonl(data.examples, folder / "examples.jsonl")
    for name in ("train", "dev", "test"):
        write_docbin([e for e in data.examples if e.split == name], folder / f"{name}.spacy")
    return data


def run_training(
    config: TrainConfig,
    out_dir: Path,
    config_path: Path | None = None,
    extra_data: Sequence[Path] = (),
    log: Log = print,
) -> dict[str, Any]:
    """Data -> fine-tuning -> int8 ONNX export -> held-out scores (model, rules) -> files in ``out_dir``."""
    import torch
    from transformers import AutoTokenizer

    from zhibiao.models.evaluate import evaluate_splits
    from zhibiao.models.export import export_model
    from zhibiao.models.tagger import Tagger, TorchBackend

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(config.threads)
    set_seed(config.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    if config_path is not None:
        shutil.copyfile(config_path, out_dir / "train-config.json")
    data = build_data(config, extra_data, out_dir)
    log(f"data version {data.version}: {data.counts}")

    base = resolve_base_model(config.base_model)
    AutoTokenizer.from_pretrained(base).backend_tokenizer.save(str(out_dir / "tokenizer.json"))
    tokenizer = load_tokenizer(out_dir)
    model = load_model(base)
    train = features(
        [e for e in data.examples if e.split == "train"], tokenizer, config.max_length, config.stride
    )
    log(f"fine-tuning {base} on {len(train)} windows")
    fitted = fit(model, train, config, special_ids(tokenizer)[2], log)

    torch_tagger = Tagger(tokenizer, TorchBackend(model), BIO_TAGS, config.max_length, config.stride)
    exported = export_model(model, tokenizer, out_dir, config.max_length, config.stride)
    from zhibiao.models.tagger import load_onnx_tagger

    metrics = {
        "data_version": data.version,
        "data_counts": data.counts,
        "training": fitted,
        "model_file": {k: v for k, v in exported.items() if k != "scores"},
        "onnx_int8": evaluate_splits(load_onnx_tagger(out_dir, config.threads), data.examples),
        "torch_fp32": evaluate_splits(torch_tagger, data.examples, with_rules=False),
    }
    run = {
        **asdict(config),
        "base_model_path": base,
        "base_model_licence": base_licence(config.base_model),
        "data_version": data.version,
        "data_counts": data.counts,
        "tags": list(BIO_TAGS),
    }
    (out_dir / "run.json").write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    from zhibiao.models.card import write_model_card

    write_model_card(out_dir, run, metrics)
    return metrics
