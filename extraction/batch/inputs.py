"""Batch inputs: a directory walked recursively, or a CSV / JSONL manifest of paths.

Every input gets a relative path (it names the output ``OUT_DIR/<rel>.json`` and keys the status
manifest) and a SHA-256 of its content (resume skips what is done for the same bytes and config).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MANIFEST_SUFFIXES = (".csv", ".jsonl")
HASH_CHUNK = 1 << 20


class InputError(ValueError):
    """The input directory or manifest cannot be used (missing, malformed, empty)."""


@dataclass(frozen=True)
class InputFile:
    """One batch input."""

    path: Path
    """Absolute path of the file."""
    rel: str
    """POSIX relative path: output ``OUT_DIR/<rel>.json`` and manifest key."""
    sha256: str
    """Content hash; empty when the file could not be read (``error`` says why)."""
    size: int = 0
    error: str | None = None


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks (flat memory for large files)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe(path: Path, rel: str) -> InputFile:
    """Hash one file; an unreadable file becomes an input with ``error`` set (never an exception)."""
    try:
        size = path.stat().st_size
        return InputFile(path=path, rel=rel, sha256=sha256_file(path), size=size)
    except OSError as exc:
        return InputFile(path=path, rel=rel, sha256="", error=f"cannot read: {exc.strerror or exc}")


def _is_hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def walk_dir(root: Path, exclude: Iterable[Path] = ()) -> Iterator[tuple[Path, str]]:
    """(path, rel) of every regular file under ``root``, sorted, skipping hidden names and ``exclude``.

    Symbolic links are not followed (an archive could point outside itself or loop).
    """
    root = root.resolve()
    skipped = [p.resolve() for p in exclude]
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in skipped
        )
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(root)
            if name.startswith(".") or _is_hidden(rel) or path.is_symlink() or not path.is_file():
                continue
            yield path, rel.as_posix()


def manifest_entries(manifest: Path) -> Iterator[tuple[str, str | None]]:
    """(path, rel or None) per line of a CSV (column ``path``, optional ``rel``) or JSONL manifest."""
    text = manifest.read_text(encoding="utf-8-sig")
    if manifest.suffix.lower() == ".jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{manifest}:{number}: not JSON: {exc}") from exc
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise InputError(f'{manifest}:{number}: expected {{"path": ...}}')
            yield entry["path"], entry.get("rel")
        return
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or "path" not in reader.fieldnames:
        raise InputError(f"{manifest}: a CSV manifest needs a 'path' column")
    for row in reader:
        if row.get("path"):
            yield row["path"], row.get("rel") or None


def default_rel(path: Path, base: Path) -> str:
    """The path relative to ``base`` when inside it, else the absolute path without its root."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return PurePosixPath(*path.parts[1:]).as_posix()


def safe_rel(rel: str) -> str:
    """Normalise a relative path and refuse one that would leave the output directory."""
    parts = [p for p in PurePosixPath(rel.replace("\\", "/")).parts if p not in ("", ".")]
    if not parts or parts[0] == "/" or ".." in parts:
        raise InputError(f"relative path {rel!r} is empty, absolute or leaves the output directory")
    return "/".join(parts)


def discover(source: Path, exclude: Iterable[Path] = ()) -> list[InputFile]:
    """The batch inputs named by ``source`` (a directory, or a ``.csv`` / ``.jsonl`` manifest).

    Manifest paths are relative to the manifest's folder; a path listed twice (same ``rel``) is kept once.
    """
    source = Path(source)
    if source.is_dir():
        pairs = sorted(walk_dir(source, exclude), key=lambda pair: pair[1])
    elif source.is_file() and source.suffix.lower() in MANIFEST_SUFFIXES:
        base = source.resolve().parent
        pairs = []
        for raw, rel in manifest_entries(source):
            path = (base / raw).resolve() if not Path(raw).is_absolute() else Path(raw)
            pairs.append((path, safe_rel(rel) if rel else default_rel(path, base)))
    else:
        raise InputError(f"{source}: not a directory or a .csv/.jsonl manifest")
    seen: set[str] = set()
    inputs = []
    for path, rel in pairs:
        if rel not in seen:
            seen.add(rel)
            inputs.append(describe(path, rel))
    return inputs


def output_path(out_dir: Path, rel: str) -> Path:
    """Where the document JSON of input ``rel`` goes: ``OUT_DIR/<rel>.json``."""
    return Path(out_dir) / f"{rel}.json"
