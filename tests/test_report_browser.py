"""The review report in headless Chromium (Debian ``chromium`` driven by Playwright's Python
package): the overview and a document page open from ``file://``, show the counts of the JSON,
load nothing remote, and a click on a flagged value shows its provenance and the check that
flagged it. Screenshots go to ``tests/artifacts/``.

Skipped where the browser is missing — except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_helpers import archive_counts, extract_all, json_counts, report_inputs

from zhibiao.report import write_report
from zhibiao.report.browser import launch, missing_browser
from zhibiao.report.demo import FLAGGED_INDICATOR, HOSTILE_TEXT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    reason = missing_browser()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    base = tmp_path_factory.mktemp("browser")
    out = base / "out"
    payloads = extract_all(report_inputs(base), out)
    write_report(out)
    return out / "report", payloads


class Watched:
    """A page plus what it did that it should not: script errors, dialogs, non-file requests."""

    def __init__(self, page: object) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.remote: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))  # type: ignore[attr-defined]
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
        page.on("dialog", self._dialog)  # type: ignore[attr-defined]
        page.on(
            "request", lambda r: None if r.url.startswith(("file:", "data:")) else self.remote.append(r.url)
        )  # type: ignore[attr-defined]

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]

    def clean(self) -> None:
        assert self.errors == [] and self.dialogs == [] and self.remote == []


@pytest.fixture()
def page(browser: object) -> Iterator[Watched]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[attr-defined]
    watched = Watched(context.new_page())
    yield watched
    context.close()


def shot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    assert path.stat().st_size > 10_000
    return path


def test_overview_shows_the_json_counts(page: Watched, report: tuple[Path, dict]) -> None:
    root, payloads = report
    p = page.page
    p.goto((root / "index.html").as_uri())
    shown = {
        key: int(p.locator(f'.totals [data-count="{key}"]').inner_text()) for key in archive_counts(payloads)
    }
    assert shown == archive_counts(payloads)
    for name, payload in payloads.items():
        row = p.locator(f'tr[data-doc="{name}"]')
        for key in ("tables", "records", "flags", "errors"):
            assert int(row.locator(f'td[data-col="{key}"]').inner_text()) == json_counts(payload)[key], (
                name,
                key,
            )
    assert p.locator("figure.chart").count() == 5
    shot(p, "report-overview.png")
    page.clean()


def test_click_a_flagged_value_shows_its_provenance(page: Watched, report: tuple[Path, dict]) -> None:
    root, payloads = report
    p = page.page
    p.goto((root / "index.html").as_uri())
    p.locator('tr[data-doc="flagged"] a').click()
    p.wait_for_load_state()
    assert p.url.endswith("/docs/flagged.html")
    counts = json_counts(payloads["flagged"])
    assert {k: int(p.locator(f'[data-count="{k}"]').inner_text()) for k in counts} == counts
    flagged = p.locator("table.grid td.flag-error").first
    flagged.click()
    panel = p.locator("#provenance")
    assert FLAGGED_INDICATOR in panel.locator("h3").inner_text()
    assert panel.locator('[data-flag-code="score_exceeds_weight"]').is_visible()
    text = panel.inner_text()
    assert "xlsx" in text and "cells" in text and "项目支出绩效自评表" in text
    selected = panel.get_attribute("data-selected")
    assert p.locator(f'tr[data-rec="{selected}"]').get_attribute("class").split().count("selected") == 1
    assert p.locator("td.selected").count() >= 10  # the whole row of the record is highlighted
    assert HOSTILE_TEXT in p.locator("table.grid").inner_text()  # shown as text, never run
    shot(p, "report-document.png")
    page.clean()


def test_records_sort_and_keyboard_selection(page: Watched, report: tuple[Path, dict]) -> None:
    root, _ = report
    p = page.page
    p.goto((root / "docs" / "flagged.html").as_uri())

    def column(n: int) -> list[float]:
        texts = p.locator(f"table.records tbody tr td:nth-child({n})").all_inner_texts()
        return [float(v) for v in texts if v]

    score = p.locator("table.records th", has_text="score")
    score.locator("button").click()
    assert score.get_attribute("aria-sort") == "ascending"
    assert column(6) == sorted(column(6)) and len(column(6)) >= 5
    score.locator("button").click()
    assert score.get_attribute("aria-sort") == "descending"
    assert column(6) == sorted(column(6), reverse=True)
    confidence = p.locator("table.records th", has_text="conf.")
    confidence.locator("button").click()
    assert column(7) == sorted(column(7))
    # an error flag lowers confidence: the flagged record comes first
    assert p.locator("table.records tbody tr").first.get_attribute("data-flag") == "error"
    second = p.locator("table.records tbody tr").nth(1)
    second.focus()
    p.keyboard.press("Enter")
    assert p.locator("#provenance").get_attribute("data-selected") == second.get_attribute("data-rec")
    page.clean()


def test_deep_link_selects_the_record(page: Watched, report: tuple[Path, dict]) -> None:
    root, _ = report
    p = page.page
    p.goto((root / "docs" / "sample_narrative.html").as_uri() + "#r1")
    assert p.locator("#provenance").get_attribute("data-selected") == "r1"
    assert "selected" in p.locator("#sent-r1").get_attribute("class")
    assert p.locator('#sent-r1 mark[data-label="指标"]').count() == 1
    page.clean()


def test_pdf_page_overlay(page: Watched, report: tuple[Path, dict]) -> None:
    root, payloads = report
    if "000_c9021f7b19f56ffc" not in payloads:
        pytest.skip("dev corpus PDF not present")
    p = page.page
    p.goto((root / "docs" / "000_c9021f7b19f56ffc.html").as_uri())
    cell = p.locator("svg.overlay rect.cell.cited").first
    cell.scroll_into_view_if_needed()
    image = p.locator("figure.pageview img").first
    image.scroll_into_view_if_needed()
    assert p.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
    cell.click()
    text = p.locator("#provenance").inner_text()
    assert "pdf-text" in text and "page" in text
    assert "selected" in cell.get_attribute("class")
    page.clean()
