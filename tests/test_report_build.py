"""The static review report: files and links, counts equal to the JSON, no remote URLs, escaping,
flag marking, pagination, rebuilds, and the building blocks (spans, text fitting, charts)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from report_helpers import archive_counts, extract_all, json_counts, report_inputs

from conftest import DEV
from zhibiao.cli import main
from zhibiao.export.writers import write_json
from zhibiao.model import Cell, SourceInfo, Table
from zhibiao.report import write_report
from zhibiao.report.build import build_report
from zhibiao.report.charts import hbar_chart
from zhibiao.report.demo import FLAGGED_INDICATOR, HOSTILE_TEXT
from zhibiao.report.document import entity_spans, fit_text, highlighted, wrap_text
from zhibiao.report.layout import display_width, script_json
from zhibiao.report.overview import PAGE_SIZE, overview_name
from zhibiao.report.summary import confidence_bin
from zhibiao.result import (
    ExtractionResult,
    Flag,
    Indicator,
    NarrativeIndicator,
    Project,
    Provenance,
    ReadError,
    ScoreRow,
    ScoreTable,
)

# ---------------------------------------------------------------- helpers


def shown_counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', html)}


class Links(HTMLParser):
    """Collects href/src attribute values and the number of <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.urls += [v for k, v in attrs if k in ("href", "src") and v]


def parse(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    """A report over the samples, the flagged demo workbook and (where present) a few dev files."""
    base = tmp_path_factory.mktemp("report")
    out = base / "out"
    payloads = extract_all(report_inputs(base), out)
    (out / "not_a_document.json").write_text('{"hello": 1}', encoding="utf-8")
    index = write_report(out)
    assert index == out / "report" / "index.html"
    return out, payloads


# ---------------------------------------------------------------- the built report


def test_every_document_has_a_page_and_every_link_resolves(built: tuple[Path, dict]) -> None:
    out, payloads = built
    root = out / "report"
    assert {p.stem for p in (root / "docs").glob("*.html")} == set(payloads)
    pages = [*root.glob("*.html"), *(root / "docs").glob("*.html")]
    for page in pages:
        for url in parse(page).urls:
            parsed = urlparse(url)
            if parsed.scheme == "file" or url.startswith("#"):
                continue
            assert not parsed.scheme, f"{page.name}: unexpected URL {url}"
            assert (page.parent / unquote(parsed.path)).is_file(), f"{page.name}: broken link {url}"


def test_overview_counts_equal_the_json(built: tuple[Path, dict]) -> None:
    out, payloads = built
    html = (out / "report" / "index.html").read_text(encoding="utf-8")
    shown = shown_counts(html)
    expected = archive_counts(payloads)
    assert {key: shown[key] for key in expected} == expected
    assert shown["records"] > 0 and shown["flags"] > 0
    for name, payload in payloads.items():
        row = re.search(rf'<tr data-doc="{re.escape(name)}"[^>]*>(.*?)</tr>', html).group(1)
        cells = dict(re.findall(r'data-col="(\w+)">(\d+)<', row))
        assert {k: int(v) for k, v in cells.items()} == {
            k: v for k, v in json_counts(payload).items() if k in cells
        }
    assert "1 other JSON files skipped (not_a_document.json)" in html


def test_document_page_counts_equal_the_json(built: tuple[Path, dict]) -> None:
    out, payloads = built
    for name, payload in payloads.items():
        html = (out / "report" / "docs" / f"{name}.html").read_text(encoding="utf-8")
        shown = shown_counts(html)
        assert {k: shown[k] for k in json_counts(payload)} == json_counts(payload), name
        assert len(re.findall(r"<tr data-rec=", html)) == shown["records"] + shown["score_rows"]


def test_no_remote_urls_anywhere(built: tuple[Path, dict]) -> None:
    out, _ = built
    for path in (out / "report").rglob("*"):
        if path.suffix in (".html", ".css", ".js"):
            text = path.read_text(encoding="utf-8")
            assert "http://" not in text and "https://" not in text, path
        if path.suffix == ".html":
            assert all(urlparse(url).scheme in ("", "file") for url in parse(path).urls), path


def test_hostile_cell_text_is_shown_not_run(built: tuple[Path, dict]) -> None:
    out, _ = built
    page = out / "report" / "docs" / "flagged.html"
    html = page.read_text(encoding="utf-8")
    assert HOSTILE_TEXT not in html
    assert "&lt;script&gt;alert(&quot;zhibiao&quot;)&lt;/script&gt;" in html
    assert parse(page).scripts == 2  # the data island and report.js, nothing injected
    island = re.search(r'<script type="application/json" id="panel-data">(.*?)</script>', html, re.S).group(1)
    assert "<" not in island and json.loads(island)  # still valid JSON
    assert any(HOSTILE_TEXT in v for entry in json.loads(island).values() for _, v in entry["fields"])


def test_flagged_value_is_marked_and_explained(built: tuple[Path, dict]) -> None:
    out, _ = built
    html = (out / "report" / "docs" / "flagged.html").read_text(encoding="utf-8")
    island = json.loads(re.search(r'id="panel-data">(.*?)</script>', html, re.S).group(1))
    flagged = [k for k, v in island.items() if v["title"] == FLAGGED_INDICATOR]
    assert len(flagged) == 1
    entry = island[flagged[0]]
    assert "score_exceeds_weight" in [f["code"] for f in entry["flags"]]
    assert dict(map(tuple, entry["fields"]))["reader"] == "xlsx"
    # the score (18) and weight (15) cells carry the error mark and point back to the record
    marked = re.findall(r'<td class="[^"]*flag-error[^"]*" data-cell="([^"]+)" data-recs="([^"]+)"', html)
    assert marked and all(flagged[0] in recs.split() for _, recs in marked)
    assert {cell for cell, _ in marked} <= set(entry["cells"])
    assert re.search(rf'<tr data-rec="{flagged[0]}" data-flag="error"', html)


def test_pdf_pages_are_rendered_with_cells_over_them(built: tuple[Path, dict]) -> None:
    out, payloads = built
    if "000_c9021f7b19f56ffc" not in payloads:
        pytest.skip("dev corpus PDF not present")
    html = (out / "report" / "docs" / "000_c9021f7b19f56ffc.html").read_text(encoding="utf-8")
    images = re.findall(r'<img src="\.\./(assets/pages/[^"]+\.png)"', html)
    assert len(images) == 3  # the table runs over pages 1-3
    assert all((out / "report" / image).stat().st_size > 1000 for image in images)
    assert html.count('<rect class="cell') == sum(
        len(t["cells"]) for t in payloads["000_c9021f7b19f56ffc"]["tables"]
    )


def test_emf_is_drawn_from_its_geometry(built: tuple[Path, dict]) -> None:
    out, payloads = built
    if "table1" not in payloads:
        pytest.skip("dev corpus EMF not present")
    html = (out / "report" / "docs" / "table1.html").read_text(encoding="utf-8")
    assert "drawn from its geometry" in html and "<tspan" in html and "<img" not in html


def test_narrative_spans_are_highlighted(built: tuple[Path, dict]) -> None:
    out, payloads = built
    html = (out / "report" / "docs" / "sample_narrative.html").read_text(encoding="utf-8")
    facts = payloads["sample_narrative"]["narrative_indicators"]
    assert facts
    assert html.count('data-label="指标"') == len(facts)
    for fact in facts:
        assert f'<mark class="ent" data-label="指标">{fact["name"]}' in html


def test_rebuild_drops_gone_documents_and_reuses_pictures(built: tuple[Path, dict], tmp_path: Path) -> None:
    out, payloads = built
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    pictures = sorted((copy / "report" / "assets" / "pages").iterdir())
    stamps = [p.stat().st_mtime_ns for p in pictures]
    (copy / "sample_narrative.json").unlink()
    stats = build_report(copy)
    assert stats.documents == len(payloads) - 1
    assert not (copy / "report" / "docs" / "sample_narrative.html").exists()
    assert [p.stat().st_mtime_ns for p in sorted((copy / "report" / "assets" / "pages").iterdir())] == stamps


def test_moved_source_falls_back_to_drawn_pages(built: tuple[Path, dict], tmp_path: Path) -> None:
    _, payloads = built
    if "000_c9021f7b19f56ffc" not in payloads:
        pytest.skip("dev corpus PDF not present")
    single = tmp_path / "out"
    single.mkdir()
    payload = dict(payloads["000_c9021f7b19f56ffc"], source={**payloads["000_c9021f7b19f56ffc"]["source"]})
    payload["source"]["path"] = str(tmp_path / "gone.pdf")
    (single / "moved.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    write_report(single)
    html = (single / "report" / "docs" / "moved.html").read_text(encoding="utf-8")
    assert "source file not found or changed" in html and "page 1 (drawn)" in html and "<img" not in html
    # given where the file is now, pages are rendered again
    write_report(single, {"moved": DEV / "000_c9021f7b19f56ffc.pdf"})
    assert "<img" in (single / "report" / "docs" / "moved.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- pagination and the command line


def synthetic_archive(out: Path, template: dict, count: int) -> None:
    """``count`` small document JSONs made from one real one, with varied names, years, departments."""
    out.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        payload = {**template, "source": {**template["source"], "path": f"/archive/doc{i:05d}.xlsx"}}
        payload["year"] = 2018 + i % 6
        payload["department"] = f"示例部门{i % 37}"
        (out / f"doc{i:05d}.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")


def test_overview_is_paginated(built: tuple[Path, dict], tmp_path: Path) -> None:
    _, payloads = built
    synthetic_archive(tmp_path, payloads["sample_self_eval"], PAGE_SIZE + 5)
    write_report(tmp_path)
    first = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    second = (tmp_path / "report" / overview_name(2)).read_text(encoding="utf-8")
    assert first.count("<tr data-doc=") == PAGE_SIZE and second.count("<tr data-doc=") == 5
    assert f'href="{overview_name(2)}"' in first
    assert shown_counts(second)["documents"] == PAGE_SIZE + 5
    last = (tmp_path / "report" / "docs" / f"doc{PAGE_SIZE + 4:05d}.html").read_text(encoding="utf-8")
    assert f'href="../{overview_name(2)}"' in last


def test_cli_report(built: tuple[Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = built
    single = tmp_path / "one"
    single.mkdir()
    shutil.copy(out / "flagged.json", single)
    assert main(["report", str(single)]) == 0
    assert "1 documents" in capsys.readouterr().out
    assert (single / "report" / "docs" / "flagged.html").is_file()
    assert main(["report", str(tmp_path / "missing")]) == 2


def test_batch_tree_of_nested_jsons_is_reported(built: tuple[Path, dict], tmp_path: Path) -> None:
    """A batch mirrors its input tree: nested JSONs get flat, unique pages; same names do not collide."""
    out, _ = built
    for rel in ("a/flagged.xlsx.json", "b/flagged.xlsx.json"):
        (tmp_path / rel).parent.mkdir(parents=True)
        shutil.copy(out / "flagged.json", tmp_path / rel)
    (tmp_path / "errors.json").write_text("[]", encoding="utf-8")
    stats = build_report(tmp_path)
    assert stats.documents == 2 and stats.skipped == []  # the batch's errors.json is not a document
    docs = tmp_path / "report" / "docs"
    assert sorted(p.name for p in docs.iterdir()) == ["a__flagged.xlsx.html", "b__flagged.xlsx.html"]
    index = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert 'href="docs/a__flagged.xlsx.html"' in index and ">b/flagged.xlsx<" in index
    assert build_report(tmp_path).documents == 2  # the report's own files are not read back


@pytest.mark.slow
def test_thousand_documents_build_in_seconds(built: tuple[Path, dict], tmp_path: Path) -> None:
    _, payloads = built
    synthetic_archive(tmp_path, payloads["flagged"], 1000)
    start = time.perf_counter()
    stats = build_report(tmp_path)
    seconds = time.perf_counter() - start
    print(f"report of 1000 documents: {seconds:.2f} s")
    assert stats.documents == 1000 and seconds < 30
    assert len(list((tmp_path / "report").glob("index*.html"))) == -(-1000 // PAGE_SIZE)
    index = tmp_path / "report" / "index.html"
    assert index.stat().st_size < 200_000  # one page of 100 rows, not the whole archive


# ---------------------------------------------------------------- building blocks


def test_entity_spans_do_not_overlap_and_highlight_escapes() -> None:
    sentence = "1.信访案件办结率100%，目标100%。"
    spans = entity_spans(sentence, [("指标", "信访案件办结率"), ("目标", "100%"), ("实际", "100%")])
    assert spans == [(2, 9, "指标"), (9, 13, "目标"), (16, 20, "实际")]
    assert entity_spans("abc", [("x", "zz"), ("y", "")]) == []
    html = highlighted("<b>率100%", entity_spans("<b>率100%", [("实际", "100%")]))
    assert html.startswith("&lt;b&gt;率<mark")


def test_fit_text_stays_inside_the_box() -> None:
    size, lines = fit_text("项目支出绩效自评表", width=40, height=10)
    assert all(display_width(line) * size / 2 <= 40 for line in lines)
    assert len(lines) * size * 1.2 <= 10 + 1e-9 or lines[-1].endswith("…")
    assert wrap_text("ab\ncd", 10) == ["ab", "cd"]
    assert wrap_text("一二三四", 4) == ["一二", "三四"]


def test_script_json_cannot_close_the_script() -> None:
    text = script_json({"x": "</script><script>alert(1)</script>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"x": "</script><script>alert(1)</script>&"}


def test_confidence_bins_and_chart_labels() -> None:
    assert [confidence_bin(v) for v in (0.0, 0.05, 0.7, 0.99, 1.0, 1.5, -1, float("nan"))] == [
        0,
        0,
        7,
        9,
        9,
        9,
        0,
        0,
    ]
    svg = hbar_chart("t", [("<b>部门</b>", 3, "x")])
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert "no data" in hbar_chart("empty", [])


# ---------------------------------------------------------------- made-up documents


def made_up(path: Path, fmt: str, text: str = "文本") -> ExtractionResult:
    """A document with one 2×2 table (boxes in pixels), a project, a score table and a narrative fact."""
    data = path.read_bytes() if path.exists() else b""
    cells = [
        Cell(row=r, col=c, text=f"{text}{r}{c}", bbox=(10 + 90 * c, 10 + 40 * r, 100 + 90 * c, 50 + 40 * r))
        for r in range(2)
        for c in range(2)
    ]
    flag = Flag(code="scores_total", message=f"Σ {text}", severity="error", evidence={"note": text})
    prov = Provenance(reader="ocr", page=1, table=1, cells=[(1, 0), (1, 1)])
    return ExtractionResult(
        source=SourceInfo(
            path=str(path), sha256=hashlib.sha256(data).hexdigest(), format=fmt, pages=1, size=len(data)
        ),
        department=text,
        year=2022,
        projects=[
            Project(
                name=text,
                flags=[flag],
                indicators=[
                    Indicator(name=text, weight=5, score=6, confidence=0.5, flags=[flag], provenance=prov)
                ],
            )
        ],
        score_tables=[ScoreTable(title=text, flags=[flag], rows=[ScoreRow(name=text, weight=1, score=1)])],
        narrative_indicators=[NarrativeIndicator(name=text, sentence=f"{text}达到100%", provenance=None)],
        tables=[Table(index=1, page=1, pages=[1], reader="ocr", n_rows=2, n_cols=2, cells=cells, title=text)],
        warnings=[text],
        errors=[ReadError(code="partial", message=text)],
    )


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_image_documents_show_the_picture_under_their_cells(tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "scan.png"
    Image.new("L", (2000, 1000), 255).save(picture)
    out = tmp_path / "out"
    write_json(made_up(picture, "png"), out / "scan.json")
    write_report(out)
    html = (out / "report" / "docs" / "scan.html").read_text(encoding="utf-8")
    image = re.search(r'<img src="\.\./(assets/pages/[^"]+\.jpg)"[^>]*width="2000" height="1000"', html)
    assert image, "the page picture, sized in the cells' units (pixels of the original)"
    with Image.open(out / "report" / image.group(1)) as shown:
        assert max(shown.size) == 1400  # downscaled copy
    assert 'viewBox="0.0 0.0 2000.0 1000.0"' in html and html.count('<rect class="cell') == 4
    assert html.count("flag-error") >= 2  # the cited row's cells carry the record's error flag


def test_hostile_text_in_every_field_stays_text(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_json(made_up(tmp_path / "gone.png", "png", '<xss-probe onmouseover="x">"&\''), out / "evil.json")
    write_report(out)
    for page in [out / "report" / "index.html", out / "report" / "docs" / "evil.html"]:
        tags = Tags()
        tags.feed(page.read_text(encoding="utf-8"))
        assert "xss-probe" not in tags.tags, page.name
        assert tags.tags.count("script") == (2 if page.parent.name == "docs" else 1)


def test_score_tables_and_projects_are_selectable(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_json(made_up(tmp_path / "gone.png", "png"), out / "doc.json")
    write_report(out)
    html = (out / "report" / "docs" / "doc.html").read_text(encoding="utf-8")
    island = json.loads(re.search(r'id="panel-data">(.*?)</script>', html, re.S).group(1))
    assert {"r0", "r1", "r2", "p0", "s0"} <= set(island)
    assert [f["code"] for f in island["s0"]["flags"]] == ["scores_total"]
    assert 'data-rec="p0"' in html and 'data-rec="s0"' in html and 'data-rec="r2"' in html
    assert "page 1 (drawn)" in html  # the picture is gone: the page is drawn from the boxes
