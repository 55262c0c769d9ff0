"""Batch progress: a live rich bar (files/s, ETA, failures) or one JSON line per event (``--json-log``)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from typing import IO, Any, Protocol

from zhibiao.batch.manifest import Outcome


class Reporter(Protocol):
    """Receives the batch's events from the driver."""

    def start(self, total: int, todo: int, skipped: int) -> None: ...

    def file_done(self, outcome: Outcome) -> None: ...

    def message(self, text: str) -> None: ...

    def finish(self, summary: dict[str, Any]) -> None: ...


class Silent:
    """No output (library use, tests)."""

    def start(self, total: int, todo: int, skipped: int) -> None:
        pass

    def file_done(self, outcome: Outcome) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def finish(self, summary: dict[str, Any]) -> None:
        pass


class JsonLog:
    """One JSON object per line and event (``start``, ``file``, ``message``, ``finish``), flushed at once."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.done = 0
        self.failures = 0
        self.todo = 0
        self.began = time.monotonic()

    def _emit(self, event: str, **fields: Any) -> None:
        line = {"event": event, "time": round(time.time(), 3), **fields}
        self.stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.stream.flush()

    def start(self, total: int, todo: int, skipped: int) -> None:
        self.todo, self.began = todo, time.monotonic()
        self._emit("start", total=total, todo=todo, skipped=skipped)

    def file_done(self, outcome: Outcome) -> None:
        self.done += 1
        self.failures += outcome.status != "ok"
        elapsed = max(time.monotonic() - self.began, 1e-9)
        rate = self.done / elapsed
        eta = (self.todo - self.done) / rate if rate else None
        self._emit(
            "file",
            **asdict(outcome),
            done=self.done,
            todo=self.todo,
            failures=self.failures,
            files_per_s=round(rate, 3),
            eta_s=round(eta, 1) if eta is not None else None,
        )

    def message(self, text: str) -> None:
        self._emit("message", text=text)

    def finish(self, summary: dict[str, Any]) -> None:
        self._emit("finish", **summary)


class RichBar:
    """A live progress bar on stderr: done/total, files/s, ETA, failures (plain lines when not a TTY)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.progress: Any = None
        self.task: Any = None
        self.failures = 0

    def start(self, total: int, todo: int, skipped: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        if skipped and not self.quiet:
            print(
                f"{skipped} of {total} files already done (same content and settings): skipped",
                file=sys.stderr,
            )
        self.progress = Progress(
            TextColumn("[bold]batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} files/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("[red]{task.fields[failures]} failed"),
            disable=self.quiet or not sys.stderr.isatty(),
        )
        self.progress.start()
        self.task = self.progress.add_task("batch", total=todo, rate="-", failures=0)

    def file_done(self, outcome: Outcome) -> None:
        if outcome.status != "ok":
            self.failures += 1
            if not self.quiet:
                self.progress.console.print(
                    f"[red]✗[/red] {outcome.rel}: {outcome.status} {outcome.code}: {outcome.reason}",
                    highlight=False,
                    soft_wrap=True,
                )
        self.progress.advance(self.task)
        speed = self.progress.tasks[0].speed
        self.progress.update(self.task, rate=f"{speed:.2f}" if speed else "-", failures=self.failures)

    def message(self, text: str) -> None:
        if not self.quiet:
            (self.progress.console.print if self.progress else print)(text)

    def finish(self, summary: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress.stop()
        if not self.quiet:
            print(
                f"{summary['ok']} ok, {summary['error']} errors, {summary['timeout']} timeouts "
                f"({summary['processed']} processed, {summary['skipped']} skipped) "
                f"in {summary['seconds']:.1f} s; "
                f"{summary['files_per_s']:.2f} files/s, {summary['pages_per_s']:.2f} pages/s",
                file=sys.stderr,
            )
