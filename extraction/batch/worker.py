"""What a batch worker does with one file: extract, write the JSON atomically, report an Outcome.

Used by the local process pool (``zhibiao.batch.local``) and by the Ray actors
(``zhibiao.batch.ray_exec``). ``zhibiao.pipeline.extract`` never raises for a bad file; a file that
hangs or kills its worker process is caught by the executor (timeout, dead process) instead.

Test-only fault injection: ``ZHIBIAO_BATCH_FAULTS="name=action,..."`` makes the worker misbehave
on files whose base name is ``name`` — ``hang`` (sleep for an hour), ``exit`` (``os._exit(70)``),
``kill`` (SIGKILL itself), ``raise`` (a Python exception outside ``extract``), ``alloc`` (allocate
2 GiB, which the memory guard must stop). It lets the tests
prove that timeouts and dead workers are recorded and the batch goes on; it is read only from the
environment and does nothing when unset.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from zhibiao.batch.inputs import output_path
from zhibiao.batch.manifest import Outcome

FAULTS_ENV = "ZHIBIAO_BATCH_FAULTS"


@dataclass(frozen=True)
class Task:
    """One file to process (small and picklable: sent to worker processes and Ray actors)."""

    rel: str
    path: str
    sha256: str
    size: int = 0


@dataclass(frozen=True)
class WorkerSettings:
    """What every worker needs: where to write, how to extract, its memory ceiling."""

    out_dir: str
    ocr: bool = True
    ocr_engine: str = "rapidocr"
    prefer: str = "exact"
    max_bytes: int = 512 * 1024 * 1024
    max_memory_mb: int = 0
    """Data-segment limit of a worker process (``RLIMIT_DATA``: heap and private mappings); 0 = none."""
    threads: int = 0
    """OCR threads per worker (sets ``ZHIBIAO_OCR_THREADS`` unless set); 0 = the engine's default."""


def extract_options(settings: WorkerSettings):  # type: ignore[no-untyped-def]
    from zhibiao.pipeline import ExtractOptions

    return ExtractOptions(
        ocr=settings.ocr, ocr_engine=settings.ocr_engine, prefer=settings.prefer, max_bytes=settings.max_bytes
    )


def limit_memory(max_memory_mb: int) -> None:
    """Cap this process's heap, so a runaway file gets MemoryError instead of the OOM killer.

    ``RLIMIT_DATA`` (heap + private anonymous mappings) rather than ``RLIMIT_AS``: a Ray worker reserves
    gigabytes of address space it never touches, and shared mappings (Ray's object store) should not count.
    """
    if max_memory_mb <= 0 or sys.platform == "win32":
        return
    import resource

    limit = max_memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this worker when its parent (the batch driver) dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def warm_up(settings: WorkerSettings) -> None:
    """Load what every file needs once per worker: the pipeline modules and, with OCR on, the model."""
    if settings.threads:
        os.environ.setdefault("ZHIBIAO_OCR_THREADS", str(settings.threads))
    import zhibiao.checks
    import zhibiao.export.writers
    import zhibiao.pipeline
    import zhibiao.records.forms
    import zhibiao.records.narrative  # noqa: F401

    if settings.ocr:
        try:
            from zhibiao.ocr.engines import get_engine

            get_engine(settings.ocr_engine)
        except Exception:  # missing/broken OCR: each scan then carries the reason in its result
            pass


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def injected_fault(path: str) -> str | None:
    """The test-only fault configured for this file's base name, if any (see module docstring)."""
    spec = os.environ.get(FAULTS_ENV, "")
    name = Path(path).name
    for item in spec.split(","):
        key, _, action = item.partition("=")
        if key.strip() == name and action.strip():
            return action.strip()
    return None


def apply_fault(action: str) -> None:
    if action == "hang":
        time.sleep(3600)
    elif action == "exit":
        os._exit(70)
    elif action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "raise":
        raise RuntimeError("injected fault")
    elif action == "alloc":
        blob = bytearray(2 << 30)
        blob[-1] = 1


def count_records(result) -> int:  # type: ignore[no-untyped-def]
    return sum(len(p.indicators) for p in result.projects) + len(result.narrative_indicators)


def process_file(task: Task, settings: WorkerSettings) -> Outcome:
    """Extract one file and write ``OUT_DIR/<rel>.json`` atomically; never raises for a bad file."""
    from zhibiao.export.writers import write_json
    from zhibiao.pipeline import extract

    start = time.perf_counter()
    fault = injected_fault(task.path)
    if fault:
        apply_fault(fault)
    result = extract(Path(task.path), extract_options(settings))
    write_json(result, output_path(Path(settings.out_dir), task.rel))
    seconds = time.perf_counter() - start
    pages = result.source.pages
    if result.errors:
        err = result.errors[0]
        return Outcome(task.rel, "error", err.code, err.message, seconds, pages, 0, worker_name(), True)
    return Outcome(task.rel, "ok", None, None, seconds, pages, count_records(result), worker_name(), True)


def safe_process(task: Task, settings: WorkerSettings) -> Outcome:
    """``process_file`` with any escaping exception (e.g. an unwritable output) turned into an error."""
    start = time.perf_counter()
    try:
        return process_file(task, settings)
    except MemoryError:
        return failure(task, "too-large", "out of memory", time.perf_counter() - start)
    except Exception as exc:
        return failure(task, "worker-error", f"{type(exc).__name__}: {exc}", time.perf_counter() - start)


def failure(task: Task, code: str, reason: str, seconds: float, worker: str | None = None) -> Outcome:
    status = "timeout" if code == "timeout" else "error"
    return Outcome(task.rel, status, code, reason, seconds, None, 0, worker or worker_name())


def write_failure_json(task: Task, settings: WorkerSettings, outcome: Outcome) -> None:
    """A contract JSON for a file whose worker never returned (timeout, crash), so every input has one."""
    from zhibiao.export.writers import write_json
    from zhibiao.model import SourceInfo
    from zhibiao.result import ExtractionResult, ReadError

    source = SourceInfo(path=task.path, sha256=task.sha256, size=task.size)
    error = ReadError(code=outcome.code or "error", message=outcome.reason or "", stage="batch")
    write_json(ExtractionResult(source=source, errors=[error]), output_path(Path(settings.out_dir), task.rel))
