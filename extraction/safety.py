"""Guards for untrusted containers: bounded zip archives and defused XML."""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from zhibiao.errors import ReaderError, UnsafeInputError

MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_RATIO = 200
MAX_MEMBERS = 20_000


def open_zip(data: bytes) -> zipfile.ZipFile:
    """Open a zip package after checking it cannot expand beyond sane bounds."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise ReaderError(f"corrupt or truncated zip package: {exc}", "corrupt") from exc
    if len(infos) > MAX_MEMBERS:
        raise UnsafeInputError(f"zip package has {len(infos)} members (limit {MAX_MEMBERS})")
    if any(info.flag_bits & 0x1 for info in infos):
        raise ReaderError("package is encrypted", "encrypted")
    total = 0
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or (info.file_size > 10_000_000 and ratio > MAX_RATIO):
            raise UnsafeInputError(
                f"zip member {info.filename!r} expands to {info.file_size} bytes "
                f"(ratio {ratio:.0f}): refusing a possible zip bomb"
            )
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise UnsafeInputError(f"zip package expands to {total} bytes: refusing a possible zip bomb")
    return archive


def read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """Read one member, stopping at its declared size (a lying header cannot make it grow)."""
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise ReaderError(f"package has no part {name!r}", "corrupt") from exc
    try:
        with archive.open(info) as handle:
            data = handle.read(info.file_size + 1)
    except NotImplementedError as exc:
        message = f"zip member {name!r} uses an unsupported compression: {exc}"
        raise ReaderError(message, "unsupported") from exc
    except RuntimeError as exc:  # zipfile raises RuntimeError for encrypted members
        raise ReaderError(f"zip member {name!r} is encrypted", "encrypted") from exc
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
        raise ReaderError(f"corrupt zip member {name!r}: {exc}", "corrupt") from exc
    if len(data) > info.file_size:
        raise UnsafeInputError(f"zip member {name!r} is larger than its header says")
    return data


def parse_xml(data: bytes) -> Any:
    """Parse untrusted XML with entity expansion and external references forbidden."""
    try:
        return SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise UnsafeInputError(f"XML with forbidden constructs (entities/DTD): {exc}") from exc
    except SafeET.ParseError as exc:
        raise ReaderError(f"malformed XML: {exc}", "corrupt") from exc
