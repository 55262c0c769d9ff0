"""The published JSON Schema of the document JSON, and validation of every file written."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from zhibiao.result import SCHEMA_VERSION, ExtractionResult

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema" / "document.schema.json"


def build_schema() -> dict[str, Any]:
    """JSON Schema generated from the typed records (serialisation mode)."""
    schema = ExtractionResult.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://zhibiao.invalid/schema/document-v{SCHEMA_VERSION}.json"
    schema["title"] = "zhibiao document JSON"
    return schema


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build_schema(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) if SCHEMA_PATH.exists() else build_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def validate_document(payload: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if a document JSON breaks the published schema."""
    _validator().validate(payload)
