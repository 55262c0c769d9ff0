"""Local executor: a pool of long-lived worker processes, one file in flight per worker.

Each worker loads the models once (``worker.warm_up``), then takes files one at a time over its own
pipe. The driver knows which file every worker holds, so

- a file over its time limit gets its worker SIGKILLed and is recorded as ``timeout``;
- a worker that dies (segfault, SIGKILL, ``os._exit``, the OOM killer) is recorded as an ``error``
  for the file it held;

and in both cases a fresh worker takes its place and the batch goes on.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from zhibiao.batch.manifest import Outcome
from zhibiao.batch.worker import (
    Task,
    WorkerSettings,
    die_with_parent,
    failure,
    limit_memory,
    safe_process,
    warm_up,
)

MAX_START_FAILURES = 5
"""Workers that may die before taking a file (e.g. models that cannot load) before the batch stops."""


class ExecutorError(RuntimeError):
    """The executor cannot go on (workers keep dying at start-up, Ray cannot connect...)."""


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def worker_main(conn: Connection, settings: WorkerSettings) -> None:
    """Worker process: set limits, warm up, then process tasks until told to stop or the driver goes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    die_with_parent()
    limit_memory(settings.max_memory_mb)
    warm_up(settings)
    conn.send("ready")
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(safe_process(task, settings))


@dataclass
class Slot:
    """One worker process and the file it holds."""

    process: BaseProcess
    conn: Connection
    ready: bool = False
    task: Task | None = None
    deadline: float = float("inf")
    started: float = 0.0


def _name(slot: Slot) -> str:
    return f"{socket.gethostname()}:{slot.process.pid}"


class SlotPool:
    """The driver loop both executors share: ``workers`` slots, one task in flight per slot.

    A subclass gives ``_spawn`` (a new slot), ``_dispatch`` (hand queued tasks to idle slots),
    ``_collect`` (results, timeouts, dead workers -> ``on_result``) and ``shutdown``.
    """

    workers: int
    slots: list

    def run(
        self,
        tasks: Iterable[Task],
        on_result: Callable[[Task, Outcome], None],
        on_start: Callable[[Task], None] = lambda task: None,
    ) -> None:
        """Process every task; each gets exactly one ``on_result`` call (ok, error or timeout)."""
        queue = deque(tasks)
        self.slots = [self._spawn() for _ in range(max(1, min(self.workers, len(queue))))]
        try:
            while queue or any(s.task for s in self.slots):
                self._dispatch(queue, on_start)
                self._collect(on_result)
        finally:
            self.shutdown()

    def _spawn(self) -> Any:
        raise NotImplementedError

    def _dispatch(self, queue: deque[Task], on_start: Callable[[Task], None]) -> None:
        raise NotImplementedError

    def _collect(self, on_result: Callable[[Task, Outcome], None]) -> None:
        raise NotImplementedError

    def shutdown(self) -> None:
        raise NotImplementedError


@dataclass
class LocalPool(SlotPool):
    """Runs tasks on ``workers`` processes; calls ``on_start`` / ``on_result`` in the driver."""

    settings: WorkerSettings
    workers: int
    timeout: float | None = None
    context: str = "spawn"
    slots: list[Slot] = field(default_factory=list)
    start_failures: int = 0

    def _spawn(self) -> Slot:
        ctx = mp.get_context(self.context)
        parent, child = ctx.Pipe()
        process = ctx.Process(target=worker_main, args=(child, self.settings), daemon=True)
        process.start()
        child.close()
        return Slot(process, parent)

    def _replace(self, slot: Slot) -> None:
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join(5)
        slot.conn.close()
        self.slots[self.slots.index(slot)] = self._spawn()

    def _dispatch(self, queue: deque[Task], on_start: Callable[[Task], None]) -> None:
        for slot in self.slots:
            if slot.ready and slot.task is None and queue:
                task = queue.popleft()
                on_start(task)
                slot.task, slot.started = task, time.monotonic()
                slot.deadline = slot.started + self.timeout if self.timeout else float("inf")
                with contextlib.suppress(BrokenPipeError, OSError):  # a dead worker is noticed by _collect
                    slot.conn.send(task)

    def _collect(self, on_result: Callable[[Task, Outcome], None]) -> None:
        waitables = [s.conn for s in self.slots] + [s.process.sentinel for s in self.slots]
        deadline = min(s.deadline for s in self.slots)
        wait(waitables, timeout=None if deadline == float("inf") else max(0.0, deadline - time.monotonic()))
        for slot in list(self.slots):
            self._check(slot, on_result)

    def _check(self, slot: Slot, on_result: Callable[[Task, Outcome], None]) -> None:
        message = self._receive(slot)
        if message == "ready":
            slot.ready = True
        elif isinstance(message, Outcome) and slot.task is not None:
            task, slot.task, slot.deadline = slot.task, None, float("inf")
            on_result(task, message)
        elif not slot.process.is_alive():
            self._dead(slot, on_result)
        elif slot.task is not None and time.monotonic() >= slot.deadline:
            task, seconds, name = slot.task, time.monotonic() - slot.started, _name(slot)
            self._replace(slot)
            reason = f"no result after {seconds:.0f} s (worker killed)"
            on_result(task, failure(task, "timeout", reason, seconds, name))

    @staticmethod
    def _receive(slot: Slot) -> object:
        try:
            return slot.conn.recv() if slot.conn.poll() else None
        except (EOFError, OSError):
            return None

    def _dead(self, slot: Slot, on_result: Callable[[Task, Outcome], None]) -> None:
        code = slot.process.exitcode
        how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        task, was_ready, name = slot.task, slot.ready, _name(slot)
        self._replace(slot)
        if task is None:
            if was_ready:
                return
            self.start_failures += 1
            if self.start_failures >= MAX_START_FAILURES:
                raise ExecutorError(f"workers keep dying before taking a file (last: {how})")
            return
        seconds = time.monotonic() - slot.started
        on_result(task, failure(task, "crashed", f"the worker process died ({how})", seconds, name))

    def shutdown(self) -> None:
        """Stop every worker (politely, then by force)."""
        for slot in self.slots:
            with contextlib.suppress(BrokenPipeError, OSError):
                slot.conn.send(None)
        for slot in self.slots:
            slot.process.join(2)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(2)
            slot.conn.close()
        self.slots = []


def run_local(
    tasks: Iterable[Task],
    settings: WorkerSettings,
    on_result: Callable[[Task, Outcome], None],
    on_start: Callable[[Task], None] = lambda task: None,
    workers: int | None = None,
    timeout: float | None = None,
) -> None:
    """Process ``tasks`` on a local pool of ``workers`` processes (default: one per core)."""
    LocalPool(settings, workers or default_workers(), timeout).run(tasks, on_result, on_start)
