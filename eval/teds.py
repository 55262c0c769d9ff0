"""TEDS and TEDS-S: tree-edit-distance similarity of two tables (Zhong et al., 2020, arXiv:1911.10683).

``TEDS(a, b) = 1 - EditDist(T_a, T_b) / max(|T_a|, |T_b|)`` where ``T`` is the HTML tree
``table -> tr -> td`` and ``|T|`` its number of nodes. Insert and delete cost 1; renaming a node
costs 1 when the tags differ or (for ``td``) the colspan/rowspan differ, otherwise, for ``td``, the
normalised Levenshtein distance of the cell texts (0 when both are empty). TEDS-S ignores the text.
The tree edit distance is computed by ``apted`` (Pawlik & Augsten's APTED); this module only
builds the trees and the cost model.

Cell text is compared after NFKC with whitespace removed (``normalize=True``, the default): a line
break inside a rendered cell is layout, not content. ``normalize=False`` gives the published
definition on the raw text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apted import APTED, Config
from rapidfuzz.distance import Levenshtein

from zhibiao.eval.normalize import compact
from zhibiao.model import Table


@dataclass
class Node:
    """One node of the table tree; ``text`` is only meaningful for ``td``."""

    tag: str
    colspan: int = 1
    rowspan: int = 1
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def size(self) -> int:
        return 1 + sum(child.size() for child in self.children)

    def signature(self) -> tuple:
        """Hashable form of the subtree, used to skip APTED on identical trees."""
        return (self.tag, self.colspan, self.rowspan, self.text, tuple(c.signature() for c in self.children))


class TedsConfig(Config):
    """APTED cost model of TEDS (structure-only when ``structure_only``)."""

    def __init__(self, structure_only: bool = False) -> None:
        self.structure_only = structure_only

    def rename(self, node1: Node, node2: Node) -> float:
        if node1.tag != node2.tag or node1.colspan != node2.colspan or node1.rowspan != node2.rowspan:
            return 1.0
        if node1.tag != "td" or self.structure_only or not (node1.text or node2.text):
            return 0.0
        return Levenshtein.normalized_distance(node1.text, node2.text)

    def children(self, node: Node) -> list[Node]:
        return node.children


def table_tree(table: Table, structure_only: bool = False, normalize: bool = True) -> Node:
    """``table -> tr (one per grid row) -> td (cells anchored in that row, left to right)``."""
    rows: list[list[Node]] = [[] for _ in range(table.n_rows)]
    for cell in sorted(table.cells, key=lambda c: (c.row, c.col)):
        if not 0 <= cell.row < table.n_rows:
            continue
        text = "" if structure_only else (compact(cell.text) if normalize else cell.text)
        rows[cell.row].append(Node("td", cell.col_span, cell.row_span, text))
    return Node("table", children=[Node("tr", children=tds) for tds in rows])


def teds(pred: Table | None, gold: Table, structure_only: bool = False, normalize: bool = True) -> float:
    """TEDS (or TEDS-S) of a predicted table against the gold table; a missing prediction scores 0."""
    if pred is None:
        return 0.0
    tree_pred = table_tree(pred, structure_only, normalize)
    tree_gold = table_tree(gold, structure_only, normalize)
    if tree_pred.signature() == tree_gold.signature():
        return 1.0
    distance = APTED(tree_pred, tree_gold, TedsConfig(structure_only)).compute_edit_distance()
    return max(0.0, 1.0 - float(distance) / max(tree_pred.size(), tree_gold.size()))


def teds_pair(pred: Table | None, gold: Table, normalize: bool = True) -> tuple[float, float]:
    """``(TEDS, TEDS-S)`` of one table pair."""
    return teds(pred, gold, False, normalize), teds(pred, gold, True, normalize)
