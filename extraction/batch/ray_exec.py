"""Ray executor: the same job on a Ray cluster, one actor per CPU that loads the models once.

Actors read the inputs and write each document JSON atomically into OUT_DIR, so on a multi-node
cluster inputs and OUT_DIR must be on storage every node sees at the same path (NFS, a shared
mount). The driver alone writes the status manifest, with the same resume rules as the local
executor; it kills an actor whose file runs past the timeout and replaces an actor that died, and
records both files as failed. Plain actors beat Ray Data for this job on small clusters (one file
is one task; results are tiny because the JSON goes straight to storage).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from zhibiao.batch.local import ExecutorError, SlotPool
from zhibiao.batch.manifest import Outcome
from zhibiao.batch.worker import Task, WorkerSettings, failure, limit_memory, safe_process, warm_up

MAX_START_FAILURES = 5


class ExtractActor:
    """A Ray actor process: memory ceiling and models set up once, then one file per ``run`` call."""

    def __init__(self, settings: WorkerSettings) -> None:
        limit_memory(settings.max_memory_mb)
        warm_up(settings)
        self.settings = settings

    def name(self) -> str:
        import ray

        return f"{ray.get_runtime_context().get_node_id()[:12]}:{os.getpid()}"

    def run(self, task: Task) -> Outcome:
        outcome = safe_process(task, self.settings)
        return Outcome(**{**outcome.__dict__, "worker": self.name()})


@dataclass
class ActorSlot:
    actor: Any
    ready_ref: Any = None
    name: str = "?"
    task: Task | None = None
    ref: Any = None
    started: float = 0.0
    deadline: float = float("inf")


def connect(address: str | None, workers: int | None) -> bool:
    """Join the cluster at ``address`` or start a local Ray on 127.0.0.1; True when this call started it."""
    import ray

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=workers, _node_ip_address="127.0.0.1", **kwargs)
    return True


class RayPool(SlotPool):
    """Schedules tasks on actors; each task gets exactly one ``on_result`` call."""

    def __init__(self, settings: WorkerSettings, workers: int, timeout: float | None) -> None:
        import ray

        self.ray = ray
        self.settings, self.workers, self.timeout = settings, workers, timeout
        self.actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(ExtractActor)
        self.slots: list[ActorSlot] = []
        self.start_failures = 0

    def _spawn(self) -> ActorSlot:
        actor = self.actor_class.remote(self.settings)
        return ActorSlot(actor, ready_ref=actor.name.remote())

    def _replace(self, slot: ActorSlot) -> None:
        self.ray.kill(slot.actor, no_restart=True)
        self.slots[self.slots.index(slot)] = self._spawn()

    def shutdown(self) -> None:
        for slot in self.slots:
            self.ray.kill(slot.actor, no_restart=True)

    def _dispatch(self, queue: deque[Task], on_start: Callable[[Task], None]) -> None:
        for slot in self.slots:
            if slot.ready_ref is None and slot.task is None and queue:
                task = queue.popleft()
                on_start(task)
                slot.task, slot.ref, slot.started = task, slot.actor.run.remote(task), time.monotonic()
                slot.deadline = slot.started + self.timeout if self.timeout else float("inf")

    def _collect(self, on_result: Callable[[Task, Outcome], None]) -> None:
        refs = [s.ready_ref or s.ref for s in self.slots if s.ready_ref or s.ref]
        deadline = min(s.deadline for s in self.slots)
        wait_s = None if deadline == float("inf") else max(0.0, deadline - time.monotonic())
        done, _ = self.ray.wait(refs, num_returns=1, timeout=wait_s)
        for slot in list(self.slots):
            if slot.ready_ref is not None and slot.ready_ref in done:
                self._ready(slot)
            elif slot.ref is not None and slot.ref in done:
                self._finished(slot, on_result)
            elif slot.task is not None and time.monotonic() >= slot.deadline:
                task, seconds, name = slot.task, time.monotonic() - slot.started, slot.name
                self._replace(slot)
                reason = f"no result after {seconds:.0f} s (actor killed)"
                on_result(task, failure(task, "timeout", reason, seconds, name))

    def _ready(self, slot: ActorSlot) -> None:
        try:
            slot.name = self.ray.get(slot.ready_ref)
            slot.ready_ref = None
        except self.ray.exceptions.RayError as exc:
            self.start_failures += 1
            if self.start_failures >= MAX_START_FAILURES:
                raise ExecutorError(f"Ray actors keep dying at start-up: {exc}") from exc
            self._replace(slot)

    def _finished(self, slot: ActorSlot, on_result: Callable[[Task, Outcome], None]) -> None:
        task, seconds = slot.task, time.monotonic() - slot.started
        assert task is not None
        try:
            outcome = self.ray.get(slot.ref)
        except self.ray.exceptions.RayActorError as exc:
            self._replace(slot)
            reason = f"the Ray actor died ({type(exc).__name__})"
            on_result(task, failure(task, "crashed", reason, seconds, slot.name))
            return
        except self.ray.exceptions.RayError as exc:
            outcome = failure(task, "worker-error", f"{type(exc).__name__}: {exc}"[:500], seconds, slot.name)
        slot.task, slot.ref, slot.deadline = None, None, float("inf")
        on_result(task, outcome)


def run_ray(
    tasks: Iterable[Task],
    settings: WorkerSettings,
    on_result: Callable[[Task, Outcome], None],
    on_start: Callable[[Task], None] = lambda task: None,
    workers: int | None = None,
    timeout: float | None = None,
    address: str | None = None,
) -> None:
    """Process ``tasks`` on Ray actors (``workers`` of them; default: the cluster's CPUs)."""
    try:
        import ray
    except ImportError as exc:
        raise ExecutorError("the Ray executor needs Ray: pip install 'ray>=2.40'") from exc
    started_here = connect(address, workers)
    try:
        count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        RayPool(settings, count, timeout).run(tasks, on_result, on_start)
    finally:
        if started_here:
            ray.shutdown()
