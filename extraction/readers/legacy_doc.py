"""Legacy Word ``.doc`` (binary, OLE compound file): converted to DOCX by LibreOffice, then read as DOCX.

LibreOffice is an optional system component (``apt install libreoffice-writer-nogui``); without it a
``.doc`` file gets a clear ``missing-dependency`` error naming it, and the rest of a batch goes on.
The conversion runs headless with a private profile (so parallel workers do not share a lock), in a
temporary directory, with a time limit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from zhibiao.errors import MissingDependencyError, ReaderError
from zhibiao.model import Document
from zhibiao.readers import docx

OFFICE_PROGRAMS = ("soffice", "libreoffice")
CONVERT_TIMEOUT_S = 120.0


def office_program() -> str | None:
    """Path of the LibreOffice executable (``$ZHIBIAO_SOFFICE`` first), or None."""
    configured = os.environ.get("ZHIBIAO_SOFFICE")
    if configured:
        return configured if Path(configured).is_file() else None
    return next((found for name in OFFICE_PROGRAMS if (found := shutil.which(name))), None)


def convert_to_docx(data: bytes, program: str, timeout: float = CONVERT_TIMEOUT_S) -> bytes:
    """The DOCX LibreOffice makes of a ``.doc`` (``ReaderError`` when it fails or times out)."""
    with tempfile.TemporaryDirectory(prefix="zhibiao-doc-") as tmp:
        work = Path(tmp)
        source = work / "input.doc"
        source.write_bytes(data)
        command = [
            program,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ReaderError(
                f"LibreOffice did not convert the .doc within {timeout:.0f} s", "timeout"
            ) from exc
        except OSError as exc:
            raise MissingDependencyError(f"cannot run LibreOffice ({program}): {exc}") from exc
        converted = work / "out" / "input.docx"
        if done.returncode != 0 or not converted.is_file():
            detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-300:]
            raise ReaderError(
                f"LibreOffice could not convert this .doc (exit {done.returncode}): {detail}", "corrupt"
            )
        return converted.read_bytes()


def read(data: bytes, path: Path) -> Document:
    """Read a ``.doc`` through LibreOffice's DOCX conversion."""
    program = office_program()
    if program is None:
        raise MissingDependencyError(
            "legacy Word .doc files need LibreOffice to be converted (install it, e.g. "
            "`apt install libreoffice-writer-nogui`, or set ZHIBIAO_SOFFICE to soffice's path); "
            "save the file as .docx to read it without LibreOffice"
        )
    doc = docx.read(convert_to_docx(data, program), path)
    doc.warnings.insert(0, "legacy .doc converted to DOCX by LibreOffice; cell geometry is the converter's")
    return doc
