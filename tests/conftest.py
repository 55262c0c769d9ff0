"""Shared fixtures: where the read-only shared corpus lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zhibiao.records.values import parse_value
from zhibiao.result import Value

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ZHIBIAO_SHARED", REPO.parent / "shared")).resolve()
DEV = SHARED / "corpus" / "dev"
GOLD = DEV / "gold"
FIXTURES = Path(__file__).parent / "fixtures"


def require(path: Path) -> Path:
    """Skip the test when a shared corpus file is not present on this machine."""
    if not path.exists():
        pytest.skip(f"shared corpus file missing: {path}")
    return path


def value(text: str, unit: str | None = None) -> Value:
    """The parsed ``Value`` of a printed value (test data for records and checks)."""
    parsed, _ = parse_value(text, unit)
    assert parsed is not None
    return parsed


class FakeTagger:
    """Stands in for the ONNX token classifier: fixed spans per text."""

    def __init__(self, spans: dict[str, list[tuple[int, int, str]]]) -> None:
        self.spans = spans

    def predict(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        return [self.spans.get(text, []) for text in texts]


@pytest.fixture(scope="session")
def dev_dir() -> Path:
    return require(DEV)
