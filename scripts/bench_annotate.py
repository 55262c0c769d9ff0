"""Benchmark the annotation loop: push ~1,000 tasks to a real Label Studio, push again, annotate all, pull.

    python scripts/bench_annotate.py [--tasks 1000] [--corpus ../shared/corpus/dev] [--out out/bench-annotate]

Starts a private Label Studio from ``.venv-ls/`` on a free 127.0.0.1 port (``bash
scripts/setup_label_studio.sh`` first), or uses ``--url`` with ``$LABEL_STUDIO_API_KEY``. The documents
are real extraction output of dev renditions (a PDF with page images, a workbook, a narrative text),
repeated under new sha256 values until the tasks reach ``--tasks`` (each copy is a distinct document
to Label Studio, its page images rendered again). Annotating (one API call per task, as an annotator's
submit) is timed apart from push and pull. Results: a table on stdout and ``OUT/bench.json``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BASE_DOCS = ("003_4840a7d78a699b0b.pdf", "000_c9021f7b19f56ffc.xlsx", "001_def97523c2bc9572.txt")
PROJECT = "bench"


def base_results(corpus: Path) -> list[dict[str, Any]]:
    """Extraction output of the base documents (no OCR: they all have text)."""
    from zhibiao.pipeline import ExtractOptions, extract

    return [extract(corpus / name, ExtractOptions(ocr=False)).model_dump(mode="json") for name in BASE_DOCS]


def expected_tasks(result: dict[str, Any]) -> int:
    """Tasks a result yields (table tasks counted per table page of a PDF)."""
    from zhibiao.annotations.tasks import NoMedia, build_tasks, cells_by_page

    text_only = sum(len(v) for v in build_tasks(result, NoMedia()).values())
    pages = (
        sum(len(cells_by_page(t)) for t in result.get("tables") or [])
        if result["source"]["format"] == "pdf"
        else 0
    )
    return text_only + pages


def write_copies(results: list[dict[str, Any]], target: int, out_dir: Path) -> tuple[int, int]:
    """Copies of the results under fresh sha256 values until ``target`` tasks; returns (documents, tasks)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = tasks = 0
    while tasks < target:
        for result in results:
            clone = copy.deepcopy(result)
            sha = hashlib.sha256(f"{result['source']['sha256']}:{docs}".encode()).hexdigest()
            clone["source"]["sha256"] = sha
            (out_dir / f"doc{docs:05d}.json").write_text(
                json.dumps(clone, ensure_ascii=False), encoding="utf-8"
            )
            docs += 1
            tasks += expected_tasks(clone)
            if tasks >= target:
                break
    return docs, tasks


def timed(label: str, func: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = func(*args)
    seconds = time.perf_counter() - start
    print(f"{label:34s} {seconds:8.1f} s", flush=True)
    return value, seconds


def annotate_all(client: Any, project_ids: list[int]) -> int:
    """Submit every task's prediction as its annotation (one request per task, like an annotator)."""
    n = 0
    for project_id in project_ids:
        pending = [
            (t["id"], t["predictions"][0]["result"])
            for t in client.iter_tasks(project_id)
            if not t["annotations"]
        ]
        for task_id, result in pending:
            client.create_annotation(task_id, result, lead_time=1.0)
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    from zhibiao.annotations.client import LabelStudioClient
    from zhibiao.annotations.server import LabelStudioServer, free_port
    from zhibiao.annotations.tasks import KINDS
    from zhibiao.cli import main as zhibiao

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "dev")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "bench-annotate")
    parser.add_argument(
        "--url", help="use this server (token from $LABEL_STUDIO_API_KEY) instead of starting one"
    )
    parser.add_argument("--files-root", type=Path, help="with --url: the server's local-files root")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="zhibiao-bench-")))
        numbers: dict[str, Any] = {}
        if args.url:
            url, token, files_root = args.url, os.environ.get("LABEL_STUDIO_API_KEY", ""), args.files_root
        else:
            server = LabelStudioServer(work / "ls-data", work / "files", port=free_port())
            _, numbers["server_start_s"] = timed(
                "start Label Studio (fresh DB)", lambda: stack.enter_context(server)
            )
            assert server.credentials is not None
            url, token, files_root = server.url, server.credentials.token, server.files_root
        os.environ["LABEL_STUDIO_API_KEY"] = token
        results, numbers["extract_s"] = timed("extract base documents", base_results, args.corpus)
        (n_docs, n_tasks), _ = timed("write document copies", write_copies, results, args.tasks, work / "out")
        common = ["--project", PROJECT, "--url", url, "--config", str(work / "no-config.json")]
        push = ["annotate", "push", str(work / "out"), *common]
        if files_root:
            push += ["--files-root", str(files_root)]
        rc, numbers["push_s"] = timed(f"push {n_tasks} tasks ({n_docs} docs)", zhibiao, push)
        rc2, numbers["push_again_s"] = timed("push again (nothing new)", zhibiao, push)
        client = LabelStudioClient(url, token)
        projects = [pid for kind in KINDS if (pid := client.find_project(f"{PROJECT} [{kind}]")) is not None]
        in_server = sum(len(client.existing_keys(pid)) for pid in projects)
        n_annotated, numbers["annotate_s"] = timed(
            "annotate every task (API)", annotate_all, client, projects
        )
        rc3, numbers["pull_s"] = timed(
            "pull", zhibiao, ["annotate", "pull", *common, "-o", str(work / "pulled")]
        )
        summary = json.loads((work / "pulled" / "pull-summary.json").read_text(encoding="utf-8"))
        numbers.update(
            documents=n_docs,
            tasks_expected=n_tasks,
            tasks_in_server=in_server,
            annotated=n_annotated,
            gold_documents=len(summary["gold"]),
            span_examples=summary["training_examples"],
            exit_codes=[rc, rc2, rc3],
            push_tasks_per_s=round(in_server / numbers["push_s"], 1),
            pull_tasks_per_s=round(in_server / numbers["pull_s"], 1),
        )
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench.json").write_text(json.dumps(numbers, indent=1), encoding="utf-8")
        print(json.dumps(numbers, indent=1))
        ok = rc == rc2 == rc3 == 0 and in_server >= args.tasks and n_annotated == in_server
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
