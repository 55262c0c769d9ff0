"""The batch status store: one SQLite row per input (WAL journal, synchronous=FULL).

A row is keyed by the input's relative path and holds the content hash and config hash it was
processed with, its status (``ok``, ``error``, ``timeout``, or ``running`` while in flight), the
reason of a failure, seconds and pages. Only the driver process writes it, so a killed worker
cannot corrupt it, and a killed driver loses at most the files that were in flight (SQLite commits
are atomic and durable), which a rerun redoes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = "batch.sqlite"
DONE = ("ok", "error", "timeout")
FAILED = ("error", "timeout")

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    rel TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    code TEXT,
    reason TEXT,
    seconds REAL,
    pages INTEGER,
    records INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL,
    source TEXT,
    config TEXT,
    executor TEXT,
    workers INTEGER,
    todo INTEGER,
    skipped INTEGER
);
"""


@dataclass(frozen=True)
class Outcome:
    """What happened to one input (sent back by a worker, stored as one manifest row)."""

    rel: str
    status: str
    """ok, error or timeout."""
    code: str | None = None
    reason: str | None = None
    seconds: float = 0.0
    pages: int | None = None
    records: int = 0
    worker: str | None = None
    written: bool = False
    """True when the worker wrote the document JSON (else the driver writes a failure JSON)."""


@dataclass(frozen=True)
class Row:
    """One manifest row as read back."""

    rel: str
    sha256: str
    config: str
    status: str
    code: str | None
    reason: str | None
    seconds: float | None
    pages: int | None
    records: int | None
    attempts: int
    worker: str | None


class Manifest:
    """The status store of one output directory (single writer: the batch driver)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def done(self, rel: str, sha256: str, config: str) -> bool:
        """True when ``rel`` already finished (ok, error or timeout) for these bytes and this config."""
        row = self.db.execute(
            "SELECT 1 FROM files WHERE rel=? AND sha256=? AND config=? AND status IN (?,?,?)",
            (rel, sha256, config, *DONE),
        ).fetchone()
        return row is not None

    def done_keys(self, statuses: tuple[str, ...] = DONE) -> set[tuple[str, str, str]]:
        """(rel, sha256, config) of every row with one of ``statuses`` (one query for a whole batch)."""
        marks = ",".join("?" * len(statuses))
        rows = self.db.execute(f"SELECT rel, sha256, config FROM files WHERE status IN ({marks})", statuses)
        return {tuple(r) for r in rows}  # type: ignore[misc]

    def start(self, rel: str, sha256: str, config: str) -> int:
        """Mark ``rel`` as in flight; return how many times it has been started (this one included)."""
        now = time.time()
        with self.db:
            self.db.execute(
                "INSERT INTO files (rel, sha256, config, status, attempts, updated) VALUES (?,?,?,?,1,?) "
                "ON CONFLICT(rel) DO UPDATE SET attempts = CASE WHEN sha256=excluded.sha256 "
                "AND config=excluded.config THEN attempts + 1 ELSE 1 END, sha256=excluded.sha256, "
                "config=excluded.config, status='running', code=NULL, reason=NULL, updated=excluded.updated",
                (rel, sha256, config, "running", now),
            )
        return int(self.db.execute("SELECT attempts FROM files WHERE rel=?", (rel,)).fetchone()[0])

    def record(self, outcome: Outcome, sha256: str, config: str) -> None:
        """Store the final status of one input (one durable commit)."""
        with self.db:
            self.db.execute(
                "INSERT INTO files (rel, sha256, config, status, code, reason, seconds, pages, records, "
                "attempts, worker, updated) VALUES (?,?,?,?,?,?,?,?,?,1,?,?) ON CONFLICT(rel) DO UPDATE SET "
                "sha256=excluded.sha256, config=excluded.config, status=excluded.status, code=excluded.code, "
                "reason=excluded.reason, seconds=excluded.seconds, pages=excluded.pages, "
                "records=excluded.records, worker=excluded.worker, updated=excluded.updated",
                (
                    outcome.rel,
                    sha256,
                    config,
                    outcome.status,
                    outcome.code,
                    outcome.reason,
                    round(outcome.seconds, 4),
                    outcome.pages,
                    outcome.records,
                    outcome.worker,
                    time.time(),
                ),
            )

    def begin_run(self, **fields: object) -> int:
        names = ["started", *fields]
        with self.db:
            cur = self.db.execute(
                f"INSERT INTO runs ({','.join(names)}) VALUES ({','.join('?' * len(names))})",
                (time.time(), *fields.values()),
            )
        return int(cur.lastrowid or 0)

    def end_run(self, run_id: int) -> None:
        with self.db:
            self.db.execute("UPDATE runs SET finished=? WHERE id=?", (time.time(), run_id))

    def rows(self, statuses: tuple[str, ...] | None = None) -> Iterator[Row]:
        """Rows ordered by relative path, optionally only those with one of ``statuses``."""
        query = "SELECT rel, sha256, config, status, code, reason, seconds, pages, records, attempts, worker "
        query += "FROM files"
        args: tuple[str, ...] = ()
        if statuses:
            query += f" WHERE status IN ({','.join('?' * len(statuses))})"
            args = statuses
        for values in self.db.execute(query + " ORDER BY rel", args):
            yield Row(*values)

    def counts(self) -> dict[str, int]:
        """Number of rows per status."""
        return dict(self.db.execute("SELECT status, COUNT(*) FROM files GROUP BY status").fetchall())


def manifest_path(out_dir: Path) -> Path:
    return Path(out_dir) / MANIFEST_NAME
