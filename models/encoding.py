"""Texts -> model inputs: subword ids with character offsets, stride windows, padded batches.

Training and inference share this code and the ``tokenizers`` tokenizer (``tokenizer.json``), so the
ONNX tagger needs neither torch nor transformers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zhibiao.models.align import Offset, Window, windows

DEFAULT_MAX_LENGTH = 128
DEFAULT_STRIDE = 32


@dataclass(frozen=True)
class Encoded:
    """A text's tokens without special tokens: ids and character offsets."""

    ids: tuple[int, ...]
    offsets: tuple[Offset, ...]


@dataclass(frozen=True)
class Piece:
    """One model input: a window of one text's tokens wrapped in [CLS] ... [SEP]."""

    text_index: int
    window: Window
    input_ids: tuple[int, ...]


def load_tokenizer(path: str | Path) -> Any:
    """A ``tokenizers.Tokenizer`` from ``tokenizer.json`` in a model folder (or the file itself)."""
    from tokenizers import Tokenizer

    path = Path(path)
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"no tokenizer.json in {path}")
    return Tokenizer.from_file(str(file))


def special_ids(tokenizer: Any) -> tuple[int, int, int]:
    """[CLS], [SEP], [PAD] ids of a BERT-style tokenizer."""
    ids = [tokenizer.token_to_id(token) for token in ("[CLS]", "[SEP]", "[PAD]")]
    if any(i is None for i in ids):
        raise ValueError("the tokenizer has no [CLS]/[SEP]/[PAD] tokens (a BERT-style vocabulary is needed)")
    return ids[0], ids[1], ids[2]


def encode_texts(tokenizer: Any, texts: Sequence[str]) -> list[Encoded]:
    """Subword ids and character offsets of each text (no special tokens)."""
    batch = tokenizer.encode_batch(list(texts), add_special_tokens=False)
    return [Encoded(tuple(e.ids), tuple(tuple(o) for o in e.offsets)) for e in batch]  # type: ignore[misc]


def pieces(encoded: Sequence[Encoded], max_length: int, stride: int, cls_id: int, sep_id: int) -> list[Piece]:
    """Every text cut into windows of ``max_length - 2`` tokens overlapping by ``stride``."""
    size = max_length - 2
    out = []
    for index, enc in enumerate(encoded):
        for window in windows(len(enc.ids), size, min(stride, size - 1)):
            out.append(Piece(index, window, (cls_id, *enc.ids[window.start : window.end], sep_id)))
    return out


def pad_batch(batch: Sequence[Piece], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask) int64 arrays, right-padded to the longest piece."""
    width = max(len(p.input_ids) for p in batch)
    ids = np.full((len(batch), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, piece in enumerate(batch):
        ids[row, : len(piece.input_ids)] = piece.input_ids
        mask[row, : len(piece.input_ids)] = 1
    return ids, mask


def merge_window_logits(
    n_tokens: int, parts: Sequence[tuple[Window, np.ndarray]], n_labels: int
) -> np.ndarray:
    """Per-token logits of a text from its windows' logits (each window without [CLS]/[SEP])."""
    out = np.zeros((n_tokens, n_labels), dtype=np.float32)
    for window, logits in parts:
        lo, hi = window.keep_from - window.start, window.keep_to - window.start
        out[window.keep_from : window.keep_to] = logits[lo:hi]
    return out
