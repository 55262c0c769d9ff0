"""``zhibiao annotate push|pull``: extraction output <-> Label Studio projects.

    zhibiao annotate push OUT_DIR --project NAME [--url URL] [--files-root DIR] [--kinds record,span]
    zhibiao annotate pull --project NAME -o DIR [--url URL]

``push`` makes one Label Studio project per task kind (``NAME [table]``, ``NAME [record]``,
``NAME [project]``, ``NAME [span]``) and imports the tasks it does not hold yet (pushing the same output
twice adds nothing). ``pull`` pages through those projects and writes ``DIR/gold/`` (documents whose
records are all reviewed), ``DIR/gold-partial/``, ``DIR/train/spans.jsonl`` (+ ``spans.spacy`` with
spaCy) and ``DIR/pull-summary.json``.

Server: ``--url``, else ``$LABEL_STUDIO_URL``, else the client config written by
``python -m zhibiao.annotations.server start``. API token: ``$LABEL_STUDIO_API_KEY``, else that
config file (``--config``, ``$ZHIBIAO_LS_CONFIG``, ``~/.config/zhibiao/label-studio.json``). The token
is never printed. Page images go under ``--files-root`` (``$LOCAL_FILES_DOCUMENT_ROOT``, or the
config's), which must be the server's local-files document root.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zhibiao.annotations.tasks import KINDS

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TITLE_MAX = 50
"""Label Studio's limit on project titles."""
MAX_DOC_LINES = 20
"""``pull`` prints one line per document up to this many (all are in ``pull-summary.json``)."""


@dataclass(frozen=True)
class Connection:
    url: str
    api_key: str
    files_root: Path | None

    def __repr__(self) -> str:  # never show the token
        return f"Connection(url={self.url!r}, files_root={self.files_root!r})"


class UsageError(ValueError):
    """Missing or bad settings (exit 2, message without secrets)."""


def resolve_connection(args: argparse.Namespace) -> Connection:
    """URL, token and local-files root from the flags, the environment and the client config."""
    from zhibiao.annotations.server import default_config_path, read_client_config

    config = read_client_config(args.config or default_config_path())
    url = args.url or os.environ.get("LABEL_STUDIO_URL") or config.get("url")
    api_key = os.environ.get("LABEL_STUDIO_API_KEY") or config.get("api_key")
    root = (
        getattr(args, "files_root", None)
        or os.environ.get("LOCAL_FILES_DOCUMENT_ROOT")
        or config.get("files_root")
    )
    if not url:
        raise UsageError(
            "no Label Studio URL: give --url, set LABEL_STUDIO_URL, or start one with "
            "`python -m zhibiao.annotations.server start`"
        )
    if not api_key:
        raise UsageError(
            "no API token: set LABEL_STUDIO_API_KEY or store it in the client config "
            f"({args.config or default_config_path()})"
        )
    return Connection(str(url), str(api_key), Path(root) if root else None)


def project_title(name: str, kind: str) -> str:
    title = f"{name} [{kind}]"
    if len(title) > TITLE_MAX:
        raise UsageError(f"project name too long: {title!r} is over Label Studio's {TITLE_MAX} characters")
    return title


def files_folder(name: str) -> str:
    """Folder (under the files root) for one project name's images: readable and collision-free."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:40] or "project"
    return f"zhibiao/{slug}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:8]}"


def parse_kinds(text: str | None) -> tuple[str, ...]:
    if not text:
        return KINDS
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise UsageError(f"unknown task kinds {unknown} (choose from {', '.join(KINDS)})")
    return kinds


@dataclass(frozen=True)
class NamedPredictor:
    """A span-predicting function with the ``model_version`` its predictions are filed under."""

    func: Any
    model_version: str

    def __call__(self, text: str) -> Any:
        return self.func(text)


def load_span_predictor(spec: str | None) -> NamedPredictor | None:
    """``module:function`` (``text -> [(start, end, label), ...]``, code points) -> a predictor."""
    if not spec:
        return None
    import importlib

    module_name, _, attr = spec.partition(":")
    try:
        func = getattr(importlib.import_module(module_name), attr or "predict_spans")
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cannot load the span predictor {spec!r}: {exc}") from exc
    if not callable(func):
        raise UsageError(f"the span predictor {spec!r} is not callable")
    return NamedPredictor(func, predictor_version(func, spec))


def predictor_version(func: Any, spec: str) -> str:
    """The predictor's ``model_version``; the token classifier is loaded here (a missing model fails now)."""
    from zhibiao.annotations.spans import load_tagger, tagger_spans

    if func is tagger_spans:
        try:
            return load_tagger()[1]
        except (OSError, ImportError, ValueError) as exc:
            raise UsageError(f"cannot load the token classifier for {spec!r}: {exc}") from exc
    return str(getattr(func, "model_version", None) or spec)


def iter_results(out_dir: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Document JSONs (output contract) under ``out_dir``, sorted; other JSON files are skipped."""
    for path in sorted(out_dir.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and "schema_version" in data and isinstance(data.get("source"), dict):
            yield path, data


# --- push --------------------------------------------------------------------------------------------


def cmd_push(args: argparse.Namespace) -> int:
    from zhibiao.annotations.client import LabelStudioClient
    from zhibiao.annotations.images import LocalMedia
    from zhibiao.annotations.tasks import NoMedia, build_tasks, label_config, review_order

    kinds = parse_kinds(args.kinds)
    titles = {kind: project_title(args.project, kind) for kind in kinds}
    predictor = load_span_predictor(args.span_predictor)
    conn = resolve_connection(args)
    out_dir = Path(args.out_dir)
    if not out_dir.is_dir():
        raise UsageError(f"not a directory: {out_dir}")
    folder = files_folder(args.project)
    media = LocalMedia(conn.files_root, folder) if conn.files_root else NoMedia()
    if conn.files_root is None:
        print(
            "no local-files root (--files-root): tasks get no page images; table tasks are skipped",
            file=sys.stderr,
        )
    start = time.perf_counter()
    tasks: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    n_docs = 0
    for _path, result in iter_results(out_dir):
        n_docs += 1
        for kind, items in build_tasks(result, media, kinds, predictor).items():
            tasks[kind].extend(items)
    built = time.perf_counter() - start
    client = LabelStudioClient(conn.url, conn.api_key, page_size=args.page_size)
    total_new = 0
    for kind in kinds:
        ordered = review_order(tasks[kind])
        if not ordered and client.find_project(titles[kind]) is None:
            continue
        report = client.push(titles[kind], label_config(kind), ordered, description=f"zhibiao {kind} review")
        if conn.files_root and kind != "span":
            client.ensure_local_storage(report.project, conn.files_root / folder)
        total_new += report.imported
        print(
            f"{kind:8s} {report.tasks:6d} tasks: {report.imported} new, {report.existing} already there "
            f"-> project {report.project} ({report.title})"
        )
    elapsed = time.perf_counter() - start
    print(
        f"{n_docs} documents, {total_new} new tasks in {elapsed:.1f} s "
        f"(tasks built in {built:.1f} s); {conn.url}"
    )
    return EXIT_OK


# --- pull --------------------------------------------------------------------------------------------


def cmd_pull(args: argparse.Namespace) -> int:
    from zhibiao.annotations.client import LabelStudioClient
    from zhibiao.annotations.from_label_studio import (
        GoldBuilder,
        training_rows,
        write_docbin,
        write_gold,
        write_jsonl,
    )

    kinds = parse_kinds(args.kinds)
    conn = resolve_connection(args)
    client = LabelStudioClient(conn.url, conn.api_key, page_size=args.page_size)
    start = time.perf_counter()
    builder = GoldBuilder(client.users())
    projects = {}
    for kind in kinds:
        title = project_title(args.project, kind)
        project_id = client.find_project(title)
        if project_id is None:
            continue
        projects[kind] = project_id
        for task in client.iter_tasks(project_id):
            builder.add(task)
    if not projects:
        print(f"no Label Studio projects named {args.project!r} [kind] at {conn.url}", file=sys.stderr)
        return EXIT_FAILED
    out_dir = Path(args.output)
    docs = builder.documents()
    written = write_gold(docs, out_dir)
    n_examples = write_jsonl(out_dir / "train" / "spans.jsonl", training_rows(builder.examples))
    n_docbin = write_docbin(builder.examples, out_dir / "train" / "spans.spacy") if builder.examples else 0
    summary = {
        "project": args.project,
        "projects": projects,
        "url": conn.url,
        "documents": [
            {
                "doc": d.gold.doc,
                "source": d.source,
                "complete": d.complete,
                "superseded_by": d.superseded_by,
                "counts": d.counts,
                "reviews": len(d.reviews),
                "corrected": sum(1 for r in d.reviews if r.changed),
            }
            for d in docs
        ],
        "gold": written["gold"],
        "gold_partial": written["gold-partial"],
        "training_examples": n_examples,
        "docbin": n_docbin,
        "skipped_tasks": dict(builder.skipped),
        "seconds": round(time.perf_counter() - start, 2),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "pull-summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    for d in docs[:MAX_DOC_LINES]:
        state = "complete" if d.complete else "partial"
        superseded = ", superseded" if d.superseded_by else ""
        print(f"{d.gold.doc}: {len(d.reviews)} reviewed tasks ({state}{superseded})")
    if len(docs) > MAX_DOC_LINES:
        print(f"... {len(docs) - MAX_DOC_LINES} more documents in {out_dir / 'pull-summary.json'}")
    spacy_note = f" (+ {n_docbin} in spans.spacy)" if n_docbin else ""
    print(
        f"{len(written['gold'])} gold, {len(written['gold-partial'])} partial documents; "
        f"{n_examples} span examples{spacy_note} in {out_dir} ({summary['seconds']} s)"
    )
    return EXIT_OK


# --- registration ------------------------------------------------------------------------------------


def _connection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project", required=True, help="project name (one Label Studio project per task kind)"
    )
    parser.add_argument("--url", help="Label Studio URL (default $LABEL_STUDIO_URL or the client config)")
    parser.add_argument("--config", type=Path, help="client config with url/api_key/files_root")
    parser.add_argument("--kinds", help=f"task kinds (comma separated; default all: {','.join(KINDS)})")
    parser.add_argument(
        "--page-size", type=int, default=200, help="tasks per page when listing (default 200)"
    )


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``annotate`` (``push`` / ``pull``) on the main CLI."""
    parser = subparsers.add_parser(
        "annotate",
        help="push extraction output to Label Studio for review; pull corrections as gold/training data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    push = actions.add_parser("push", help="create/update projects and import new tasks with pre-annotations")
    push.add_argument("out_dir", help="output directory of `zhibiao extract` (document JSON files)")
    _connection_flags(push)
    push.add_argument("--files-root", help="Label Studio's local-files document root (page images go here)")
    push.add_argument(
        "--span-predictor",
        metavar="MODULE:FUNCTION",
        help="token classifier for span pre-annotations: text -> [(start, end, label)] (default: rule spans)",
    )
    push.set_defaults(func=run(cmd_push))
    pull = actions.add_parser("pull", help="export annotations as gold (eval) and span training data")
    _connection_flags(pull)
    pull.add_argument("-o", "--output", required=True, help="output directory")
    pull.set_defaults(func=run(cmd_pull))
    return parser


def run(handler: Any) -> Any:
    """Wrap a handler: usage and server errors become one line on stderr and an exit code."""

    def wrapped(args: argparse.Namespace) -> int:
        from zhibiao.annotations.client import AnnotationServerError

        try:
            return int(handler(args))
        except UsageError as exc:
            print(f"zhibiao annotate: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except ImportError as exc:
            print(f"zhibiao annotate: needs label-studio-sdk>=2,<3 ({exc})", file=sys.stderr)
            return EXIT_USAGE
        except (AnnotationServerError, ValueError, OSError) as exc:
            print(f"zhibiao annotate: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except Exception as exc:
            message = server_error_message(exc)
            if message is None:
                raise
            print(f"zhibiao annotate: {message}", file=sys.stderr)
            return EXIT_FAILED

    return wrapped


def server_error_message(exc: Exception) -> str | None:
    """A one-line message for an SDK/HTTP failure (status and body only: no headers, no token)."""
    try:
        import httpx
        from label_studio_sdk.core.api_error import ApiError
    except ImportError:
        return None
    if isinstance(exc, ApiError):
        return f"Label Studio answered HTTP {exc.status_code}: {exc.body}"
    if isinstance(exc, httpx.HTTPError):
        return f"cannot reach Label Studio: {type(exc).__name__}: {exc}"
    return None
