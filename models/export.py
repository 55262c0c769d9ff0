"""ONNX export of the fine-tuned tagger with dynamic int8 quantisation, checked against torch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zhibiao.models.examples import Example
from zhibiao.models.labels import BIO_TAGS
from zhibiao.models.tagger import ONNX_FILE, TAGGER_META, OnnxBackend, Tagger

OPSET = 17
MAX_ONNX_BYTES = 30 * 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_fp32(model: Any, path: Path) -> None:
    """The torch model as ONNX: inputs ``input_ids``, ``attention_mask``, output ``logits``; dynamic axes."""
    import torch

    model = model.eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    dims = {0: "batch", 1: "length"}

    class Logits(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

    with torch.inference_mode():
        torch.onnx.export(
            Logits(model),
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": dims, "attention_mask": dims, "logits": dims},
            opset_version=OPSET,
            dynamo=False,
        )


def quantize(src: Path, dst: Path) -> None:
    """Dynamic int8 quantisation of the weights (MatMul, Gather) with onnxruntime."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)


def export_model(
    model: Any, tokenizer: Any, out: Path, max_length: int, stride: int, examples: Sequence[Example] = ()
) -> dict[str, Any]:
    """Write ``model.int8.onnx``, ``tokenizer.json``, ``tagger.json`` into ``out``.

    Returns the file's size and checksum and the ONNX tagger's held-out scores on ``examples``.
    """
    from zhibiao.models.evaluate import evaluate_splits

    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "model.fp32.onnx"
    export_fp32(model, fp32)
    target = out / ONNX_FILE
    quantize(fp32, target)
    fp32.unlink()
    tokenizer.save(str(out / "tokenizer.json"))
    for leftover in out.glob("*.onnx.data"):
        leftover.unlink()
    size = target.stat().st_size
    meta = {
        "onnx": ONNX_FILE,
        "tags": list(BIO_TAGS),
        "max_length": max_length,
        "stride": stride,
        "sha256": sha256_of(target),
    }
    (out / TAGGER_META).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    tagger = Tagger(tokenizer, OnnxBackend(target), BIO_TAGS, max_length, stride)
    return {
        "file": ONNX_FILE,
        "bytes": size,
        "within_limit": size <= MAX_ONNX_BYTES,
        "sha256": meta["sha256"],
        "scores": evaluate_splits(tagger, examples, with_rules=False) if examples else {},
    }
