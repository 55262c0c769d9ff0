"""An invented self-evaluation workbook whose checks fail in known ways, for the report's tests,
screenshots and demos: one indicator scores more than its weight (``score_exceeds_weight``, an
error), and a reason cell holds hostile markup that the report must show as text."""

from __future__ import annotations

from pathlib import Path

HOSTILE_TEXT = '<script>alert("zhibiao")</script><img src=x onerror=alert(1)>'
FLAGGED_INDICATOR = "志愿服务时长"
"""The indicator whose 得分 (18) exceeds its 权重 (15)."""

ROWS: list[list[object]] = [
    ["项目支出绩效自评表（2023年度）"],
    ["项目名称", None, "44010023Y000000654321-区青少年志愿服务推广"],
    ["主管部门", None, "广州市示例区共青团委员会", None, None, "实施单位", "广州市示例区青少年宫"],
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
    [None, "总额", 30, 30, 29.1, "97.00%", 10, 9.7],
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
    ["产出指标", "数量指标", "志愿服务活动场次", "≥", 60, "场", 64, 20, 20, None],
    [None, None, FLAGGED_INDICATOR, "≥", 5000, "小时", 4200, 15, 18, HOSTILE_TEXT],
    [None, "质量指标", "活动记录完整率", "＝", 100, "%", 100, 15, 15, None],
    ["效益指标", "社会效益指标", "青少年参与积极性", "定性", "优良中低差", None, "优", 20, 20, None],
    ["满意度指标", "服务对象满意度指标", "参与者满意度", "≥", 90, "%", 93, 20, 20, None],
    ["合计", None, None, None, None, None, None, 100, 102.7, None],
]
MERGES = ["A1:J1", "A2:B2", "C2:J2", "A3:B3", "C3:E3", "G3:J3", "A4:A5", "A7:A9", "B7:B8", "A12:G12"]


def write_flagged_workbook(path: Path) -> Path:
    """Write the workbook to ``path`` (XLSX) and return the path."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "项目支出绩效自评表"
    for row in ROWS:
        sheet.append(row)
    for ref in MERGES:
        sheet.merge_cells(ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
