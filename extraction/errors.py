"""Errors with a stable code, so a batch can report why each file failed."""

from __future__ import annotations


class ZhibiaoError(Exception):
    """Base of the project's errors; ``code`` is a short stable identifier."""

    code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class ReaderError(ZhibiaoError):
    """A file (or a part of it) cannot be read: corrupt, encrypted, truncated, hostile, unsupported."""

    code = "unreadable"


class UnsafeInputError(ReaderError):
    """The file looks hostile: zip bomb, XML entity expansion, lying record sizes."""

    code = "unsafe"


class MissingDependencyError(ZhibiaoError):
    """An optional component needed for this file is not installed."""

    code = "missing-dependency"
