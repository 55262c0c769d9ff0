"""Write the bundled demo samples (invented content) to extraction/samples/.

    python scripts/make_samples.py

Three small documents, one per common medium: a self-evaluation form as XLSX, a target form as
DOCX with merged cells, and a narrative report as plain text. They are ours (made here), so the
repository ships no third-party document.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook

OUT = Path(__file__).resolve().parents[1] / "extraction" / "samples"

SELF_EVAL_ROWS = [
    ["项目支出绩效自评表（2023年度）"],
    ["项目名称", None, "44010023Y000000123456-区图书馆公共阅读推广"],
    ["主管部门", None, "广州市示例区文化广电旅游体育局", None, None, "实施单位", "广州市示例区图书馆"],
    [
        "预算执行情况（万元）",
        "年度预算数",
        "年初预算",
        "调整后预算数",
        "预算执行数",
        "预算执行率",
        "权重",
        "得分",
    ],
    [None, "总额", "50.00", "48.00", "47.52", "99.00%", "10", "9.9"],
    [None, "其中：财政资金", "50.00", "48.00", "47.52", "99.00%", "/", "/"],
    [
        "一级指标",
        "二级指标",
        "三级指标",
        "指标性质",
        "指标值",
        "度量单位",
        "完成值",
        "权重",
        "得分",
        "未完成原因分析",
    ],
    ["产出指标", "数量指标", "举办阅读推广活动场次", "≥", "120", "场", "135", "20", "20", None],
    [None, None, "新增馆藏图书册数", "≥", "8000", "册", "7600", "15", "13", "书商供货延迟，次年补齐。"],
    [None, "质量指标", "图书外借准确率", "＝", "100", "%", "100", "15", "15", None],
    [None, "时效指标", "活动按计划完成率", "≥", "95", "%", "98", "10", "10", None],
    ["效益指标", "社会效益指标", "市民阅读习惯", "定性", "优良中低差", None, "优", "10", "10", None],
    [None, "可持续发展指标", "阅读推广机制健全", "定性", "健全", None, "健全", "10", "10", None],
    ["满意度指标", "服务对象满意度指标", "读者满意度", "≥", "90", "%", "94", "10", "10", None],
    ["合计", None, None, None, None, None, None, "100", "97.9", None],
]
SELF_EVAL_MERGES = [
    "A1:J1",
    "A2:B2",
    "C2:J2",
    "A3:B3",
    "C3:E3",
    "G3:J3",
    "A4:A6",
    "A8:A11",
    "B8:B9",
    "A12:A13",
    "A15:G15",
]

TARGET_ROWS = [
    ["项目名称", "社区养老服务补贴", "", ""],
    ["项目资金总额（万元）", "320.00", "", ""],
    ["一级指标", "二级指标", "三级指标", "年度指标值"],
    ["产出指标", "数量指标", "服务老年人数", "≥1500(人)"],
    ["", "", "助餐服务点数量", "=12.00(个)"],
    ["", "质量指标", "服务投诉处理率", "=100.00(%)"],
    ["效益指标", "社会效益指标", "补贴对象生活改善度", "不低于80%"],
    ["满意度指标", "服务对象满意度指标", "老年人满意度", "≥90.00(%)"],
]
TARGET_MERGES = {(0, 1): (1, 3), (1, 1): (1, 3), (3, 0): (3, 1), (3, 1): (2, 1), (6, 0): (1, 1)}
"""(row, col) -> (row_span, col_span) of merged anchors."""

NARRATIVE = """示例市示例区妇女联合会 2023 年部门整体支出绩效自评报告

一、基本情况

（二）部门整体收支情况

全年预算数 210.40 万元，执行数 208.12 万元，完成预算的 98.9%。

二、综合评价分析

（二）各重点工作任务绩效目标完成情况分析

（1）家庭教育指导服务项目

支出完成情况：年度支出预算数 36.50 万元，预算完成数 36.20 万元，执行率 99.2%。

指标完成情况：1.家庭教育讲座场次42场，完成年度绩效指标。2.家长学校覆盖率100%，完成年度绩效指标。

（2）妇女儿童维权服务项目

支出完成情况：年度支出预算数12.00万元，预算完成数12.00万元，执行率100%。

指标完成情况：1.信访案件办结率100%，完成年度绩效指标。2.维权服务站点服务半径5公里以内，完成年度绩效指标。
"""


def write_self_eval(path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "项目支出绩效自评表"
    for row in SELF_EVAL_ROWS:
        sheet.append(row)
    for ref in SELF_EVAL_MERGES:
        sheet.merge_cells(ref)
    workbook.save(path)


def _cell_xml(text: str, span: tuple[int, int] | None, continued: bool) -> str:
    props = ""
    if span and span[1] > 1:
        props += f'<w:gridSpan w:val="{span[1]}"/>'
    if span and span[0] > 1:
        props += '<w:vMerge w:val="restart"/>'
    elif continued:
        props += "<w:vMerge/>"
    body = "".join(f"<w:p><w:r><w:t>{escape(line)}</w:t></w:r></w:p>" for line in (text or "").split("\n"))
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{body or '<w:p/>'}</w:tc>"


def _table_xml(rows: list[list[str]], merges: dict[tuple[int, int], tuple[int, int]]) -> str:
    covered: dict[tuple[int, int], bool] = {}
    for (r, c), (rs, cs) in merges.items():
        for i in range(rs):
            for j in range(cs):
                if (i, j) != (0, 0):
                    covered[(r + i, c + j)] = j == 0  # vertical continuation cell stays, horizontal goes
    out = ['<w:tbl><w:tblPr><w:tblBorders><w:top w:val="single"/></w:tblBorders></w:tblPr><w:tblGrid>']
    out += ["<w:gridCol/>" for _ in rows[0]]
    out.append("</w:tblGrid>")
    for r, row in enumerate(rows):
        out.append("<w:tr>")
        for c, text in enumerate(row):
            if (r, c) in covered and not covered[(r, c)]:
                continue
            span = merges.get((r, c))
            if (r, c) in covered:
                anchor = next(m for (mr, mc), m in merges.items() if mc == c and mr < r <= mr + m[0] - 1)
                out.append(_cell_xml("", (1, anchor[1]), continued=True))
            else:
                out.append(_cell_xml(text, span, continued=False))
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


def write_target_form(path: Path) -> None:
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    paragraphs = "".join(
        f"<w:p><w:r><w:t>{escape(t)}</w:t></w:r></w:p>"
        for t in ("项目支出绩效目标表", "（2024年度）", "主管部门：示例区民政局", "单位：万元")
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {ns}><w:body>'
        f"{paragraphs}{_table_xml(TARGET_ROWS, TARGET_MERGES)}<w:p/></w:body></w:document>"
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": document,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    path.write_bytes(buf.getvalue())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_self_eval(OUT / "sample_self_eval.xlsx")
    write_target_form(OUT / "sample_target_form.docx")
    (OUT / "sample_narrative.txt").write_text(NARRATIVE, encoding="utf-8")
    for path in sorted(OUT.iterdir()):
        print(path, path.stat().st_size)


if __name__ == "__main__":
    main()
