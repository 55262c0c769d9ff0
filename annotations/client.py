"""A small wrapper around ``label-studio-sdk`` 2.x: projects, local storage, idempotent import, paged reads.

- ``ensure_project(title, config)``: the project with this title, created (or its labeling config
  updated) as needed; uncertainty sampling on our predictions' ``model_version``.
- ``push(project, tasks)``: validates every prediction against the config (the server does not),
  lists the keys already in the project page by page and imports only new tasks, in batches.
- ``iter_tasks(project)``: every task with its annotations, one page at a time (never the whole
  project in memory).

The API token is passed to the SDK and nowhere else: it is never printed, logged or put in errors.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zhibiao.annotations.tasks import MODEL_VERSION

log = logging.getLogger(__name__)

PAGE_SIZE = 200
"""Tasks per page when listing (keys on push, tasks with annotations on pull)."""
IMPORT_BATCH = 250
"""Tasks per import request."""
KEY = "zhibiao_key"


class AnnotationServerError(RuntimeError):
    """Label Studio refused or failed a request (message without credentials)."""


@dataclass
class PushReport:
    project: int
    title: str
    tasks: int
    """Tasks offered by this push."""
    imported: int
    """New tasks created."""
    existing: int
    """Tasks whose key was already in the project (not imported again)."""


class LabelStudioClient:
    """The few Label Studio operations zhibiao needs, over the SDK."""

    def __init__(self, url: str, api_key: str, page_size: int = PAGE_SIZE, batch: int = IMPORT_BATCH) -> None:
        from label_studio_sdk import LabelStudio

        self.url = url.rstrip("/")
        self.page_size = page_size
        self.batch = batch
        self._sdk = LabelStudio(base_url=self.url, api_key=api_key, timeout=300)

    # --- projects ---------------------------------------------------------------------------------

    def find_project(self, title: str) -> int | None:
        """Id of the project with exactly this title (``None`` when there is none)."""
        for project in self._sdk.projects.list(title=title, page_size=self.page_size):
            if project.title == title:
                return int(project.id)
        return None

    def ensure_project(
        self, title: str, label_config: str, description: str = "", model_version: str = MODEL_VERSION
    ) -> int:
        """The project's id: created with ``label_config``, or its config and model version updated."""
        project_id = self.find_project(title)
        if project_id is None:
            created = self._call(
                "create project",
                self._sdk.projects.create,
                title=title,
                label_config=label_config,
                description=description,
                sampling="Uncertainty sampling",
                model_version=model_version,
                show_collab_predictions=True,
                show_skip_button=True,
            )
            return int(created.id)
        current = self._sdk.projects.get(id=project_id)
        config_changed = (current.label_config or "").strip() != label_config.strip()
        if config_changed or current.model_version != model_version:
            self._call(
                "update project",
                self._sdk.projects.update,
                id=project_id,
                label_config=label_config,
                model_version=model_version,
            )
        return project_id

    def project(self, project_id: int) -> dict[str, Any]:
        """A project's settings (title, sampling, model_version, label_config, counts)."""
        return self._sdk.projects.get(id=project_id).model_dump(mode="json")

    def ensure_local_storage(self, project_id: int, path: Path) -> int:
        """A local-files import storage over ``path`` (needed before Label Studio serves files there).

        It is never synced: tasks are imported with their own data, the storage only grants access.
        """
        path = path.resolve()
        for storage in self._sdk.import_storage.local.list(project=project_id):
            if storage.path and Path(storage.path).resolve() == path:
                return int(storage.id)
        path.mkdir(parents=True, exist_ok=True)
        created = self._call(
            "create local storage",
            self._sdk.import_storage.local.create,
            project=project_id,
            path=str(path),
            use_blob_urls=True,
            title=f"zhibiao images ({path.name})",
        )
        return int(created.id)

    # --- tasks ------------------------------------------------------------------------------------

    def existing_keys(self, project_id: int) -> set[str]:
        """Keys of the tasks already in the project, read page by page."""
        keys = set()
        for task in self._sdk.tasks.list(project=project_id, fields="task_only", page_size=self.page_size):
            key = (task.data or {}).get(KEY)
            if key:
                keys.add(str(key))
        return keys

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> int:
        """Import tasks (with their predictions) in batches; returns how many were created."""
        created = 0
        for start in range(0, len(tasks), self.batch):
            chunk = tasks[start : start + self.batch]
            response = self._call(
                "import tasks",
                self._sdk.projects.import_tasks,
                id=project_id,
                request=chunk,
                return_task_ids=True,
            )
            created += int(response.task_count or len(chunk))
        return created

    def push(
        self, title: str, label_config: str, tasks: Iterable[dict[str, Any]], description: str = ""
    ) -> PushReport:
        """Create/update the project; import (in the given order) the tasks whose key it does not hold yet.

        The project's ``model_version`` follows the tasks' predictions, so that uncertainty sampling
        (lowest prediction score first) serves them.
        """
        offered = list(tasks)
        validate_tasks(label_config, offered)
        versions = {p.get("model_version") for t in offered for p in t.get("predictions") or []}
        version = str(versions.pop()) if len(versions) == 1 else MODEL_VERSION
        project_id = self.ensure_project(title, label_config, description, version)
        existing = self.existing_keys(project_id)
        new = [t for t in offered if t["data"][KEY] not in existing]
        imported = self.import_tasks(project_id, new) if new else 0
        return PushReport(project_id, title, len(offered), imported, len(offered) - len(new))

    def iter_tasks(self, project_id: int, only_annotated: bool = False) -> Iterator[dict[str, Any]]:
        """Every task of the project with annotations (and predictions) as plain dicts, one page at a time."""
        pager = self._sdk.tasks.list(
            project=project_id, fields="all", page_size=self.page_size, only_annotated=only_annotated or None
        )
        for task in pager:
            yield task.model_dump(mode="json")

    def users(self) -> dict[int, str]:
        """User id -> email (who annotated)."""
        return {int(u.id): str(u.email or u.username or u.id) for u in self._sdk.users.list()}

    def create_annotation(
        self, task_id: int, result: list[dict[str, Any]], lead_time: float | None = None
    ) -> int:
        """Submit an annotation as the token's user (as an annotator would; tests and the benchmark)."""
        created = self._call(
            "create annotation", self._sdk.annotations.create, id=task_id, result=result, lead_time=lead_time
        )
        return int(created.id)

    def update_annotation(
        self, annotation_id: int, result: list[dict[str, Any]], lead_time: float | None = None
    ) -> None:
        """Replace an annotation's result (an annotator reopening and correcting a submitted task)."""
        self._call(
            "update annotation",
            self._sdk.annotations.update,
            id=annotation_id,
            result=result,
            lead_time=lead_time,
        )

    @staticmethod
    def _call(what: str, func: Any, **kwargs: Any) -> Any:
        from label_studio_sdk.core.api_error import ApiError

        try:
            return func(**kwargs)
        except ApiError as exc:
            raise AnnotationServerError(
                f"Label Studio could not {what}: HTTP {exc.status_code}: {exc.body}"
            ) from None


def validate_tasks(label_config: str, tasks: Iterable[dict[str, Any]]) -> None:
    """Check every prediction against the labeling config (the server does not); raise on a bad one."""
    from label_studio_sdk.label_interface import LabelInterface

    interface = LabelInterface(label_config)
    for task in tasks:
        if KEY not in task.get("data", {}):
            raise ValueError(f"task without data.{KEY}")
        for prediction in task.get("predictions") or []:
            errors = interface.validate_prediction(prediction, return_errors=True)
            if errors:
                raise ValueError(
                    f"task {task['data'][KEY]}: prediction does not fit the config: {errors[:3]}"
                )
