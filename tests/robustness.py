"""A generated batch for ``zhibiao batch``: dev-corpus copies mixed with corrupt and hostile files.

``build_suite(root, copies)`` writes the files and returns what each one is expected to give
(``ok`` or ``error``). Hostile files are made in code here (nothing is committed); dev-corpus
files are copied from the read-only shared corpus (exact renditions: docx, xlsx, txt, emf, pdf).
"""

from __future__ import annotations

import io
import os
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fixtures.office.builders import (
    cfb_bytes,
    docx_bytes,
    para,
    replace_member,
    streamed_zeros_zip,
    with_entity_bomb,
    zip_bomb,
)

from conftest import DEV

DOC0, DOC1, DOC3 = "000_c9021f7b19f56ffc", "001_def97523c2bc9572", "003_4840a7d78a699b0b"
DIGITAL = [
    f"{DOC0}.docx",
    f"{DOC0}.xlsx",
    f"{DOC0}.txt",
    f"{DOC0}.pdf",
    f"{DOC0}_ole.docx",
    f"{DOC0}_emf/table1.emf",
    f"{DOC1}.docx",
    f"{DOC1}.txt",
    f"{DOC3}.docx",
    f"{DOC3}.xlsx",
    f"{DOC3}_emf/table2.emf",
    f"{DOC3}_emf/table5.emf",
]
"""Dev renditions that read fast (< 0.4 s each); the 33-page PDF is added once, not per copy."""
SCANS = [f"{DOC0}_scan/page3.png", f"{DOC1}_scan/page6.png"]

MAX_FILE_MB = 4
"""The ``--max-file-mb`` the suite is run with, so that ``oversized.pdf`` is refused by size."""


@dataclass(frozen=True)
class Expected:
    status: str
    """ok or error."""
    why: str


def _dev(name: str) -> bytes:
    return (DEV / name).read_bytes()


def _cut(name: str, fraction: float) -> Callable[[], bytes]:
    return lambda: _dev(name)[: int(len(_dev(name)) * fraction)]


def encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def encrypted_xlsx() -> bytes:
    """What Excel writes for a password-protected workbook: an OLE file with the encrypted package."""
    return cfb_bytes(
        {"EncryptionInfo": b"\x04\x00\x04\x00" + b"\x00" * 4092, "EncryptedPackage": os.urandom(8192)}
    )


def billion_laughs_docx() -> bytes:
    return replace_member(docx_bytes(para("正文")), "word/document.xml", with_entity_bomb)


def lying_emf() -> bytes:
    """A dev EMF whose second record claims to be 2 GiB long."""
    data = bytearray(_dev(f"{DOC0}_emf/table1.emf"))
    header_size = struct.unpack_from("<I", data, 4)[0]
    struct.pack_into("<I", data, header_size + 4, 0x7FFFFFF0)
    return bytes(data)


def corrupt_zip() -> bytes:
    data = bytearray(_dev(f"{DOC0}.docx"))
    for offset in range(200, len(data), 997):  # damage the deflate streams, keep the headers
        data[offset] ^= 0xFF
    return bytes(data)


HOSTILE: dict[str, tuple[Callable[[], bytes], Expected]] = {
    "empty.pdf": (lambda: b"", Expected("error", "empty file")),
    "empty.docx": (lambda: b"", Expected("error", "empty file")),
    "corrupt.docx": (corrupt_zip, Expected("error", "flipped bytes in every zip member")),
    "not_a_zip.xlsx": (lambda: b"PK\x03\x04" + os.urandom(3000), Expected("error", "zip magic then noise")),
    "garbage.pdf": (lambda: b"%PDF-1.7\n" + os.urandom(5000), Expected("error", "PDF magic then noise")),
    "random.bin": (lambda: os.urandom(4096), Expected("error", "unknown format")),
    "encrypted.pdf": (encrypted_pdf, Expected("error", "user password")),
    "encrypted.xlsx": (encrypted_xlsx, Expected("error", "encrypted Office package")),
    "zip_bomb.docx": (zip_bomb, Expected("error", "member claims 1 GiB")),
    "zeros_bomb.xlsx": (
        lambda: streamed_zeros_zip("xl/workbook.xml", 210 << 20),
        Expected("error", "a real 210 MiB member"),
    ),
    "billion_laughs.docx": (billion_laughs_docx, Expected("error", "XML entity expansion")),
    "lying_records.emf": (lying_emf, Expected("error", "EMF record size beyond the file")),
    "oversized.pdf": (
        lambda: b"%PDF-1.4\n" + b"0" * ((MAX_FILE_MB << 20) + 1),
        Expected("error", "over size limit"),
    ),
    "pdf_named.docx": (lambda: _dev(f"{DOC0}.pdf"), Expected("ok", "mislabelled: a PDF")),
    "docx_named.xlsx": (lambda: _dev(f"{DOC0}.docx"), Expected("ok", "mislabelled: a DOCX")),
    "xlsx_named.pdf": (lambda: _dev(f"{DOC0}.xlsx"), Expected("ok", "mislabelled: an XLSX")),
    "emf_named.txt": (lambda: _dev(f"{DOC0}_emf/table1.emf"), Expected("ok", "mislabelled: an EMF")),
}
for _name in (f"{DOC0}.docx", f"{DOC3}.xlsx", f"{DOC0}.pdf", f"{DOC0}_emf/table1.emf"):
    for _fraction in (0.1, 0.5, 0.9):
        _stem, _suffix = Path(_name).stem, Path(_name).suffix
        HOSTILE[f"truncated_{int(_fraction * 100)}_{_stem}{_suffix}"] = (
            _cut(_name, _fraction),
            Expected("error", f"cut at {_fraction:.0%}"),
        )


def build_suite(root: Path, copies: int = 8, scans: bool = False) -> dict[str, Expected]:
    """Write the suite under ``root``; return rel path -> expected status. Needs the dev corpus."""
    expected: dict[str, Expected] = {}
    for name, (make, outcome) in HOSTILE.items():
        path = root / "hostile" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())
        expected[f"hostile/{name}"] = outcome
    for copy in range(copies):
        for name in DIGITAL:
            rel = f"copy{copy:02d}/{name}"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(DEV / name, root / rel)
            expected[rel] = Expected("ok", "dev corpus copy")
    long_pdf = f"{DOC3}.pdf"
    shutil.copyfile(DEV / long_pdf, root / long_pdf)
    expected[long_pdf] = Expected("ok", "33-page text PDF")
    if scans:
        for name in SCANS:
            (root / "scans" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(DEV / name, root / "scans" / name)
            expected[f"scans/{name}"] = Expected("ok", "scan (OCR)")
    return expected


def copy_dev_files(root: Path, names: list[str], copies: int = 1) -> set[str]:
    """``copies`` copies of dev-corpus files under ``root/c<copy>/``; their relative paths."""
    rels = set()
    for copy in range(copies):
        for name in names:
            rel = f"c{copy}/{name}"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(DEV / name, root / rel)
            rels.add(rel)
    return rels
