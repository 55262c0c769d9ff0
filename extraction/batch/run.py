"""The batch driver: inputs -> skip what is done -> executor -> manifest rows -> aggregates.

The driver is the only writer of the status manifest. Workers write each document JSON atomically
(temp file + rename) *before* the driver records the file as done, so after a crash of anything a
rerun finds every finished file in the manifest and redoes only the rest (re-writing a JSON that a
killed run had already written is harmless: the rename replaces it whole).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zhibiao import __version__
from zhibiao.batch.inputs import InputFile, discover
from zhibiao.batch.local import default_workers
from zhibiao.batch.manifest import FAILED, Manifest, Outcome, manifest_path
from zhibiao.batch.progress import Reporter, Silent
from zhibiao.batch.worker import Task, WorkerSettings, failure, write_failure_json

MAX_ATTEMPTS = 3
"""A file found in flight this many times (the whole batch died while it ran) is given up as an error."""


@dataclass(frozen=True)
class BatchOptions:
    """Settings of one ``zhibiao batch`` run."""

    workers: int | None = None
    executor: str = "local"
    ray_address: str | None = None
    timeout: float | None = 600.0
    max_memory_mb: int = 4096
    ocr: bool = True
    ocr_engine: str = "rapidocr"
    prefer: str = "exact"
    max_bytes: int = 512 * 1024 * 1024
    retry_failed: bool = False
    collect: bool = True


@dataclass
class BatchSummary:
    total: int = 0
    skipped: int = 0
    processed: int = 0
    ok: int = 0
    error: int = 0
    timeout: int = 0
    pages: int = 0
    seconds: float = 0.0
    files_per_s: float = 0.0
    pages_per_s: float = 0.0
    records: int | None = None
    collect_seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    """Manifest rows per status after the run (all inputs ever seen in OUT_DIR, this run's included)."""
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failed"] = data["failed"][:50]
        return data


def config_hash(options: BatchOptions) -> str:
    """Hash of the ``ExtractOptions`` fields plus the zhibiao version: what changes a document's JSON.

    Workers, timeouts and the executor do not enter it (they never change a successful result).
    """
    from zhibiao.pipeline import ExtractOptions

    extract_options = ExtractOptions(
        ocr=options.ocr, ocr_engine=options.ocr_engine, max_bytes=options.max_bytes, prefer=options.prefer
    )
    settings = {"zhibiao": __version__, **asdict(extract_options)}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def threads_per_worker(options: BatchOptions) -> int:
    """OCR threads per worker so that workers × threads fill the cores without oversubscribing them
    (a Ray actor holds one CPU)."""
    if options.executor == "ray":
        return 1
    return max(1, default_workers() // (options.workers or default_workers()))


def worker_settings(out_dir: Path, options: BatchOptions) -> WorkerSettings:
    return WorkerSettings(
        out_dir=str(out_dir.resolve()),
        ocr=options.ocr,
        ocr_engine=options.ocr_engine,
        prefer=options.prefer,
        max_bytes=options.max_bytes,
        max_memory_mb=options.max_memory_mb,
        threads=threads_per_worker(options),
    )


def remove_stale_temp_files(out_dir: Path) -> int:
    """Delete half-written ``.NAME.*.tmp`` files that a killed run left behind."""
    count = 0
    for tmp in out_dir.rglob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            count += 1
    return count


def plan(
    inputs: list[InputFile], manifest: Manifest, config: str, retry_failed: bool
) -> tuple[list[InputFile], int]:
    """The inputs still to do, and how many are skipped as already done for the same bytes and config."""
    done = manifest.done_keys()
    if retry_failed:
        done -= manifest.done_keys(FAILED)
    todo = [item for item in inputs if (item.rel, item.sha256, config) not in done]
    return todo, len(inputs) - len(todo)


class Driver:
    """Records every outcome in the manifest (and a failure JSON where the worker wrote none)."""

    def __init__(self, manifest: Manifest, config: str, settings: WorkerSettings, reporter: Reporter) -> None:
        self.manifest, self.config, self.settings, self.reporter = manifest, config, settings, reporter
        self.summary = BatchSummary()

    def on_start(self, task: Task) -> None:
        self.manifest.start(task.rel, task.sha256, self.config)

    def on_result(self, task: Task, outcome: Outcome) -> None:
        if not outcome.written:
            try:
                write_failure_json(task, self.settings, outcome)
            except OSError as exc:
                self.reporter.message(f"{task.rel}: cannot write its failure JSON: {exc}")
        self.manifest.record(outcome, task.sha256, self.config)
        self.summary.processed += 1
        setattr(self.summary, outcome.status, getattr(self.summary, outcome.status) + 1)
        self.summary.pages += outcome.pages or 0
        if outcome.status != "ok":
            self.summary.failed.append(outcome.rel)
        self.reporter.file_done(outcome)


def triage(todo: list[InputFile], manifest: Manifest, config: str, driver: Driver) -> list[Task]:
    """Tasks to run; inputs that cannot run (unreadable, in flight at too many crashes) are recorded now."""
    in_flight = {row.rel: row.attempts for row in manifest.rows(("running",)) if row.config == config}
    tasks = []
    for item in todo:
        task = Task(rel=item.rel, path=str(item.path), sha256=item.sha256, size=item.size)
        if item.error:
            driver.on_result(task, failure(task, "unreadable-input", item.error, 0.0, "driver"))
        elif in_flight.get(item.rel, 0) >= MAX_ATTEMPTS:
            reason = f"the batch stopped {in_flight[item.rel]} times while this file was in flight"
            driver.on_result(task, failure(task, "interrupted", reason, 0.0, "driver"))
        else:
            tasks.append(task)
    return tasks


Executor = Callable[..., None]


def get_executor(options: BatchOptions) -> Executor:
    if options.executor == "ray":
        from zhibiao.batch.ray_exec import run_ray

        return lambda tasks, settings, on_result, on_start: run_ray(
            tasks, settings, on_result, on_start, options.workers, options.timeout, options.ray_address
        )
    if options.executor == "local":
        from zhibiao.batch.local import run_local

        return lambda tasks, settings, on_result, on_start: run_local(
            tasks, settings, on_result, on_start, options.workers, options.timeout
        )
    raise ValueError(f"unknown executor {options.executor!r} (local or ray)")


def run_batch(
    source: Path, out_dir: Path, options: BatchOptions | None = None, reporter: Reporter | None = None
) -> BatchSummary:
    """Convert every input of ``source`` into ``out_dir``; resumable, one manifest row per input."""
    options = options or BatchOptions()
    reporter = reporter or Silent()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    executor = get_executor(options)
    inputs = discover(Path(source), exclude=[out_dir])
    config = config_hash(options)
    settings = worker_settings(out_dir, options)
    remove_stale_temp_files(out_dir)
    with Manifest(manifest_path(out_dir)) as manifest:
        todo, skipped = plan(inputs, manifest, config, options.retry_failed)
        run_id = manifest.begin_run(
            source=str(source), config=config, executor=options.executor, workers=options.workers,
            todo=len(todo), skipped=skipped,
        )  # fmt: skip
        driver = Driver(manifest, config, settings, reporter)
        driver.summary.total, driver.summary.skipped = len(inputs), skipped
        reporter.start(len(inputs), len(todo), skipped)
        tasks = triage(todo, manifest, config, driver)
        if tasks:
            executor(tasks, settings, driver.on_result, driver.on_start)
        manifest.end_run(run_id)
        driver.summary.statuses = manifest.counts()
    summary = driver.summary
    summary.seconds = round(time.perf_counter() - began, 3)
    summary.files_per_s = round(summary.processed / summary.seconds, 3) if summary.seconds else 0.0
    summary.pages_per_s = round(summary.pages / summary.seconds, 3) if summary.seconds else 0.0
    if options.collect:
        from zhibiao.batch.collect import collect

        began = time.perf_counter()
        stats = collect(out_dir)
        summary.records = stats.records
        summary.collect_seconds = round(time.perf_counter() - began, 3)
        for warning in stats.warnings:
            reporter.message(warning)
    return summary
