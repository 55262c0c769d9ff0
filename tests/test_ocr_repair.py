"""Domain-aware repair of OCR-read records: every change confirmed by a check and flagged."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import value
from zhibiao.checks import run_checks
from zhibiao.checks.repair import (
    DIGITS_REPAIRED,
    LOW_CONFIDENCE,
    OPERATOR_RECOVERED,
    digit_variants,
    field_confidences,
    recover_operator,
)
from zhibiao.model import Cell, SourceInfo, Table
from zhibiao.ocr.pages import repair_numeric_confusions
from zhibiao.result import ExtractionResult, Indicator, Project, Provenance


def ocr_indicator(name: str, reader: str = "ocr", printed: str | None = None, **fields: Any) -> Indicator:
    base: dict[str, Any] = {
        "operator": "≥",
        "target": value("20"),
        "actual": value("22"),
        "weight": 10.0,
        "score": 10.0,
    }
    base.update(fields)
    prov = Provenance(reader=reader, table=1, printed={"operator": printed} if printed else {})
    return Indicator(name=name, provenance=prov, **base)


def result_of(*projects: Project, tables: list[Table] | None = None) -> ExtractionResult:
    return ExtractionResult(source=SourceInfo(path="scan.pdf"), projects=list(projects), tables=tables or [])


def codes(record: Any) -> list[str]:
    return [f.code for f in record.flags]


# ------------------------------------------------------------------------------- 指标性质


def test_operator_recovered_from_the_name_with_the_phrase_as_evidence() -> None:
    percent = {"target": value("95", "%"), "actual": value("98", "%")}
    ind = ocr_indicator("学员满意率达95%以上", operator=None, **percent)
    found = recover_operator(ind)
    assert ind.operator == "≥"
    assert found is not None and found.code == OPERATOR_RECOVERED
    assert found.evidence["from"] == "name" and found.evidence["phrase"] == "95%以上"


def test_garbled_operator_mapped_only_when_target_actual_and_score_agree() -> None:
    met = ocr_indicator("亲子阅读", operator=None, printed="N")
    assert recover_operator(met) is not None and met.operator == "≥"
    assert met.provenance is not None and met.provenance.printed["operator"] == "N"
    # actual 22 meets ≥20, yet points were lost: the scores contradict '≥', nothing is changed
    disagree = ocr_indicator("亲子阅读", operator=None, printed="N", score=6.0)
    assert recover_operator(disagree) is None and disagree.operator is None
    equal = ocr_indicator("亲子阅读", operator=None, printed="二", actual=value("20"))
    assert recover_operator(equal) is not None and equal.operator == "="


def test_qualitative_reading_one_character_off_becomes_dingxing() -> None:
    ind = ocr_indicator("群众满意", operator=None, printed="定住", target=value("优良中低差"))
    assert recover_operator(ind) is not None and ind.operator == "定性"
    numeric = ocr_indicator("群众满意", operator=None, printed="定住")
    assert recover_operator(numeric) is None


def test_exact_renditions_are_never_repaired() -> None:
    ind = ocr_indicator("学员满意率达95%以上", reader="docx", operator=None)
    project = Project(name="p", indicators=[ind])
    run_checks(result_of(project))
    assert ind.operator is None and OPERATOR_RECOVERED not in codes(ind)
    assert LOW_CONFIDENCE not in codes(ind) and ind.confidence == 1.0


# ------------------------------------------------------------------------------- digits


def test_digit_variants_swap_one_confusable_digit() -> None:
    assert 18.0 in digit_variants(10.0) and 70.0 in digit_variants(10.0)
    assert 98.0 in digit_variants(96.0) and all(v != 96.0 for v in digit_variants(96.0))
    assert digit_variants(2.0) == []


def test_a_misread_weight_is_repaired_when_exactly_one_swap_makes_the_total_hold() -> None:
    inds = [ocr_indicator(f"指标{k}", weight=w, score=w) for k, w in enumerate([20.0, 20.0, 10.0, 10.0])]
    inds[2].weight = 70.0  # the printed 10 read as 70: Σ = 120, total 60
    project = Project(name="p", indicators=inds, total_weight=60.0, total_score=60.0)
    run_checks(result_of(project))
    assert inds[2].weight == 10.0
    flag = next(f for f in inds[2].flags if f.code == DIGITS_REPAIRED)
    assert flag.evidence["read"] == 70.0 and flag.evidence["repaired"] == 10.0
    assert "weights_total" not in codes(project)


def test_no_repair_when_the_swap_is_ambiguous_or_breaks_score_le_weight() -> None:
    inds = [ocr_indicator(f"指标{k}", weight=10.0, score=10.0) for k in range(3)]
    inds[0].score, inds[1].score = 16.0, 16.0  # Σ 42, total 36: either 16 -> 10 fits, ambiguous
    project = Project(name="p", indicators=inds, total_weight=30.0, total_score=36.0)
    run_checks(result_of(project))
    assert [i.score for i in inds] == [16.0, 16.0, 10.0]
    assert not any(DIGITS_REPAIRED in codes(i) for i in inds)
    assert "scores_total" in codes(project)  # the disagreement stays flagged for review


def test_a_misread_total_is_repaired_from_the_parts() -> None:
    inds = [ocr_indicator(f"指标{k}", weight=w, score=w) for k, w in enumerate([30.0, 30.0, 30.0])]
    project = Project(name="p", indicators=inds, total_weight=90.0, total_score=96.0)
    run_checks(result_of(project))
    assert project.total_score == 90.0 and DIGITS_REPAIRED in codes(project)


# ------------------------------------------------------------------------------- confidence


def form_table(operator_conf: float) -> Table:
    texts = [["亲子阅读", "≥", "20", "22", "10", "10"]]
    confs = [[0.99, operator_conf, 0.97, 0.95, 0.99, 0.99]]
    cells = [
        Cell(row=0, col=c, text=t, confidence=confs[0][c], source=f"ocr:{c}") for c, t in enumerate(texts[0])
    ]
    return Table(index=1, n_rows=1, n_cols=6, cells=cells, reader="ocr")


def with_cells(ind: Indicator) -> Indicator:
    assert ind.provenance is not None
    ind.provenance.cells = [(0, c) for c in range(6)]
    return ind


def test_field_confidences_come_from_the_cells_each_value_was_read_from() -> None:
    ind = with_cells(ocr_indicator("亲子阅读"))
    fields = field_confidences(ind, {1: form_table(0.34)})
    assert fields["operator"] == pytest.approx(0.34) and fields["actual"] == pytest.approx(0.95)
    assert fields["name"] == pytest.approx(0.99)


def test_low_ocr_confidence_is_raised_by_agreeing_checks_and_flagged_when_still_low() -> None:
    sure = with_cells(ocr_indicator("亲子阅读"))
    unsure = with_cells(ocr_indicator("亲子阅读"))
    run_checks(result_of(Project(name="a", indicators=[sure]), tables=[form_table(0.9)]))
    run_checks(result_of(Project(name="b", indicators=[unsure]), tables=[form_table(0.3)]))
    assert sure.confidence == pytest.approx(0.95) and LOW_CONFIDENCE not in codes(sure)
    assert unsure.confidence == pytest.approx(0.65)
    flag = next(f for f in unsure.flags if f.code == LOW_CONFIDENCE)
    assert flag.evidence["fields"]["operator"] == pytest.approx(0.3) and flag.evidence["checks_agree"]


def test_a_failed_check_keeps_the_ocr_confidence_low() -> None:
    ind = with_cells(ocr_indicator("亲子阅读", score=12.0))  # 得分 12 > 权重 10
    table = form_table(0.9)
    table.cells[5].text = "12"
    run_checks(result_of(Project(name="a", indicators=[ind]), tables=[table]))
    assert "score_exceeds_weight" in codes(ind)
    assert ind.confidence == pytest.approx(0.9 * 0.7)  # OCR 0.9, not raised, the error factor once
    run_checks(result_of(Project(name="a", indicators=[ind]), tables=[table]))
    assert ind.confidence == pytest.approx(0.9 * 0.7)  # running the checks again changes nothing


# ------------------------------------------------------------------------------- OCR tables


def test_letters_read_for_digits_are_fixed_only_in_numeric_columns() -> None:
    rows = [["指标", "权重"], ["甲", "20"], ["乙", "l0"], ["丙", "1O"]]
    rows += [["丁", "１５"], ["Lily", "10"], ["戊", "5"]]
    cells = [
        Cell(row=r, col=c, text=t, confidence=0.95, source=f"ocr:{r}{c}")
        for r, row in enumerate(rows)
        for c, t in enumerate(row)
    ]
    table = Table(n_rows=len(rows), n_cols=2, cells=cells, reader="ocr")
    fixed = repair_numeric_confusions(table)
    assert [c.text for c in table.cells if c.col == 1] == ["权重", "20", "10", "10", "15", "10", "5"]
    assert len(fixed) == 3 and all(c.confidence == pytest.approx(0.75) for c in fixed)
    assert "numeric column" in (fixed[0].source or "")
    assert next(c for c in table.cells if c.row == 5 and c.col == 0).text == "Lily"
