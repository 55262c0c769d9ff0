"""Format detection by content, not by extension."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from zhibiao.detect import detect_format


def _zip(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buf.getvalue()


def _emf_header() -> bytes:
    header = bytearray(88)
    struct.pack_into("<II", header, 0, 1, 88)
    header[40:44] = b" EMF"
    return bytes(header)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (_zip("word/document.xml", "[Content_Types].xml"), "docx"),
        (_zip("xl/workbook.xml"), "xlsx"),
        (_zip("other.txt"), "zip"),
        (b"PK\x03\x04garbage", "corrupt-zip"),
        (b"%PDF-1.7\n...", "pdf"),
        (_emf_header(), "emf"),
        (b"\xd7\xcd\xc6\x9a" + b"\0" * 30, "wmf"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 10, "png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 10, "jpeg"),
        (b"II*\x00" + b"\0" * 10, "tiff"),
        ("项目名称\t业务工作经费\n".encode(), "txt"),
        ("项目名称\t业务工作经费\n".encode("gb18030"), "txt"),
        (bytes(range(256)) * 4, "unknown"),
    ],
)
def test_detect_format(data: bytes, expected: str) -> None:
    assert detect_format(data) == expected
