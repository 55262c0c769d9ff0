"""Identify a file by its bytes, never by its extension."""

from __future__ import annotations

import io
import struct
import zipfile

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def detect_format(data: bytes) -> str:
    """Return one of the formats in ``zhibiao.model.Format`` (or ``encrypted``/``empty``/``unknown``)."""
    if not data.strip():
        return "empty"
    head = data[:16]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    if head.startswith(CFB_MAGIC):
        return _cfb_kind(data)
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if _is_emf(data):
        return "emf"
    if head.startswith(b"\xd7\xcd\xc6\x9a") or _is_plain_wmf(data):
        return "wmf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"BM") and len(data) > 26:
        return "bmp"
    if _looks_like_text(data):
        return "txt"
    return "unknown"


def _zip_kind(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, EOFError, ValueError):
        return "corrupt-zip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return "zip"


def _cfb_kind(data: bytes) -> str:
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except Exception:  # olefile raises many exception types for damaged files
        return "corrupt-cfb"
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        return "encrypted"
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if "WordDocument" in streams:
        return "doc"
    return "cfb"


def _is_emf(data: bytes) -> bool:
    if len(data) < 88:
        return False
    record_type, _size = struct.unpack_from("<II", data, 0)
    return record_type == 1 and data[40:44] == b" EMF"


def _is_plain_wmf(data: bytes) -> bool:
    if len(data) < 18:
        return False
    file_type, header_words, version = struct.unpack_from("<HHH", data, 0)
    return file_type in (1, 2) and header_words == 9 and version in (0x0100, 0x0300)


def _looks_like_text(data: bytes) -> bool:
    sample = data[:65536]
    if b"\x00" in sample:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 4:  # allow a multibyte char cut at the sample's end
                continue
            text = sample[: exc.start].decode(encoding)
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        return printable >= 0.95 * max(len(text), 1)
    return False


def decode_text(data: bytes) -> str:
    """Decode a text dump: UTF-8 (with or without BOM), else GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")
