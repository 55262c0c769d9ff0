"""Drop tables repeated in one file (the same embedded workbook shown several times)."""

from __future__ import annotations

from zhibiao.model import Table


def drop_repeats(tables: list[Table]) -> list[Table]:
    """Keep the first copy of each distinct table; copies are listed in its ``repeats``; renumber 1..n."""
    kept: dict[tuple, Table] = {}
    for table in sorted(tables, key=lambda t: t.order):
        key = table.fingerprint()
        if not key:
            continue
        first = kept.get(key)
        if first is None:
            kept[key] = table
        else:
            where = table.source or f"table at order {table.order}"
            first.repeats.append(where if table.page is None else f"{where} (page {table.page})")
    result = list(kept.values())
    for number, table in enumerate(result, start=1):
        table.index = number
    return result
