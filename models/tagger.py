"""The token classifier at inference: texts -> entity spans, with an ONNX (onnxruntime) or torch backend.

``Tagger.predict(texts)`` tokenizes, windows long texts, runs batches through the backend, merges the
windows and decodes strict IOB2 tags into character spans (``zhibiao.models.align``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from zhibiao.models.align import Span, tags_to_spans
from zhibiao.models.encoding import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_STRIDE,
    encode_texts,
    load_tokenizer,
    merge_window_logits,
    pad_batch,
    pieces,
    special_ids,
)
from zhibiao.models.labels import BIO_TAGS

ONNX_FILE = "model.int8.onnx"
TAGGER_META = "tagger.json"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "indicator-tagger"


class Backend(Protocol):
    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray: ...


class OnnxBackend:
    """An ONNX token-classification model run by onnxruntime (``threads`` intra-op threads)."""

    def __init__(self, path: Path, threads: int = 2) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        return np.asarray(self.session.run(["logits"], feeds)[0])


class TorchBackend:
    """A transformers token-classification model (training, benchmarks)."""

    def __init__(self, model: Any) -> None:
        self.model = model.eval()

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.model(
                input_ids=torch.from_numpy(input_ids), attention_mask=torch.from_numpy(attention_mask)
            )
        return out.logits.float().numpy()


@dataclass
class Tagger:
    """Tokenizer + backend + tag set; ``predict`` returns character spans per text."""

    tokenizer: Any
    backend: Backend
    tags: tuple[str, ...] = BIO_TAGS
    max_length: int = DEFAULT_MAX_LENGTH
    stride: int = DEFAULT_STRIDE
    batch_size: int = 32

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        """Entity spans (start, end, label) of each text, in characters."""
        cls_id, sep_id, pad_id = special_ids(self.tokenizer)
        encoded = encode_texts(self.tokenizer, texts)
        todo = pieces(encoded, self.max_length, self.stride, cls_id, sep_id)
        todo.sort(key=lambda p: len(p.input_ids))
        parts: dict[int, list[tuple[Any, np.ndarray]]] = {}
        for first in range(0, len(todo), self.batch_size):
            batch = todo[first : first + self.batch_size]
            ids, mask = pad_batch(batch, pad_id)
            logits = self.backend.logits(ids, mask)
            for row, piece in enumerate(batch):
                inner = logits[row, 1 : len(piece.input_ids) - 1]
                parts.setdefault(piece.text_index, []).append((piece.window, inner))
        out = []
        for index, enc in enumerate(encoded):
            merged = merge_window_logits(len(enc.ids), parts.get(index, []), len(self.tags))
            tags = [self.tags[i] for i in merged.argmax(axis=1)] if len(enc.ids) else []
            out.append(tags_to_spans(enc.offsets, tags))
        return out


def read_meta(model_dir: Path) -> dict[str, Any]:
    path = model_dir / TAGGER_META
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def load_onnx_tagger(model_dir: Path = DEFAULT_MODEL_DIR, threads: int = 2) -> Tagger:
    """The exported tagger of a model folder (``model.int8.onnx``, ``tokenizer.json``, ``tagger.json``)."""
    model_dir = Path(model_dir)
    meta = read_meta(model_dir)
    return Tagger(
        tokenizer=load_tokenizer(model_dir),
        backend=OnnxBackend(model_dir / meta.get("onnx", ONNX_FILE), threads),
        tags=tuple(meta.get("tags", BIO_TAGS)),
        max_length=int(meta.get("max_length", DEFAULT_MAX_LENGTH)),
        stride=int(meta.get("stride", DEFAULT_STRIDE)),
    )


def tagger_available(model_dir: Path = DEFAULT_MODEL_DIR) -> bool:
    """Whether a model folder holds an exported tagger and onnxruntime and tokenizers are installed."""
    import importlib.util

    model_dir = Path(model_dir)
    onnx = model_dir / read_meta(model_dir).get("onnx", ONNX_FILE)
    return (
        onnx.is_file()
        and (model_dir / "tokenizer.json").is_file()
        and all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "tokenizers"))
    )
