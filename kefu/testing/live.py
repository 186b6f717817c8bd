"""Real server processes for tests: `uvicorn kefu.asgi:application` on a free
loopback port, with its own environment.

    with LiveServer() as server:              # SQLite in a temp dir, migrated, demo data
        httpx.get(server.url + "/healthz")

    with live_servers(2, database_url=PG, redis_url=REDIS) as (a, b):
        ...                                   # two processes, one database

    # pytest
    @pytest.fixture(scope="module")
    def live():
        with LiveServer() as server:
            yield server

Nothing here imports Django: the servers are separate processes, and the
calling test process may use different settings (pytest-django's).
Every process started is terminated on exit (SIGTERM, then SIGKILL after a
grace period), whatever happens in the `with` block.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

__all__ = ["LiveServer", "LiveServerError", "free_port", "live_servers", "prepare_database"]

DEFAULT_SETTINGS = "kefu.settings.dev"
# Variables that select the backends; never inherited silently from the caller's
# environment (a test must not write into a developer's database by accident).
BACKEND_VARS = ("KEFU_DATABASE_URL", "KEFU_REDIS_URL")


class LiveServerError(RuntimeError):
    """A server (or its migrate/demo step) failed to start; the message has its log."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def build_env(
    *,
    settings: str = DEFAULT_SETTINGS,
    var_dir: str | os.PathLike | None = None,
    database_url: str | None = None,
    redis_url: str | None = None,
    inherit_backends: bool = False,
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a server process.

    The caller's environment is the base, minus the backend variables; those
    come from `database_url` / `redis_url`, or from the caller's environment
    when `inherit_backends=True` (e.g. the PostgreSQL + Redis phase of CI).
    Without a database URL the server uses SQLite in `var_dir`. `env` is
    applied last and wins.
    """
    result = {k: v for k, v in os.environ.items() if k not in BACKEND_VARS}
    result["DJANGO_SETTINGS_MODULE"] = settings
    result["PYTHONUNBUFFERED"] = "1"
    # Test servers load the bot's language models when first needed, not in a
    # background thread at start that competes with the test for 2 cores.
    result.setdefault("KEFU_BOT_WARMUP", "0")
    if var_dir is not None:
        result["KEFU_VAR_DIR"] = str(var_dir)
    if inherit_backends:
        for name in BACKEND_VARS:
            if os.environ.get(name):
                result[name] = os.environ[name]
    if database_url:
        result["KEFU_DATABASE_URL"] = database_url
    if redis_url:
        result["KEFU_REDIS_URL"] = redis_url
    if env:
        result.update(env)
    return result


def run_kefu(
    args: list[str], env: Mapping[str, str], *, timeout: float = 180, log_path: Path | None = None
) -> str:
    """Run `python -m kefu ARGS` (Django management); its output, or LiveServerError."""
    command = [sys.executable, "-m", "kefu", *args]
    try:
        done = subprocess.run(
            command,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise LiveServerError(f"`kefu {' '.join(args)}` took over {timeout:.0f} s") from error
    if log_path is not None:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"$ kefu {' '.join(args)}\n{done.stdout}\n")
    if done.returncode != 0:
        raise LiveServerError(
            f"`kefu {' '.join(args)}` failed ({done.returncode}):\n{done.stdout[-4000:]}"
        )
    return done.stdout


def prepare_database(
    env: Mapping[str, str], *, migrate: bool = True, demo: bool = True, log_path: Path | None = None
) -> None:
    """`kefu migrate --noinput` and `kefu demo` for the database that `env` selects."""
    if migrate:
        run_kefu(["migrate", "--noinput"], env, log_path=log_path)
    if demo:
        run_kefu(["demo"], env, log_path=log_path)


class LiveServer:
    """One `uvicorn kefu.asgi:application` process on a free loopback port.

    Arguments:
        settings: DJANGO_SETTINGS_MODULE of the server (default kefu.settings.dev,
            which serves static files and the demo pages).
        database_url / redis_url: KEFU_DATABASE_URL / KEFU_REDIS_URL for the server.
        inherit_backends: take KEFU_DATABASE_URL / KEFU_REDIS_URL from this
            process's environment (when set) instead.
        var_dir: KEFU_VAR_DIR (SQLite file, logs); a temp dir removed on stop
            when not given.
        migrate / demo: run `kefu migrate` / `kefu demo` before starting.
        env: extra environment variables (win over everything else).
        startup_timeout: seconds to wait for GET /healthz to answer 200.
        stop_timeout: seconds to wait after SIGTERM before SIGKILL.
        uvicorn_args: extra command-line arguments of uvicorn.

    Attributes once started: url ("http://127.0.0.1:PORT"), ws_url, port,
    process (subprocess.Popen), log_path (server output), env, var_dir.
    """

    def __init__(
        self,
        *,
        settings: str = DEFAULT_SETTINGS,
        database_url: str | None = None,
        redis_url: str | None = None,
        inherit_backends: bool = False,
        var_dir: str | os.PathLike | None = None,
        migrate: bool = True,
        demo: bool = True,
        env: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        uvicorn_args: tuple[str, ...] | list[str] = (),
        name: str = "kefu",
    ) -> None:
        self.name = name
        self.host = host
        self.requested_port = port
        self.migrate = migrate
        self.demo = demo
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.uvicorn_args = list(uvicorn_args)
        self._own_var_dir = var_dir is None
        self.var_dir = Path(var_dir) if var_dir is not None else None
        self.settings = settings
        self.database_url = database_url
        self.redis_url = redis_url
        self.inherit_backends = inherit_backends
        self.extra_env = dict(env or {})
        self.env: dict[str, str] = {}
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.log_path: Path | None = None
        self._log_file: IO[str] | None = None

    # --- public ---------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise LiveServerError("the server is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    @property
    def uses_sqlite(self) -> bool:
        return not self.env.get("KEFU_DATABASE_URL", "").strip() or self.env[
            "KEFU_DATABASE_URL"
        ].startswith("sqlite")

    def start(self) -> LiveServer:
        if self.process is not None:
            return self
        if self.var_dir is None:
            self.var_dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-live-"))
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.env = build_env(
            settings=self.settings,
            var_dir=self.var_dir,
            database_url=self.database_url,
            redis_url=self.redis_url,
            inherit_backends=self.inherit_backends,
            env=self.extra_env,
        )
        self.log_path = self.var_dir / f"{self.name}-server.log"
        try:
            prepare_database(self.env, migrate=self.migrate, demo=self.demo, log_path=self.log_path)
            self._spawn_and_wait()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL) and remove an own temp dir."""
        process, self.process = self.process, None
        if process is not None:
            _terminate(process, self.stop_timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._own_var_dir and self.var_dir is not None:
            shutil.rmtree(self.var_dir, ignore_errors=True)
            self.var_dir = None

    def read_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.port else "not started"
        return f"<LiveServer {self.name} {where}>"

    # --- internals ------------------------------------------------------------

    def _spawn_and_wait(self) -> None:
        attempts = 1 if self.requested_port else 3  # a "free" port can be taken meanwhile
        for attempt in range(attempts):
            self.port = self.requested_port or free_port(self.host)
            self._spawn()
            try:
                self._wait_healthy()
                return
            except LiveServerError:
                address_in_use = "address already in use" in self.read_log().lower()
                _terminate(self.process, self.stop_timeout)
                self.process = None
                if not address_in_use or attempt == attempts - 1:
                    raise

    def _spawn(self) -> None:
        assert self.log_path is not None
        command = [
            sys.executable, "-m", "uvicorn", "kefu.asgi:application",
            "--host", self.host, "--port", str(self.port),
            "--lifespan", "on", "--log-level", "warning",
            *self.uvicorn_args,
        ]  # fmt: skip
        if self._log_file is None:
            self._log_file = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115
        log = self._log_file
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        self.process = subprocess.Popen(
            command,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() reaches any children
        )

    def _wait_healthy(self) -> None:
        process, log_path = self.process, self.log_path
        assert process is not None and log_path is not None
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.url}/healthz"
        delay = 0.05
        while True:
            if process.poll() is not None:
                raise LiveServerError(
                    f"{self.name} exited with {process.returncode} before answering "
                    f"{url}:\n{_tail(log_path)}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() >= deadline:
                raise LiveServerError(
                    f"{self.name} did not answer {url} within {self.startup_timeout:.0f} s:\n"
                    f"{_tail(log_path)}"
                )
            time.sleep(delay)  # polling interval, bounded by the deadline above
            delay = min(delay * 1.5, 0.5)


def _terminate(process: subprocess.Popen | None, grace: float) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=grace)


@contextlib.contextmanager
def live_servers(
    count: int = 2,
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    inherit_backends: bool = False,
    var_dir: str | os.PathLike | None = None,
    migrate: bool = True,
    demo: bool = True,
    env: Mapping[str, str] | None = None,
    settings: str = DEFAULT_SETTINGS,
    **server_options: Any,
) -> Iterator[list[LiveServer]]:
    """Several server processes sharing one database (and, with a Redis URL,
    one channel layer): the database is migrated (and the demo loaded) once,
    then `count` servers start on their own ports.

    Without a database URL they share one SQLite file in `var_dir` (fine for
    HTTP, but each process then has its own in-memory channel layer: real-time
    events only cross processes with Redis).
    """
    own_dir = var_dir is None
    shared_dir = (
        Path(var_dir) if var_dir is not None else Path(tempfile.mkdtemp(prefix="kefu-live-"))
    )
    servers: list[LiveServer] = []
    try:
        prepare_database(
            build_env(
                settings=settings,
                var_dir=shared_dir,
                database_url=database_url,
                redis_url=redis_url,
                inherit_backends=inherit_backends,
                env=env,
            ),
            migrate=migrate,
            demo=demo,
            log_path=shared_dir / "prepare.log",
        )
        for index in range(count):
            server = LiveServer(
                settings=settings,
                database_url=database_url,
                redis_url=redis_url,
                inherit_backends=inherit_backends,
                env=env,
                var_dir=shared_dir,
                migrate=False,
                demo=False,
                name=f"kefu{index + 1}",
                **server_options,
            )
            servers.append(server)
            server.start()
        yield servers
    finally:
        for server in reversed(servers):
            server.stop()
        if own_dir:
            shutil.rmtree(shared_dir, ignore_errors=True)
