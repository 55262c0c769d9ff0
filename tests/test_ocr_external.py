"""Real table pictures (RapidAI test files in corpus/external/table_images): all go through, and what
was checked by eye against the picture stays true (cell texts, grid shapes, merged cells)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHARED, require
from zhibiao.model import Document
from zhibiao.ocr.pages import ocr_document
from zhibiao.readers.image import read as read_image

TABLE_IMAGES = SHARED / "corpus" / "external" / "table_images"
LINELESS = {"lineless_table_recognition.jpg", "table_cls__lineless_table.png"}
"""Borderless tables: no ruling grid; their structure comes from SLANet-plus (``zhibiao.ocr.borderless``)."""


def read_and_ocr(name: str) -> Document:
    path = require(TABLE_IMAGES / name)
    data = path.read_bytes()
    doc = read_image(data, Path(name))
    ocr_document(doc, data)
    return doc


def table_rows(name: str) -> list[list[str]]:
    doc = read_and_ocr(name)
    assert len(doc.tables) == 1
    return doc.tables[0].text_rows()


def row_starting(rows: list[list[str]], first: str) -> list[str]:
    """The row whose first cell is ``first``, with the slots repeated by merged cells collapsed."""
    row = next(r for r in rows if r[0] == first)
    return [t for i, t in enumerate(row) if i == 0 or t != row[i - 1]]


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", sorted(p.name for p in TABLE_IMAGES.glob("*")) if TABLE_IMAGES.exists() else []
)
def test_real_table_images_go_through(name: str) -> None:
    doc = read_and_ocr(name)
    assert doc.warnings == [] and len(doc.pages) == 1
    assert len(doc.tables) == 1
    for table in doc.tables:
        assert table.n_rows >= 2 and table.n_cols >= 2
        assert all(c.bbox is not None for c in table.cells)
        assert all(c.source and c.source.startswith("ocr:") for c in table.cells if c.text)
        assert (table.source == "slanet-plus") == (name in LINELESS)


@pytest.mark.slow
def test_borderless_people_table_from_slanet() -> None:
    rows = table_rows("lineless_table_recognition.jpg")
    assert (len(rows), len(rows[0])) == (9, 6)
    assert rows[0] == ["姓名", "年龄", "性别", "身高/m", "体重/kg", "BMI/(kg/m²)"]
    assert rows[1] == ["Duke", "34", "男", "1.74", "70", "23"]


@pytest.mark.slow
def test_borderless_membrane_table_from_slanet() -> None:
    rows = table_rows("table_cls__lineless_table.png")
    assert (len(rows), len(rows[0])) == (3, 4)
    assert rows[0][0] == "Membrane" and rows[0][3] == "Pore size (nm)"
    assert rows[2] == ["CA5", "45.8", "75", "10"]


def test_empty_grid_picture_with_heavy_gray_lines() -> None:
    rows = table_rows("rapidtable_table_without_txt.jpg")
    assert len(rows) == 4 and all(len(r) == 4 and not any(r) for r in rows)


@pytest.mark.slow
def test_resume_form_picture() -> None:
    rows = table_rows("wired__table4.jpg")
    flat = {t for row in rows for t in row}
    assert {"姓名", "求职意向", "园林设计师", "wenyaword@qq.com", "环境与艺术设计"} <= flat
    phone = next(r for r in rows if r[0] == "联系电话")
    assert "E-mail" in phone and "wenyaword@qq.com" in phone
    assert row_starting(rows, "姓名") == [
        "姓名",
        "雅资",
        "性别",
        "男",
        "民族",
        "汉",
        "出生日期",
        "1992.5",
        "",
    ]


@pytest.mark.slow
def test_squad_table_picture_keeps_numerals() -> None:
    rows = table_rows("table_cls__wired_table.png")
    column = [r[1] for r in rows[1:5]]
    assert column == ["一", "二", "一", "二"]
    assert rows[0][0] == rows[0][1]  # 方案 spans two columns
    assert len(rows) == 6 and len(rows[0]) == 3
    assert rows[-1][0].startswith("注：此表为8、9人步兵班编组方案")


@pytest.mark.slow
def test_big_merged_box_picture() -> None:
    rows = table_rows("wired__wired_big_box.png")
    assert rows[0][:2] == ["项目", "项目"] and "索道" in rows[0]
    assert len(rows) == 5 and len(rows[0]) == 10


@pytest.mark.slow
def test_balance_sheet_picture_keeps_every_row_and_amount() -> None:
    """wired__table6.png: 合并资产负债表, 31 rows × 3 columns, thousands separators kept."""
    rows = table_rows("wired__table6.png")
    assert len(rows) == 31 and all(len(r) == 3 for r in rows)
    assert rows[0] == ["项目", "期末余额", "年初余额"]
    assert rows[2] == ["货币资金", "5,288,011,738.39", "2,629,981,089.49"]
    assert row_starting(rows, "应收利息") == ["应收利息", "8,746,899.35", "1,645,890.39"]
    # a name wrapped over two lines in one cell is one cell text
    assert rows[5][0] == "以公允价值计量且其变动计入当期损益的金融资产"
    assert rows[-1] == ["在建工程", "344,034,065.45", "558,797,792.68"]


@pytest.mark.slow
def test_tilted_photocopied_invoice_keeps_its_numbers() -> None:
    """wired__squeeze_error.jpeg: a skewed, stamped photocopy; the service-fee rows read right."""
    rows = table_rows("wired__squeeze_error.jpeg")
    tower = next(r for r in rows if "塔类" in r)
    assert [
        t for t in ("4443", "6%", "4894780.79", "4890063.81", "293403.83", "5183467.64") if t not in tower
    ] == []
    indoor = next(r for r in rows if "室分类" in r)
    assert {"108", "9%", "119476.19", "10752.86", "130229.05"} <= set(indoor)


@pytest.mark.slow
def test_product_sheet_picture_size_chart() -> None:
    """wired__table7.png: the size chart in the lower half keeps its 6 columns of values."""
    rows = table_rows("wired__table7.png")
    assert row_starting(rows, "尺码") == ["尺码", "XS", "S", "M", "L", "XL"]
    assert row_starting(rows, "衣长") == ["衣长", "73", "74", "75", "76", "77"]
    assert row_starting(rows, "胸围") == ["胸围", "85", "90", "95", "100", "105"]
