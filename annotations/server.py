"""Start and stop a local Label Studio server (from its own venv, ``.venv-ls/``) for tests and for users.

    python -m zhibiao.annotations.server start --data-dir ~/ls-data [--port 8089] [--files-root DIR]
    python -m zhibiao.annotations.server start --data-dir ~/ls-data --background
    python -m zhibiao.annotations.server stop --data-dir ~/ls-data

The server listens on 127.0.0.1 only, keeps everything (SQLite DB, media) in ``--data-dir``, never
calls out for a version check, and serves local files under ``--files-root`` (where ``zhibiao annotate
push`` writes page images). On the first start of a data dir it creates the admin user and an API
token (legacy token auth, which the SDK uses); both are stored in ``DATA_DIR/zhibiao-credentials.json``
(mode 0600) and in the client config file, never printed. ``scripts/setup_label_studio.sh`` makes the
venv.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import Request, urlopen

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VENV = REPO / ".venv-ls"
DEFAULT_PORT = 8089
HOST = "127.0.0.1"
CREDENTIALS_FILE = "zhibiao-credentials.json"
PID_FILE = "zhibiao-server.pid"
LOG_FILE = "zhibiao-server.log"
FIRST_START_TIMEOUT_S = 240.0
"""A fresh SQLite DB runs all migrations (~40 s on 2 cores); later starts take ~5 s."""


class ServerError(RuntimeError):
    """The Label Studio server could not be started, reached or stopped."""


@dataclass(frozen=True)
class Credentials:
    """Admin login and API token of one data dir (created on its first start)."""

    username: str
    password: str = field(repr=False)
    token: str = field(repr=False)

    @classmethod
    def generate(cls, username: str = "admin@example.com") -> Credentials:
        return cls(username=username, password=secrets.token_urlsafe(16), token=secrets.token_hex(20))


def private_write(path: Path, text: str) -> None:
    """Write a file readable by its owner only (tokens, passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def load_or_create_credentials(data_dir: Path) -> Credentials:
    """Credentials stored in ``data_dir`` (first use: from ``LABEL_STUDIO_USERNAME/PASSWORD/API_KEY``)."""
    path = data_dir / CREDENTIALS_FILE
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(stored["username"], stored["password"], stored["token"])
    generated = Credentials.generate(os.environ.get("LABEL_STUDIO_USERNAME", "admin@example.com"))
    creds = Credentials(
        username=generated.username,
        password=os.environ.get("LABEL_STUDIO_PASSWORD") or generated.password,
        token=os.environ.get("LABEL_STUDIO_API_KEY") or generated.token,
    )
    private_write(
        path,
        json.dumps({"username": creds.username, "password": creds.password, "token": creds.token}),
    )
    return creds


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, files_root: Path, creds: Credentials) -> dict[str, str]:
    """Environment of the server process: data dir, first user, legacy token, no call-outs, local files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "DJANGO_"))}
    env.update(
        {
            "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
            "LABEL_STUDIO_USERNAME": creds.username,
            "LABEL_STUDIO_PASSWORD": creds.password,
            "LABEL_STUDIO_USER_TOKEN": creds.token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            "LOCAL_FILES_SERVING_ENABLED": "true",
            "LOCAL_FILES_DOCUMENT_ROOT": str(files_root),
            "HOME": env.get("HOME", str(data_dir)),
        }
    )
    return env


def http_status(url: str, token: str | None = None, timeout: float = 5.0) -> int | None:
    """HTTP status of a GET (``None`` when nothing answers)."""
    request = Request(url, headers={"Authorization": f"Token {token}"} if token else {})
    try:
        with urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except URLError as exc:
        code = getattr(exc, "code", None)
        return int(code) if code is not None else None
    except (ConnectionError, TimeoutError, OSError):
        return None


@dataclass
class LabelStudioServer:
    """One Label Studio process bound to 127.0.0.1 with its own data dir.

    Use as a context manager (tests) or ``start()`` / ``wait_ready()`` / ``stop()``.
    """

    data_dir: Path
    files_root: Path
    port: int = DEFAULT_PORT
    venv: Path = DEFAULT_VENV
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    credentials: Credentials | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def executable(self) -> Path:
        return self.venv / "bin" / "label-studio"

    def command(self) -> list[str]:
        return [
            str(self.executable),
            "start",
            "--no-browser",
            "--internal-host",
            HOST,
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--log-level",
            "WARNING",
        ]

    def start(self) -> LabelStudioServer:
        """Spawn the server (its own process group, output to ``log_path``); returns at once."""
        if not self.executable.exists():
            raise ServerError(
                f"Label Studio is not installed in {self.venv} (run: bash scripts/setup_label_studio.sh)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.files_root.mkdir(parents=True, exist_ok=True)
        self.credentials = load_or_create_credentials(self.data_dir)
        log_path = self.log_path or self.data_dir / LOG_FILE
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                env=server_env(self.data_dir, self.files_root, self.credentials),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = FIRST_START_TIMEOUT_S, poll: float = 0.5) -> None:
        """Block until the API answers an authenticated request (bounded by ``timeout`` seconds)."""
        assert self.credentials is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(f"Label Studio exited with {self.process.returncode}; see {self._log()}")
            if http_status(f"{self.url}/health") == 200:
                status = http_status(f"{self.url}/api/current-user/whoami", self.credentials.token)
                if status == 200:
                    return
                if status in (401, 403):
                    raise ServerError(
                        f"Label Studio at {self.url} refuses the stored API token (HTTP {status}); "
                        f"the data dir was probably created without it"
                    )
            time.sleep(poll)
        raise ServerError(f"Label Studio did not become ready within {timeout:.0f} s; see {self._log()}")

    def _log(self) -> Path:
        return self.log_path or self.data_dir / LOG_FILE

    def stop(self, timeout: float = 20.0) -> None:
        """Terminate the server's process group (SIGTERM, then SIGKILL after ``timeout`` s)."""
        if self.process is None or self.process.poll() is not None:
            return
        stop_group(self.process.pid, timeout, self.process)

    def __enter__(self) -> LabelStudioServer:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_group(pid: int, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM the process group led by ``pid``; SIGKILL it when it is still alive after ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                return
        elif not _alive(pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    if process is not None:
        process.wait(timeout=5)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- client config (where push/pull find the server) ---------------------------------------------


def default_config_path() -> Path:
    """``$ZHIBIAO_LS_CONFIG`` or ``~/.config/zhibiao/label-studio.json``."""
    if env := os.environ.get("ZHIBIAO_LS_CONFIG"):
        return Path(env)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "zhibiao" / "label-studio.json"


def write_client_config(path: Path, url: str, token: str, files_root: Path) -> None:
    """Store URL, token and local-files root for ``zhibiao annotate`` (mode 0600)."""
    data = {"url": url, "api_key": token, "files_root": str(files_root)}
    private_write(path, json.dumps(data, indent=1))


def read_client_config(path: Path | None = None) -> dict[str, Any]:
    """The stored client config (``{}`` when there is none)."""
    path = path or default_config_path()
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


# --- command line --------------------------------------------------------------------------------


def _start(args: argparse.Namespace) -> int:
    data_dir = args.data_dir.resolve()
    files_root = (args.files_root or data_dir / "files").resolve()
    server = LabelStudioServer(data_dir, files_root, port=args.port, venv=args.venv)
    pid_path = data_dir / PID_FILE
    if pid_path.exists() and _alive(int(pid_path.read_text())):
        print(f"a server for {data_dir} is already running (pid file {pid_path})", file=sys.stderr)
        return 1
    server.start()
    assert server.process is not None and server.credentials is not None
    pid_path.write_text(str(server.process.pid))
    try:
        server.wait_ready(args.timeout)
    except (ServerError, KeyboardInterrupt) as exc:
        server.stop()
        pid_path.unlink(missing_ok=True)
        print(f"Label Studio did not start: {exc}", file=sys.stderr)
        return 1
    write_client_config(args.config, server.url, server.credentials.token, files_root)
    print(f"Label Studio is ready at {server.url} (log: {server._log()})")
    print(f"  log in as {server.credentials.username}; password and API token: {data_dir / CREDENTIALS_FILE}")
    print(f"  zhibiao annotate reads the URL and token from {args.config}")
    print(f"  local files are served from {files_root}")
    if args.background:
        print(f"  stop it with: python -m zhibiao.annotations.server stop --data-dir {data_dir}")
        return 0
    print("  Ctrl-C stops it")
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        pid_path.unlink(missing_ok=True)
    return 0


def _stop(args: argparse.Namespace) -> int:
    pid_path = args.data_dir.resolve() / PID_FILE
    if not pid_path.exists():
        print(f"no server pid file in {args.data_dir}", file=sys.stderr)
        return 1
    pid = int(pid_path.read_text())
    if _alive(pid):
        stop_group(pid)
    pid_path.unlink(missing_ok=True)
    print(f"stopped Label Studio (pid {pid})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m zhibiao.annotations.server", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="action", required=True)
    start = sub.add_parser("start", help="start a local Label Studio on 127.0.0.1")
    start.add_argument("--data-dir", type=Path, required=True, help="SQLite DB, media, credentials, log")
    start.add_argument(
        "--files-root", type=Path, help="local files served to the UI (default DATA_DIR/files)"
    )
    start.add_argument("--port", type=int, default=DEFAULT_PORT)
    start.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="venv holding label-studio")
    start.add_argument("--config", type=Path, default=default_config_path(), help="client config to write")
    start.add_argument("--timeout", type=float, default=FIRST_START_TIMEOUT_S, help="readiness wait (s)")
    start.add_argument("--background", action="store_true", help="return once ready; stop with `stop`")
    start.set_defaults(func=_start)
    stop = sub.add_parser("stop", help="stop the server started with --background")
    stop.add_argument("--data-dir", type=Path, required=True)
    stop.set_defaults(func=_stop)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
