"""Embedded objects and pictures in a DOCX body: embedded workbooks first, EMF previews second.

Word shows an embedded Excel table as an OLE object (``w:object`` → ``o:OLEObject r:id`` → a
``package`` part ``word/embeddings/*.xlsx`` or an ``oleObject`` part ``*.bin``) drawn through a
preview picture (``v:imagedata r:id`` → ``word/media/*.emf``). The workbook is the exact source:
its active sheet, limited to the displayed range (``<oleSize>``), becomes the table. The EMF
preview is read by ``zhibiao.readers.emf.tables_from_emf`` when that module is installed: as the
fallback when the workbook cannot be read, and as a cross-check of the cell texts.
"""

from __future__ import annotations

import importlib
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zhibiao.detect import CFB_MAGIC, detect_format
from zhibiao.errors import ReaderError
from zhibiao.model import Table
from zhibiao.readers.preference import preferred_source
from zhibiao.readers.workbook import workbook_blocks

W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
VML_NS = "{urn:schemas-microsoft-com:vml}"
OFFICE_NS = "{urn:schemas-microsoft-com:office:office}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
DRAWING_NS = "{http://schemas.openxmlformats.org/drawingml/2006/main}"

EMBED_TAGS = frozenset({f"{W_NS}object", f"{W_NS}pict", f"{W_NS}drawing"})
"""Run children that carry an embedded object or a picture."""
PICTURE_REFS = ((f"{VML_NS}imagedata", f"{REL_NS}id"), (f"{DRAWING_NS}blip", f"{REL_NS}embed"))
"""Elements naming a picture part, and their relationship-id attribute."""
AGREEMENT_THRESHOLD = 0.9
"""Share of the workbook's cell texts the EMF preview must show for the two to agree."""

PartReader = Callable[[str], "bytes | None"]
"""Reads a package part by name; ``None`` when the part is missing."""


@dataclass(frozen=True)
class Embed:
    """One object or picture of the body, with the package parts it points to."""

    preview: str | None = None
    """The picture shown on the page (``word/media/image1.emf``)."""
    package: str | None = None
    """The embedded object's part (``word/embeddings/Microsoft_Excel_Worksheet.xlsx``)."""
    prog_id: str | None = None
    linked: bool = False


@dataclass
class EmbedResult:
    """Tables read from one embed and the text lines printed around them, with any warnings."""

    tables: list[Table] = field(default_factory=list)
    lines_before: list[str] = field(default_factory=list)
    lines_after: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reader: str = "ole"


Resolver = Callable[[str], "tuple[str, bool] | None"]
"""Relationship id -> (part name, is external); ``None`` when the id is unknown."""


def embed_from_element(element: Any, resolve: Resolver) -> Embed | None:
    """The object/picture a ``w:object``, ``w:pict`` or ``w:drawing`` element shows (``None``: neither)."""
    preview = _first_target(element, PICTURE_REFS, resolve)
    ole = next(element.iter(f"{OFFICE_NS}OLEObject"), None)
    package, prog_id, linked = None, None, False
    if ole is not None:
        prog_id = ole.get("ProgID")
        linked = ole.get("Type") == "Link"
        target = resolve(ole.get(f"{REL_NS}id", ""))
        if target is not None:
            package, external = target
            linked = linked or external
            if external:
                package = None
    if preview is None and package is None and not linked:
        return None
    return Embed(preview=preview, package=package, prog_id=prog_id, linked=linked)


def _first_target(element: Any, attrs: tuple[tuple[str, str], ...], resolve: Resolver) -> str | None:
    for tag, attr in attrs:
        for node in element.iter(tag):
            target = resolve(node.get(attr, ""))
            if target is not None and not target[1]:
                return target[0]
    return None


def read_embed(embed: Embed, read_part: PartReader) -> EmbedResult:
    """Tables of one embed: its workbook (checked against the EMF preview), else the preview's tables."""
    if embed.package is not None and preferred_source() == "preview" and embed.preview is not None:
        return _fallback(embed, read_part, f"embedded object {embed.package} skipped (--prefer preview)")
    if embed.package is not None:
        return _read_object(embed, read_part)
    result = EmbedResult(reader="emf")
    what = "linked object" if embed.linked else "picture"
    if embed.preview is None:
        result.warnings.append(f"{what} ({embed.prog_id or 'no program id'}) has no embedded data; not read")
        return result
    tables, why = _preview_tables(embed.preview, read_part)
    if tables:
        result.tables = tables
    elif why:
        result.warnings.append(f"{what} {embed.preview} not read ({why})")
    return result


def _read_object(embed: Embed, read_part: PartReader) -> EmbedResult:
    part = embed.package or ""
    try:
        result = _workbook_result(part, read_part)
    except ReaderError as exc:
        return _fallback(embed, read_part, f"embedded object {part} unreadable: {exc}")
    if result is None:
        kind = embed.prog_id or "unknown program"
        return _fallback(embed, read_part, f"embedded object {part} ({kind}) holds no workbook")
    if embed.preview is not None:
        result.warnings.extend(_cross_check(result, embed.preview, read_part))
    return result


def _fallback(embed: Embed, read_part: PartReader, reason: str) -> EmbedResult:
    """The preview picture's tables where the embedded object gives none."""
    result = EmbedResult(reader="emf")
    if embed.preview is None:
        result.warnings.append(f"{reason}; no preview picture")
        return result
    tables, why = _preview_tables(embed.preview, read_part)
    if tables:
        result.tables = tables
        result.warnings.append(f"{reason}; table read from its preview {embed.preview}")
    else:
        result.warnings.append(f"{reason}; preview {embed.preview} not read ({why or 'no table found'})")
    return result


def _workbook_result(part: str, read_part: PartReader) -> EmbedResult | None:
    """The displayed sheet of an embedded workbook (xlsx package or a CFB holding one)."""
    data = read_part(part)
    if data is None:
        raise ReaderError(f"the package part {part} is missing", "corrupt")
    found = workbook_payload(data)
    if found is None:
        return None
    payload, kind = found
    reader = "ole-xlsx" if kind == "xlsx" else "ole-xls"
    blocks, warnings = workbook_blocks(payload, kind, reader, displayed_only=True)
    result = EmbedResult(reader=reader, warnings=[f"{part}: {w}" for w in warnings])
    for block in blocks:
        block.table.source = f"{part}#{block.table.sheet}"
        result.tables.append(block.table)
        result.lines_before.extend(block.lines_before)
        result.lines_after.extend(block.lines_after)
    return result


def workbook_payload(data: bytes) -> tuple[bytes, str] | None:
    """The workbook inside an embedded part and its kind (``xlsx``/``xls``), or ``None`` if it holds none.

    An ``.xlsx`` package is itself; a CFB ``.bin`` is an XLS when it has a ``Workbook``/``Book``
    stream, else its ``Package`` stream (an OOXML package) or ``\\x01Ole10Native`` payload is used.
    """
    kind = detect_format(data)
    if kind in ("xlsx", "xls"):
        return data, kind
    if kind == "encrypted":
        raise ReaderError("the embedded workbook is password-protected", "encrypted")
    if kind in ("corrupt-zip", "corrupt-cfb"):
        raise ReaderError("the embedded package is damaged (corrupt or truncated container)", "corrupt")
    if not data.startswith(CFB_MAGIC):
        return None
    for stream in _cfb_payload_streams(data):
        inner = detect_format(stream)
        if inner in ("xlsx", "xls"):
            return stream, inner
    return None


def _cfb_payload_streams(data: bytes) -> list[bytes]:
    """Candidate payloads of an OLE container: the ``Package`` stream, the Ole10Native data."""
    import olefile

    payloads: list[bytes] = []
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if ole.exists("Package"):
                payloads.append(ole.openstream("Package").read())
            if ole.exists("\x01Ole10Native"):
                payloads.extend(ole10_native_payloads(ole.openstream("\x01Ole10Native").read()))
    except Exception as exc:  # olefile raises many types for damaged containers
        raise ReaderError(f"corrupt OLE container ({type(exc).__name__}: {exc})", "corrupt") from exc
    return payloads


def ole10_native_payloads(stream: bytes) -> list[bytes]:
    """Data inside an ``\\x01Ole10Native`` stream: the packager file, else the raw bytes after the size."""
    if len(stream) < 4:
        return []
    (size,) = struct.unpack_from("<I", stream, 0)
    raw = stream[4 : 4 + size]
    packaged = _packager_data(stream)
    return [p for p in (packaged, raw) if p]


def _packager_data(stream: bytes) -> bytes | None:
    """The file of an OLE Packager stream (layout as oletools reads it).

    size (u32), type (u16), label, source path, two u32, temp path (NUL-terminated strings),
    data size (u32), data.
    """
    pos = 6
    for skip_after in (0, 8, 0):  # label, source path (+ two u32), temp path
        end = stream.find(b"\x00", pos)
        if end < 0:
            return None
        pos = end + 1 + skip_after
    if pos + 4 > len(stream):
        return None
    (data_len,) = struct.unpack_from("<I", stream, pos)
    pos += 4
    return stream[pos : pos + data_len] if pos + data_len <= len(stream) else None


# --------------------------------------------------------------------------- EMF previews


def emf_reader() -> Callable[[bytes], list[Table]] | None:
    """``zhibiao.readers.emf.tables_from_emf`` when that module is installed, else ``None``."""
    try:
        module = importlib.import_module("zhibiao.readers.emf")
    except ImportError:
        return None
    func = getattr(module, "tables_from_emf", None)
    return func if callable(func) else None


def _preview_tables(part: str, read_part: PartReader) -> tuple[list[Table], str | None]:
    """Tables of a preview picture and, when there are none, why."""
    tables, why = _emf_tables(part, read_part)
    if tables is None:
        return [], why
    for table in tables:
        table.reader = "emf"
        table.source = part
    return tables, None if tables else "no table found in its drawing records"


def _emf_tables(part: str, read_part: PartReader) -> tuple[list[Table] | None, str]:
    """Run the EMF reader on a picture part; ``None`` and the reason when it cannot be run or fails."""
    try:
        data = read_part(part)
    except ReaderError as exc:
        return None, f"unreadable part: {exc}"
    if data is None:
        return None, "the picture part is missing"
    tables_from_emf = emf_reader()
    if detect_format(data) != "emf" or tables_from_emf is None:
        return None, "needs OCR"
    try:
        return list(tables_from_emf(data)), ""
    except ReaderError as exc:
        return None, f"EMF unreadable: {exc}"
    except Exception as exc:  # a bug in the EMF reader must cost this picture, not the document
        return None, f"EMF reader failed ({type(exc).__name__}: {exc})"


def _cross_check(result: EmbedResult, preview: str, read_part: PartReader) -> list[str]:
    """Warn when the EMF preview does not show the workbook's cell texts."""
    emf_tables, why = _emf_tables(preview, read_part)
    if emf_tables is None:
        return [] if why in ("needs OCR", "the picture part is missing") else [f"{preview}: {why}"]
    emf_texts = {_norm(c.text) for t in emf_tables for c in t.cells} - {""}
    emf_texts |= {_norm(line) for line in (*result.lines_before, *result.lines_after)}
    book_texts = {_norm(c.text) for t in result.tables for c in t.cells} - {""}
    if not book_texts:
        return []
    missing = sorted(book_texts - emf_texts)
    agreement = 1 - len(missing) / len(book_texts)
    if agreement >= AGREEMENT_THRESHOLD:
        return []
    sources = ", ".join(t.source or "" for t in result.tables)
    examples = "; ".join(m[:20] for m in missing[:3])
    return [
        f"{sources}: the EMF preview {preview} shows only {agreement:.0%} of the workbook's cell texts "
        f"(missing e.g. {examples}); the workbook was used"
    ]


def _norm(text: str) -> str:
    return "".join(text.split())
