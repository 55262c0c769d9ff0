"""The gold format (``annotations/GOLD_FORMAT.md``) and converters into it.

One ``GoldDocument`` per report: records in the output contract's field names (values as printed,
compared typed by ``zhibiao.eval``), narrative facts, table structure (cells with spans, the pages
each table sits on) and token spans over the document text. Converters:

- ``from_shared_gold``: the dev corpus' ``gold/NNN.json`` (``project_name``, ``budget.annual``...);
- ``tables_from_dir``: ``gold/tables/<doc>/tableK.html`` + ``index.json`` (+ per-page parts);
- ``spans_from_facts``: narrative facts located in the document text -> NAME / ACTUAL spans.

The JSON Schemas in ``annotations/schemas/`` are generated from these models (``write_schemas``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from zhibiao.model import Table
from zhibiao.tables.html import table_from_html

GOLD_VERSION = "1"
SCHEMA_DIR = Path(__file__).parent / "schemas"

Printed = str | float | int | None
"""A value as printed (``"100.00%"``, ``"2,340平方米"``) or already a number; ``""``/null: absent."""


class GoldModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoldValue(GoldModel):
    """The contract's ``{text, value, unit}`` form, accepted wherever a printed value is."""

    text: str
    value: float | None = None
    unit: str | None = None


class GoldBudget(GoldModel):
    unit: str | None = None
    initial: Printed = None
    adjusted: Printed = None
    executed: Printed = None
    execution_rate: Printed = None
    fiscal: Printed = None
    total: Printed = None
    weight: Printed = None
    score: Printed = None


class GoldIndicator(GoldModel):
    """One indicator row (三级指标). Keys left out are not scored; ``""`` means "absent in the document"."""

    level1: str | None = None
    level2: str | None = None
    name: str
    operator: str | None = None
    target: Printed | GoldValue = None
    unit: str | None = None
    """度量单位; compared with the predicted ``target.unit`` (or ``actual.unit``)."""
    actual: Printed | GoldValue = None
    weight: Printed = None
    score: Printed = None
    reason: str | None = None


class GoldProject(GoldModel):
    name: str | None = None
    code: str | None = None
    department: str | None = None
    implementing_unit: str | None = None
    budget: GoldBudget | None = None
    indicators: list[GoldIndicator] = Field(default_factory=list)
    total_weight: Printed = None
    total_score: Printed = None


class GoldFact(GoldModel):
    """A fact stated in prose and not tied to a project table (``narrative_indicators[]``)."""

    project: str | None = None
    name: str
    target: Printed | GoldValue = None
    actual: Printed | GoldValue = None
    sentence: str | None = None


class GoldScoreRow(GoldModel):
    level1: str | None = None
    level1_weight: Printed = None
    level2: str | None = None
    level2_weight: Printed = None
    name: str | None = None
    weight: Printed = None
    score: Printed = None


class GoldCell(GoldModel):
    row: int = Field(ge=0)
    col: int = Field(ge=0)
    row_span: int = Field(1, ge=1)
    col_span: int = Field(1, ge=1)
    text: str = ""


class GoldTablePart(GoldModel):
    """The rows of a table shown on one page (spans clipped, repeated header rows included)."""

    page: int
    bbox_pt: tuple[float, float, float, float] | None = None
    """pdfplumber's table box on the ``NAME.pdf`` page (x0, top, x1, bottom; points, top-left origin)."""
    rows: list[int] = Field(default_factory=list)
    n_rows: int = 0
    n_cols: int = 0
    cells: list[GoldCell] = Field(default_factory=list)
    """Empty when the table has a single part (then the part is the whole table)."""


class GoldTable(GoldModel):
    index: int = Field(ge=1)
    """1-based position among the document's tables, in document order."""
    title: str | None = None
    pages: list[int] = Field(default_factory=list)
    parts: list[GoldTablePart] = Field(default_factory=list)
    n_rows: int = 0
    n_cols: int = 0
    cells: list[GoldCell] = Field(default_factory=list)

    def table(self) -> Table:
        """The model ``Table`` (what predictions are compared with)."""
        return _to_table(self.cells, self.n_rows, self.n_cols, self.index, self.pages)

    def part_table(self, page: int) -> Table | None:
        """The rows of this table on ``page`` (the whole table when it has one part)."""
        for part in self.parts:
            if part.page == page:
                if not part.cells:
                    return self.table()
                return _to_table(part.cells, part.n_rows, part.n_cols, self.index, [page])
        return None


class GoldSpan(GoldModel):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    """Character offsets into the text, end exclusive."""
    label: str
    text: str | None = None


class GoldSpans(GoldModel):
    """Entity spans over one text (a document's text rendition, a sentence, a Label Studio task)."""

    source: str
    """Which text the offsets refer to (file name of the rendition, or a task id)."""
    spans: list[GoldSpan] = Field(default_factory=list)


class GoldDocument(GoldModel):
    gold_version: str = GOLD_VERSION
    doc: str
    """Document stem: every rendition whose file stem starts with it (then end, ``_`` or ``.``) is scored."""
    origin: str | None = None
    """Where this gold came from (file converted, annotator, Label Studio project)."""
    department: str | None = None
    year: int | str | None = None
    department_budget: GoldBudget | None = None
    projects: list[GoldProject] = Field(default_factory=list)
    narrative: list[GoldFact] = Field(default_factory=list)
    score_table: list[GoldScoreRow] = Field(default_factory=list)
    tables: list[GoldTable] | None = None
    """``None``: table structure not annotated; ``[]``: the document has no tables."""
    spans: list[GoldSpans] | None = None
    """``None``: token spans not annotated."""


def _to_table(cells: list[GoldCell], n_rows: int, n_cols: int, index: int, pages: list[int]) -> Table:
    from zhibiao.model import Cell

    model_cells = [Cell(**c.model_dump()) for c in cells]
    n_rows = n_rows or max((c.row + c.row_span for c in cells), default=0)
    n_cols = n_cols or max((c.col + c.col_span for c in cells), default=0)
    return Table(
        index=index,
        pages=pages,
        page=pages[0] if pages else None,
        reader="gold",
        n_rows=n_rows,
        n_cols=n_cols,
        cells=model_cells,
    )


def cells_from_table(table: Table) -> list[GoldCell]:
    return [
        GoldCell(row=c.row, col=c.col, row_span=c.row_span, col_span=c.col_span, text=c.text)
        for c in sorted(table.cells, key=lambda c: (c.row, c.col))
    ]


# --- converters -------------------------------------------------------------------------------

_BUDGET_KEYS = {"annual": "initial", "actual_spend": "executed"}
_PROJECT_KEYS = {"project_name": "name", "project_code": "code"}


def doc_stem(doc: str) -> str:
    """``003_4840a7d78a699b0b.txt`` -> ``003_4840a7d78a699b0b``."""
    name = Path(doc).name
    return name.rsplit(".", 1)[0] if "." in name else name


def _budget(data: dict[str, Any] | None) -> GoldBudget | None:
    if data is None:
        return None
    return GoldBudget(**{_BUDGET_KEYS.get(k, k): v for k, v in data.items()})


def _project(data: dict[str, Any]) -> GoldProject:
    fields: dict[str, Any] = {
        _PROJECT_KEYS.get(k, k): v for k, v in data.items() if k not in ("budget", "indicators")
    }
    if "budget" in data:
        fields["budget"] = _budget(data["budget"])
    return GoldProject(**fields, indicators=[GoldIndicator(**i) for i in data.get("indicators", [])])


def from_shared_gold(
    data: dict[str, Any], tables_dir: Path | None = None, text: str | None = None, origin: str | None = None
) -> GoldDocument:
    """Convert a dev-corpus gold JSON (``gold/NNN.json``) with its table HTML and (optionally) its text."""
    stem = doc_stem(data["doc"])
    document_fields: dict[str, Any] = {k: data[k] for k in ("department", "year") if k in data}
    if "department_budget" in data:
        document_fields["department_budget"] = _budget(data["department_budget"])
    doc = GoldDocument(
        gold_version=GOLD_VERSION,
        doc=stem,
        origin=origin,
        **document_fields,
        projects=[_project(p) for p in data.get("projects", [])],
        narrative=[GoldFact(**f) for f in data.get("narrative", [])],
        score_table=[GoldScoreRow(**r) for r in data.get("score_table", [])],
    )
    if tables_dir is not None and (tables_dir / "index.json").exists():
        doc.tables = tables_from_dir(tables_dir)
    if text is not None and narrative_facts(doc):
        doc.spans = [GoldSpans(source=Path(data["doc"]).name, spans=spans_from_facts(doc, text))]
    return doc


def tables_from_dir(tables_dir: Path) -> list[GoldTable]:
    """Read ``index.json`` and every ``tableK.html`` (+ ``tableK_pageN.html``) of one document."""
    index = json.loads((tables_dir / "index.json").read_text(encoding="utf-8"))
    tables = []
    for entry in index.get("tables", []):
        full = table_from_html((tables_dir / entry["html"]).read_text(encoding="utf-8"))
        parts = []
        for part in entry.get("parts", []):
            part_table = None
            if len(entry.get("parts", [])) > 1 and part.get("html"):
                part_table = table_from_html((tables_dir / part["html"]).read_text(encoding="utf-8"))
            parts.append(
                GoldTablePart(
                    page=part["page"],
                    bbox_pt=tuple(part["bbox_pt"]) if part.get("bbox_pt") else None,
                    rows=part.get("rows", []),
                    n_rows=part_table.n_rows if part_table else 0,
                    n_cols=part_table.n_cols if part_table else 0,
                    cells=cells_from_table(part_table) if part_table else [],
                )
            )
        tables.append(
            GoldTable(
                index=entry["table"],
                title=entry.get("sheet"),
                pages=entry.get("pages", []),
                parts=parts,
                n_rows=full.n_rows,
                n_cols=full.n_cols,
                cells=cells_from_table(full),
            )
        )
    return tables


FACT_KEYS = frozenset({"name", "target", "actual", "unit"})
"""An indicator annotated with only these keys is a fact stated in prose (no table row)."""
FACT_WINDOW = 80
"""How far after an indicator name its stated value may be (characters) when locating a fact."""


def narrative_facts(doc: GoldDocument) -> list[tuple[str | None, GoldIndicator | GoldFact]]:
    """Facts stated in prose: project indicators without a table hierarchy, and ``narrative[]``."""
    facts: list[tuple[str | None, GoldIndicator | GoldFact]] = []
    for project in doc.projects:
        facts.extend((project.name, i) for i in project.indicators if i.model_fields_set <= FACT_KEYS)
    facts.extend((f.project, f) for f in doc.narrative)
    return facts


def spans_from_facts(doc: GoldDocument, text: str) -> list[GoldSpan]:
    """Locate each narrative fact's name and printed value in ``text``: NAME / TARGET / ACTUAL spans.

    A fact whose name does not occur, or whose value does not follow within ``FACT_WINDOW``
    characters, yields only the spans that were found, never a guessed one.
    """
    spans: list[GoldSpan] = []
    cursor: dict[str, int] = {}
    for _project, fact in narrative_facts(doc):
        start = text.find(fact.name, cursor.get(fact.name, 0))
        if start < 0:
            continue
        end = start + len(fact.name)
        cursor[fact.name] = end
        spans.append(GoldSpan(start=start, end=end, label="NAME", text=fact.name))
        for label, value in (("TARGET", fact.target), ("ACTUAL", fact.actual)):
            printed = value.text if isinstance(value, GoldValue) else value
            if not isinstance(printed, str) or not printed:
                continue
            at = text.find(printed, end, end + FACT_WINDOW + len(printed))
            if at >= 0:
                spans.append(GoldSpan(start=at, end=at + len(printed), label=label, text=printed))
    return sorted(spans, key=lambda s: (s.start, s.end, s.label))


# --- schemas ----------------------------------------------------------------------------------

SCHEMAS: dict[str, type[BaseModel]] = {
    "gold-document": GoldDocument,
    "gold-table": GoldTable,
    "gold-spans": GoldSpans,
}


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one gold file kind (``gold-document``, ``gold-table``, ``gold-spans``)."""
    model = SCHEMAS[name]
    out = model.model_json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = f"https://github.com/zhibiao/zhibiao/annotations/schemas/{name}.schema.json"
    return out


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """(Re)generate ``annotations/schemas/*.schema.json`` from the models."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema(name), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def load_gold_file(path: Path) -> GoldDocument:
    """A gold file in either form: this format (has ``gold_version``) or the dev corpus' ``gold/NNN.json``.

    For the dev form the table HTML is read from ``tables/<doc>/`` beside it and the document text
    (for token spans) from ``../<doc>`` when that is a ``.txt`` file.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    if "gold_version" in data:
        return GoldDocument.model_validate(data)
    stem = doc_stem(data["doc"])
    tables_dir = path.parent / "tables" / stem
    text_path = path.parent.parent / Path(data["doc"]).name
    text = (
        text_path.read_text(encoding="utf-8") if text_path.suffix == ".txt" and text_path.exists() else None
    )
    return from_shared_gold(data, tables_dir if tables_dir.is_dir() else None, text, origin=path.name)


def main(argv: list[str] | None = None) -> int:
    """``python -m zhibiao.annotations.gold SRC_DIR OUT_DIR``: convert dev gold files to this format."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "src", type=Path, nargs="?", help="directory of gold JSON files (dev form or this form)"
    )
    parser.add_argument("out", type=Path, nargs="?", help="output directory (default: only validate)")
    parser.add_argument("--schemas", action="store_true", help="regenerate annotations/schemas/ and exit")
    args = parser.parse_args(argv)
    if args.schemas:
        for path in write_schemas():
            print(path)
        return 0
    if args.src is None:
        parser.error("give a source directory (or --schemas)")
    for path in sorted(args.src.glob("*.json")):
        doc = load_gold_file(path)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            target = args.out / f"{doc.doc}.json"
            target.write_text(doc.model_dump_json(indent=1, exclude_unset=True), encoding="utf-8")
            print(target)
        else:
            print(f"{path.name}: {len(doc.projects)} projects, {len(doc.tables or [])} tables")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
