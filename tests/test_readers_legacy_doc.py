"""Legacy ``.doc``: a clear missing-dependency error without LibreOffice, DOCX records with it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import DEV, SHARED, require
from zhibiao.detect import detect_format
from zhibiao.export.writers import record_rows
from zhibiao.pipeline import extract
from zhibiao.readers.legacy_doc import office_program

XLS = SHARED / "corpus" / "external" / "gov_xls" / "上海市普陀区2026年单位预算_官方模板_budget_template.xls"


def word_like_cfb(xls: bytes) -> bytes:
    """An OLE compound file whose ``Workbook`` stream is renamed ``WordDocument`` (a .doc to detection)."""
    old, new = "Workbook".encode("utf-16-le"), "WordDocument".encode("utf-16-le")
    at = xls.index(old + b"\0\0")
    entry = at - at % 128  # directory entries are 128 bytes, name first
    name = new + b"\0\0"
    patched = bytearray(xls)
    patched[entry : entry + 64] = name.ljust(64, b"\0")
    patched[entry + 64 : entry + 66] = len(name).to_bytes(2, "little")
    return bytes(patched)


def test_doc_without_libreoffice_is_a_clear_error_naming_it(tmp_path, monkeypatch) -> None:
    data = word_like_cfb(require(XLS).read_bytes())
    assert detect_format(data) == "doc"
    path = tmp_path / "report.doc"
    path.write_bytes(data)
    monkeypatch.setenv("ZHIBIAO_SOFFICE", str(tmp_path / "no-such-soffice"))
    result = extract(path)
    assert not result.projects
    [error] = result.errors
    assert error.code == "missing-dependency"
    assert "LibreOffice" in error.message and ".docx" in error.message


@pytest.mark.slow
def test_doc_made_by_libreoffice_gives_the_docx_records(tmp_path) -> None:
    program = office_program()
    if program is None:
        pytest.skip("LibreOffice is not installed (optional: apt install libreoffice-writer-nogui)")
    source = require(DEV / "003_4840a7d78a699b0b.docx")
    work = tmp_path / "work"
    subprocess.run(
        [program, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "doc", "--outdir", str(work), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    doc = work / (source.stem + ".doc")
    assert detect_format(doc.read_bytes()) == "doc"
    from_doc = extract(doc)
    assert not from_doc.errors
    assert "converted to DOCX by LibreOffice" in from_doc.warnings[0]
    keys = ("project", "level1", "level2", "name", "operator", "target_value", "actual_value", "score")
    rows = [tuple(r.get(k) for k in keys) for r in record_rows(from_doc)]
    expected = [tuple(r.get(k) for k in keys) for r in record_rows(extract(source))]
    assert rows == expected and len(rows) > 40


def test_office_program_honours_the_setting(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "soffice"
    monkeypatch.setenv("ZHIBIAO_SOFFICE", str(fake))
    assert office_program() is None
    fake.write_text("")
    assert office_program() == str(fake)
    monkeypatch.delenv("ZHIBIAO_SOFFICE")
    assert office_program() == (shutil.which("soffice") or shutil.which("libreoffice"))
