"""OCR engines: registry, batching, offline model loading, one real recognition per engine."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import DEV, require
from zhibiao.ocr import engines
from zhibiao.ocr.engines import (
    REC_MIN_WIDTH,
    OcrLine,
    TwoStageEngine,
    crop_quad,
    get_engine,
    quad_from_box,
    rec_width,
    width_batches,
)

SCAN_PAGE = DEV / "003_4840a7d78a699b0b_scan" / "page20.png"


def header_strip() -> np.ndarray:
    """The first two rows of the table on a real scanned page (项目名称 / 主管部门)."""
    page = np.asarray(Image.open(require(SCAN_PAGE)).convert("L"))
    return np.ascontiguousarray(page[470:570, 180:1500])


def test_width_batches_group_similar_widths_without_much_padding() -> None:
    widths = [40, 900, 60, 880, 50, 70, 2000]
    batches = width_batches(widths, max_batch=8)
    assert sorted(i for b in batches for i in b) == list(range(len(widths)))
    for batch in batches:
        padded = max(REC_MIN_WIDTH, *(widths[i] for i in batch)) * len(batch)
        real = sum(max(REC_MIN_WIDTH, widths[i]) for i in batch)
        assert padded <= 1.3 * real + 1e-9
    assert width_batches(list(range(1, 30)), max_batch=4)[0] == [0, 1, 2, 3]


def test_rec_width_and_crop() -> None:
    image = np.arange(100 * 200, dtype=np.uint32).reshape(100, 200).astype(np.uint8)
    crop = crop_quad(image, quad_from_box(10, 20, 110, 44))
    assert crop.shape == (24, 100)
    assert rec_width(crop) == 200
    slanted = ((10.0, 20.0), (110.0, 25.0), (110.0, 49.0), (10.0, 44.0))
    assert crop_quad(image, slanted).shape[1] >= 100


def test_ocr_line_geometry() -> None:
    line = OcrLine("得分", ((1.0, 2.0), (11.0, 2.0), (11.0, 8.0), (1.0, 8.0)), 0.9)
    assert line.bbox == (1.0, 2.0, 11.0, 8.0)
    assert line.moved(dx=5, scale=2).bbox == (7.0, 4.0, 27.0, 16.0)


def test_unknown_engine_name() -> None:
    with pytest.raises(ValueError, match="unknown OCR engine"):
        get_engine("tesseract")


def test_missing_rapidocr_model_is_a_missing_dependency(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "models").mkdir()
    monkeypatch.setattr(engines, "_package_dir", lambda module, install: tmp_path)
    with pytest.raises(engines.MissingDependencyError, match="never downloaded"):
        engines.RapidOcrEngine()


def test_default_engine_reads_offline_and_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """No socket may be opened: models come from the wheel, nothing is fetched."""
    strip = header_strip()

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the OCR engine tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(engines, "_CACHE", {})
    engine = get_engine("rapidocr")
    assert get_engine("rapidocr") is engine
    assert isinstance(engine, TwoStageEngine)
    lines = engine.recognize(strip)
    texts = "".join(line.text for line in lines)
    assert "项目名称" in texts and "主管部门" in texts
    assert all(0.0 <= line.confidence <= 1.0 for line in lines)
    name_line = next(line for line in lines if "项目名称" in line.text)
    x0, y0, x1, y1 = name_line.bbox
    assert 0 <= x0 < x1 <= strip.shape[1] and 0 <= y0 < y1 <= strip.shape[0]


@pytest.mark.skipif(importlib.util.find_spec("faster_paddle") is None, reason="faster-paddle not installed")
def test_faster_paddle_reads_the_same_strip() -> None:
    engine = get_engine("faster-paddle")
    texts = "".join(line.text for line in engine.recognize(header_strip()))
    assert "项目名称" in texts


def test_faster_paddle_refuses_the_downloading_model() -> None:
    with pytest.raises(ValueError, match="download"):
        engines.FasterPaddleEngine("medium")


@pytest.mark.slow
@pytest.mark.skipif(
    "paddleocr" not in engines.available_engines(),
    reason="runs inside .venv-paddle (PaddleOCR's own pins); the subprocess test covers it from here",
)
def test_paddleocr_backend_reads_a_page_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("PaddleOCR tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    engine = get_engine("paddleocr")
    texts = "".join(line.text for line in engine.recognize(header_strip()))
    assert "项目名称" in texts


PADDLE_VENV_PYTHON = Path(__file__).resolve().parents[1] / ".venv-paddle" / "bin" / "python"
PADDLE_PAGE_SCRIPT = r"""
import json, socket, sys
from pathlib import Path

def no_network(*args, **kwargs):
    raise AssertionError("PaddleOCR tried to open a network connection")

socket.socket.connect = no_network
socket.create_connection = no_network
from zhibiao.ocr.pages import ocr_document
from zhibiao.readers.image import read

path = Path(sys.argv[1])
data = path.read_bytes()
doc = read(data, path)
ocr_document(doc, data, engine="paddleocr")
print(json.dumps({
    "warnings": doc.warnings,
    "readers": sorted({it.reader for p in doc.pages for it in p.items}),
    "tables": [t.text_rows() for t in doc.tables],
    "confidences": [c.confidence for t in doc.tables for c in t.cells if c.text],
}, ensure_ascii=False))
"""


def paddle_venv_python() -> Path:
    """The interpreter of .venv-paddle (scripts/setup_paddleocr.sh); skip without it, fail in CI."""
    if not PADDLE_VENV_PYTHON.exists():
        message = ".venv-paddle missing: run `bash scripts/setup_paddleocr.sh`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return PADDLE_VENV_PYTHON


@pytest.mark.slow
def test_paddleocr_venv_reads_a_scanned_page_offline() -> None:
    """One real scanned page through the whole page pipeline with PaddleOCR 3.x, no network."""
    python = paddle_venv_python()
    page = require(SCAN_PAGE)
    env = {**os.environ, "PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK": "True", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [str(python), "-c", PADDLE_PAGE_SCRIPT, str(page)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["warnings"] == []
    assert result["readers"] == ["ocr-paddleocr"]
    assert len(result["tables"]) == 1
    texts = {t for row in result["tables"][0] for t in row}
    assert {"项目名称", "主管部门", "项目年度目标"} <= texts
    assert result["confidences"] and all(0.0 < c <= 1.0 for c in result["confidences"])


def test_loaded_once_loads_on_first_use_only() -> None:
    loads: list[int] = []

    def load() -> object:
        loads.append(1)
        return lambda x: x * 2

    model = engines.LoadedOnce(load)
    assert loads == []
    assert model(3) == 6 and model(4) == 8 and model.get() is model.get()
    assert loads == [1]
