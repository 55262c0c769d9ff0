"""Acceptance: the gold HTML tables of seeds 003 and 000 -> exactly the gold projects and indicators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from records_gold import compare_projects, document, gold_table

from conftest import GOLD, require
from zhibiao.model import Cell, Table
from zhibiao.records.forms import records_from_tables
from zhibiao.result import Project

T003 = GOLD / "tables" / "003_4840a7d78a699b0b"
T000 = GOLD / "tables" / "000_c9021f7b19f56ffc"


def gold_json(name: str) -> dict:
    return json.loads(require(GOLD / name).read_text(encoding="utf-8"))


def tables_003() -> list[Table]:
    return [gold_table(require(T003 / f"table{k}.html"), k) for k in range(1, 9)]


def without_provenance(projects: list[Project]) -> list[dict]:
    return [
        p.model_dump(exclude={"provenance": True, "indicators": {"__all__": {"provenance"}}})
        for p in projects
    ]


def test_003_gold_tables_give_exactly_the_gold_projects() -> None:
    gold = gold_json("003.json")
    records = records_from_tables(document(tables_003()))
    assert compare_projects(gold["projects"], records.projects) == []
    assert len(records.projects) == 7
    assert sum(len(p.indicators) for p in records.projects) == 55
    assert {p.family for p in records.projects} == {"self_eval"}
    assert records.warnings == []


def test_003_provenance_points_at_the_cells_used() -> None:
    records = records_from_tables(document(tables_003()))
    first = records.projects[0].indicators[0]
    assert first.provenance is not None
    assert first.provenance.reader == "html" and first.provenance.table == 1
    assert (12, 3) in first.provenance.cells  # 三级指标 cell of the first indicator row
    assert first.provenance.printed == {"operator": "＝"}
    assert first.operator == "="
    assert first.confidence == 1.0


def test_003_project_list_enriches_and_never_adds() -> None:
    tables = tables_003()
    stripped = [_drop_rows(t, {"主管部门"}) for t in tables[:7]]
    records = records_from_tables(document([*stripped, tables[7]]))
    assert len(records.projects) == 7
    assert all(p.department == "自贡市妇女联合会部门" for p in records.projects)
    assert all(p.implementing_unit == "自贡市妇女联合会" for p in records.projects)
    list_only = records_from_tables(document([tables[7]]))
    assert list_only.projects == []
    assert list_only.warnings and "7 listed" in list_only.warnings[0]


def test_000_gold_table_gives_the_gold_project_department_and_year() -> None:
    gold = gold_json("000.json")
    table = gold_table(require(T000 / "table1.html"), 1)
    texts = ["附件4", "项目支出绩效自评表", "（2021年度）", "单位：万元"]
    records = records_from_tables(document([table], texts))
    assert compare_projects(gold["projects"], records.projects) == []
    project = records.projects[0]
    assert (project.budget.initial, project.budget.executed) == (130.76, 130.44)
    assert (project.budget.weight, project.budget.execution_rate, project.budget.score) == (10, 99.96, 9.98)
    assert project.budget.unit == "万元"
    assert records.department == gold["department"]
    assert records.year == gold["year"]


def test_000_year_from_the_table_title() -> None:
    table = gold_table(require(T000 / "table1.html"), 1)
    titled = table.model_copy(update={"title": "项目支出绩效自评表（2021年度）"})
    records = records_from_tables(document([titled]))
    assert records.year == 2021
    assert records_from_tables(document([table])).year is None


@pytest.mark.parametrize(
    ("folder", "pages", "gold_name", "position"),
    [
        (T003, ["table2_page21", "table2_page22", "table2_page23"], "003.json", 1),
        (T000, ["table1_page1", "table1_page2", "table1_page3"], "000.json", 0),
    ],
)
def test_a_form_split_across_pages_is_one_project(
    folder: Path, pages: list[str], gold_name: str, position: int
) -> None:
    tables = [gold_table(require(folder / f"{name}.html"), i + 1) for i, name in enumerate(pages)]
    records = records_from_tables(document(tables))
    gold = gold_json(gold_name)["projects"][position]
    assert compare_projects([gold], records.projects) == []


def test_a_repeated_table_yields_its_project_once() -> None:
    tables = tables_003()
    repeat = tables[0].model_copy(update={"index": 9, "source": "word/embeddings/sheet9.xlsx"})
    records = records_from_tables(document([*tables, repeat]))
    assert len(records.projects) == 7
    assert len(records.projects[0].indicators) == 7
    assert records.projects[0].provenance is not None
    assert "word/embeddings/sheet9.xlsx" in records.projects[0].provenance.repeats


def _renamed_and_swapped(table: Table) -> Table:
    """003 table1 with other provinces' header phrasings and the indicator columns reordered."""
    renames = {
        "三级指标": "三级 指标",
        "指标性质": "指标\n性质",
        "指标值": "年度指标值",
        "度量单位": "计量单位",
        "完成值": "实际完成值",
        "权重": "分值（权重）",
        "得分": "自评得分",
        "未完成原因分析": "偏差原因分析及改进措施",
    }
    header = next(c.row for c in table.cells if c.text == "三级指标")
    total = next(c.row for c in table.cells if c.text == "合计")
    swap = {4: 6, 6: 4, 5: 7, 7: 5, 8: 9, 9: 8}
    cells = []
    for cell in table.cells:
        update: dict[str, object] = {}
        if header <= cell.row < total and cell.col_span == 1 and cell.col in swap:
            update["col"] = swap[cell.col]
        if cell.row == header and cell.text in renames:
            update["text"] = renames[cell.text]
        cells.append(cell.model_copy(update=update))
    return table.model_copy(update={"cells": cells})


def test_renamed_headers_and_swapped_columns_give_the_same_records() -> None:
    table = gold_table(require(T003 / "table1.html"), 1)
    varied = _renamed_and_swapped(table)
    assert varied.text_rows() != table.text_rows()
    original = records_from_tables(document([table])).projects
    records = records_from_tables(document([varied])).projects
    assert without_provenance(records) == without_provenance(original)
    assert compare_projects(gold_json("003.json")["projects"][:1], records) == []


def _xlsx_like(table: Table) -> Table:
    """The table as a workbook reader gives it: typed numbers, percent cells stored as fractions."""
    cells = []
    for cell in table.cells:
        text = cell.text.strip()
        update: dict[str, object] = {}
        if text.endswith("%") and text[:-1].replace(".", "", 1).isdigit():
            update = {"number": float(text[:-1]), "text": f"{float(text[:-1]) / 100:g}"}
        elif text.replace(".", "", 1).isdigit():
            update = {"number": float(text), "text": f"{float(text):g}"}
        cells.append(cell.model_copy(update=update))
    return table.model_copy(update={"cells": cells, "reader": "xlsx"})


def test_workbook_numbers_are_used_where_the_text_is_raw() -> None:
    tables = [_xlsx_like(t) for t in tables_003()]
    records = records_from_tables(document(tables))
    first = records.projects[0]
    assert first.budget.execution_rate == 100.0
    assert first.budget.initial == 16.0
    assert first.indicators[0].target is not None and first.indicators[0].target.value == 5.0
    assert first.indicators[0].provenance is not None and first.indicators[0].provenance.reader == "xlsx"
    assert len(records.projects) == 7


def _drop_rows(table: Table, labels: set[str]) -> Table:
    """Blank the value cells of the rows whose first cell is one of ``labels``."""
    rows = {c.row for c in table.cells if c.col == 0 and c.text in labels}
    cells = [c if c.row not in rows or c.col == 0 else c.model_copy(update={"text": ""}) for c in table.cells]
    return table.model_copy(update={"cells": [*cells]})


def test_cells_from_readers_without_merges_carry_levels_down() -> None:
    table = gold_table(require(T003 / "table1.html"), 1)
    unmerged: list[Cell] = []
    for cell in table.cells:
        unmerged.append(cell.model_copy(update={"row_span": 1}))
        unmerged += [
            Cell(row=cell.row + k, col=cell.col, col_span=cell.col_span, text="")
            for k in range(1, cell.row_span)
        ]
    flat = table.model_copy(update={"cells": unmerged})
    original = records_from_tables(document([table])).projects
    records = records_from_tables(document([flat])).projects
    assert [(i.level1, i.level2, i.name) for i in records[0].indicators] == [
        (i.level1, i.level2, i.name) for i in original[0].indicators
    ]


def test_indicator_box_covers_its_own_row_only() -> None:
    table = gold_table(require(T003 / "table1.html"), 1)

    def box(cell: Cell) -> tuple[float, float, float, float]:
        return (
            cell.col * 10.0,
            cell.row * 10.0,
            (cell.col + cell.col_span) * 10.0,
            (cell.row + cell.row_span) * 10.0,
        )

    boxed = table.model_copy(update={"cells": [c.model_copy(update={"bbox": box(c)}) for c in table.cells]})
    second = records_from_tables(document([boxed])).projects[0].indicators[1]
    assert second.provenance is not None
    assert second.provenance.bbox == (30.0, 130.0, 110.0, 140.0)  # row 13, 三级指标 .. 未完成原因分析
    assert (12, 1) in second.provenance.cells  # the merged 一级指标 cell is still a cell it used


RENDITIONS = [
    pytest.param("000_c9021f7b19f56ffc", ".xlsx", "000.json", id="000-xlsx"),
    pytest.param("000_c9021f7b19f56ffc", ".docx", "000.json", id="000-docx"),
    pytest.param("000_c9021f7b19f56ffc", "_ole.docx", "000.json", id="000-ole"),
    pytest.param("003_4840a7d78a699b0b", ".xlsx", "003.json", id="003-xlsx"),
    pytest.param("003_4840a7d78a699b0b", ".docx", "003.json", id="003-docx"),
    pytest.param("003_4840a7d78a699b0b", "_ole.docx", "003.json", id="003-ole"),
    pytest.param("000_c9021f7b19f56ffc", ".pdf", "000.json", id="000-pdf", marks=pytest.mark.slow),
    pytest.param("003_4840a7d78a699b0b", ".pdf", "003.json", id="003-pdf", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("stem", "suffix", "gold_name"), RENDITIONS)
def test_real_readers_give_the_gold_projects(stem: str, suffix: str, gold_name: str) -> None:
    from zhibiao.detect import detect_format
    from zhibiao.readers import get_reader
    from zhibiao.tables.dedupe import drop_repeats

    path = require(GOLD.parent / f"{stem}{suffix}")
    data = path.read_bytes()
    doc = get_reader(detect_format(data))(data, path)
    doc.tables = drop_repeats(doc.tables)
    records = records_from_tables(doc)
    gold = gold_json(gold_name)
    assert compare_projects(gold["projects"], records.projects) == []
    if "department" in gold:
        assert (records.department, records.year) == (gold["department"], gold["year"])
