"""Gold format: converters from the dev corpus gold, JSON Schemas, token spans from narrative facts."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conftest import GOLD, require
from zhibiao.annotations.gold import (
    SCHEMA_DIR,
    SCHEMAS,
    GoldDocument,
    from_shared_gold,
    load_gold_file,
    schema,
    spans_from_facts,
)
from zhibiao.eval.gold import gold_for, gold_records


def test_checked_in_schemas_match_the_models():
    for name in SCHEMAS:
        path = SCHEMA_DIR / f"{name}.schema.json"
        assert json.loads(path.read_text(encoding="utf-8")) == schema(name), f"regenerate {path.name}"


def test_shared_keys_map_to_contract_keys():
    doc = from_shared_gold(
        {
            "doc": "000_x.txt",
            "projects": [
                {
                    "project_name": "甲",
                    "project_code": "51",
                    "budget": {"annual": "1.00", "actual_spend": "2"},
                }
            ],
        }
    )
    assert doc.doc == "000_x"
    record = gold_records(doc)
    assert record["projects"][0] == {
        "name": "甲",
        "code": "51",
        "budget": {"initial": "1.00", "executed": "2"},
        "indicators": [],
    }
    assert "department" not in record  # absent in gold -> not scored


def test_gold_for_prefix_rules():
    stems = ["003_4840a7d78a699b0b", "003"]
    assert gold_for("003_4840a7d78a699b0b_ole", stems) == "003_4840a7d78a699b0b"
    assert gold_for("003_4840a7d78a699b0b_emf_table1", stems) == "003_4840a7d78a699b0b"
    assert gold_for("003_4840a7d78a699b0b.pdf", stems) == "003_4840a7d78a699b0b"
    assert gold_for("0031", stems) is None
    assert gold_for("003_other", stems) == "003"


def test_spans_from_facts_only_where_found():
    facts = [{"name": "面积", "actual": "2,340平方米"}, {"name": "不存在", "actual": "1"}]
    doc = GoldDocument(doc="d", projects=[{"name": "p", "indicators": facts}])
    text = "区级活动场所建筑面积2,340平方米，完成。"
    spans = spans_from_facts(doc, text)
    assert [(text[s.start : s.end], s.label) for s in spans] == [("面积", "NAME"), ("2,340平方米", "ACTUAL")]


@pytest.mark.parametrize("number", ["000", "001", "003"])
def test_dev_gold_converts_and_validates(number):
    doc = load_gold_file(require(GOLD / f"{number}.json"))
    data = json.loads(doc.model_dump_json(exclude_unset=True))
    jsonschema.validate(data, schema("gold-document"))
    assert GoldDocument.model_validate(data) == GoldDocument.model_validate(json.loads(doc.model_dump_json()))


def test_dev_gold_003_tables_and_projects():
    doc = load_gold_file(require(GOLD / "003.json"))
    assert len(doc.projects) == 7 and doc.projects[1].code == "51030022Y000000325523"
    assert [t.index for t in doc.tables] == list(range(1, 9))
    table2 = doc.tables[1]
    assert table2.pages == [21, 22, 23] and (table2.n_rows, table2.n_cols) == (23, 11)
    part = table2.part_table(22)
    assert part is not None and 0 < part.n_rows < table2.n_rows
    assert table2.part_table(99) is None


def test_dev_gold_001_spans_point_at_the_text():
    require(GOLD / "001.json")
    doc = load_gold_file(GOLD / "001.json")
    text = (GOLD.parent / "001_def97523c2bc9572.txt").read_text(encoding="utf-8")
    spans = doc.spans[0].spans
    assert len(spans) == 10
    assert all(text[s.start : s.end] == s.text for s in spans)
