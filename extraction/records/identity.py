"""Who a project is: 项目名称 (with its code), 主管部门, 实施单位 — from label/value cells or list columns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from zhibiao.model import Cell
from zhibiao.records.budget import read_label_pairs
from zhibiao.records.grid import TableView
from zhibiao.records.values import clean_text

CODE_THEN_NAME_RE = re.compile(r"^([0-9A-Za-z]*\d[0-9A-Za-z]{4,})\s*[-－—–_:：]\s*(\S.*)$", re.S)
BRACKETED_CODE_RE = re.compile(r"^[\[【(（]\s*([0-9A-Za-z]*\d[0-9A-Za-z]*)\s*[\]】)）]\s*(\S.*)$", re.S)
CODE_RE = re.compile(r"^[0-9A-Za-z]*\d[0-9A-Za-z]{4,}$")


def split_code(text: str | None) -> tuple[str | None, str | None]:
    """Split a leading code off a name.

    ``51030022Y000000325498-市妇联幸福家庭再提升行动`` -> (code, name);
    ``[502]自贡市妇联`` -> (502, 自贡市妇联).
    """
    cleaned = clean_text(text)
    if not cleaned:
        return None, None
    for pattern in (CODE_THEN_NAME_RE, BRACKETED_CODE_RE):
        match = pattern.match(cleaned)
        if match:
            return match.group(1), match.group(2)
    return None, cleaned


def code_of(text: str | None) -> str | None:
    """A project code printed alone in a cell, else None."""
    cleaned = clean_text(text)
    return cleaned if CODE_RE.match(cleaned) else None


@dataclass
class Identity:
    """A project's name, code and organisations, and the cells they came from."""

    name: str | None = None
    code: str | None = None
    department: str | None = None
    implementing_unit: str | None = None
    cells: list[Cell] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return bool(self.name or self.code)


def identity_from_texts(
    name: str | None, code: str | None = None, department: str | None = None, unit: str | None = None
) -> Identity:
    """Identity from raw texts: the code split off the name, code prefixes off the organisations."""
    split_code_value, split_name = split_code(name)
    return Identity(
        name=split_name,
        code=code_of(code) or clean_text(code) or split_code_value,
        department=split_code(department)[1],
        implementing_unit=split_code(unit)[1],
    )


def read_identity(view: TableView, rows: list[int]) -> Identity:
    """The header block's 项目名称 / 项目编码 / 主管部门 / 实施单位 label/value pairs."""
    pairs = read_label_pairs(view, rows, "identity")

    def text(name: str) -> str | None:
        return pairs[name][0] if name in pairs else None

    identity = identity_from_texts(
        text("project_name"), text("project_code"), text("department"), text("implementing_unit")
    )
    identity.cells = [c for _, label, value in pairs.values() for c in (label, value)]
    return identity
