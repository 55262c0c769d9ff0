"""End-to-end through the CLI: good files extract, bad files get a clear error, the run goes on."""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path

import pytest

from conftest import DEV, require
from zhibiao.cli import main, output_names
from zhibiao.export.schema import SCHEMA_PATH, build_schema, validate_document
from zhibiao.export.writers import read_csv_rows

MINIMAL_DOCX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/></Types>'
    ),
}


def zip_bytes(parts: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buf.getvalue()


def zip_bomb(member: str, size: int) -> bytes:
    """A small zip whose member inflates to ``size`` zero bytes (streamed, never held in memory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", MINIMAL_DOCX_PARTS["[Content_Types].xml"])
        with archive.open(member, "w", force_zip64=True) as handle:
            chunk = b"\0" * (1 << 22)
            for _ in range(size // len(chunk)):
                handle.write(chunk)
    return buf.getvalue()


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"
)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    real_docx = require(DEV / "000_c9021f7b19f56ffc.docx").read_bytes()
    real_xlsx = require(DEV / "000_c9021f7b19f56ffc.xlsx").read_bytes()
    contents = {
        "empty.docx": b"",
        "truncated_docx.docx": real_docx[: len(real_docx) // 2],
        "truncated_xlsx.xlsx": real_xlsx[: len(real_xlsx) // 2],
        "pdf_named.docx": pdf,
        "bomb.docx": zip_bomb("word/document.xml", 256 * 1024 * 1024),
        "entities.docx": zip_bytes({**MINIMAL_DOCX_PARTS, "word/document.xml": BILLION_LAUGHS}),
        "random.docx": zlib.compress(bytes(range(256)) * 64)[::-1],
    }
    paths = {}
    for name, data in contents.items():
        paths[name] = root / name
        paths[name].write_bytes(data)
    return paths


def test_bad_files_get_errors_and_good_files_are_unaffected(
    bad_files: dict[str, Path], tmp_path: Path
) -> None:
    good = require(DEV / "000_c9021f7b19f56ffc.xlsx")
    files = [str(p) for p in bad_files.values()] + [str(good)]
    code = main(["extract", *files, "-o", str(tmp_path), "-q"])
    assert code == 1  # some files failed
    index = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert f'data-count="documents">{len(files)}<' in index  # the review report, failed files included
    for name in bad_files:
        payload = json.loads((tmp_path / f"{Path(name).stem}.json").read_text(encoding="utf-8"))
        validate_document(payload)
        assert payload["errors"], name
        error = payload["errors"][0]
        assert error["code"] != "internal", (name, error)
        assert len(error["message"]) > 10
        assert payload["projects"] == []
    expected_codes = {
        "empty.docx": "empty",
        "bomb.docx": "unsafe",
        "entities.docx": "unsafe",
    }
    for name, code_ in expected_codes.items():
        payload = json.loads((tmp_path / f"{Path(name).stem}.json").read_text(encoding="utf-8"))
        assert payload["errors"][0]["code"] == code_, payload["errors"]
    good_payload = json.loads((tmp_path / f"{good.stem}.json").read_text(encoding="utf-8"))
    assert good_payload["errors"] == []
    assert len(good_payload["projects"]) == 1
    assert len(good_payload["projects"][0]["indicators"]) == 6
    rows = read_csv_rows(tmp_path / "records.csv")
    assert len(rows) == 6 and {r["file"] for r in rows} == {str(good)}
    assert (tmp_path / "records.xlsx").stat().st_size > 0


def test_published_schema_is_current() -> None:
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == build_schema()


def test_output_names_disambiguate_colliding_stems() -> None:
    names = output_names([Path("a/x.docx"), Path("a/x.pdf"), Path("b/y.txt")])
    assert names == {
        Path("a/x.docx"): "x.docx.json",
        Path("a/x.pdf"): "x.pdf.json",
        Path("b/y.txt"): "y.json",
    }


def test_missing_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    code = main(["extract", str(tmp_path / "nope.docx"), "-o", str(tmp_path / "out"), "-q", "--no-report"])
    assert code == 1
    payload = json.loads((tmp_path / "out" / "nope.json").read_text(encoding="utf-8"))
    assert payload["errors"][0]["code"] == "not-found"
    assert not (tmp_path / "out" / "report").exists()
