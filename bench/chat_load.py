#!/usr/bin/env python
"""Load benchmark of Kefu's live loop: widget <-> workbench over WebSockets.

Starts and stops its own servers unless ``--url`` is given:

* ``--mode embedded`` (default): one uvicorn process on a fresh SQLite file.
* ``--mode scaled``: a throwaway PostgreSQL and Redis, two uvicorn processes;
  customers connect to the first, agents to the second.

``C`` customer sockets (``/ws/widget/?token=...``) and ``A`` agent sockets
(``/ws/agent/``, session cookie) are opened; every customer opens one
conversation, and once every conversation is assigned to an agent the measured
phase sends ``R/2`` customer messages per second (round robin over customers,
one steady timer); every customer message that reaches an agent is answered
at once by that agent, so the total is ``R`` messages per second. Latency is
sent -> received by the other side, both directions. A message is lost when it
has not reached its recipient 5 s after sending stops, duplicated when a
socket receives the same message id twice.

In the same invocation the ceiling is measured: ``bench/relay_app.py``, a bare
ASGI relay (no framework, no database) under the same uvicorn with the same
connection shape, with the rate stepped up until p99 > 100 ms (or anything is
lost). ``--find-max`` steps the product the same way.

Progress goes to stderr; the last line of stdout is one JSON object. Exit status:
0 ran; 1 ran, but the measured --rate step lost, duplicated or refused messages
(or sockets closed); 2 could not run (setup, servers, conversations not assigned).
A step that misses p99 <= 100 ms is reported (``"held": false``), not an error.

    .venv/bin/python bench/chat_load.py                       # embedded, 1800+200, 1000 msg/s
    .venv/bin/python bench/chat_load.py --mode scaled --customers 900 --agents 100 --rate 500
    .venv/bin/python bench/chat_load.py --find-max
    .venv/bin/python bench/chat_load.py --ceiling-only
    .venv/bin/python bench/chat_load.py --skip-ceiling --customers 100 --agents 10 --rate 100

See docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import pwd
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
P99_LIMIT_MS = 100.0
DRAIN_SECONDS = 5.0  # a message is lost when not delivered this long after sending stops
MIN_SEND_RATIO = 0.95  # a step only "holds" if the client really offered the rate

CUSTOMER_TEXT = "你好，我想问一下订单什么时候发货？order 20261123-0042 please"
AGENT_TEXT = "您好，已为您查询，今天下午发出，请耐心等待。thanks"

perf = time.perf_counter


def log(*parts: object) -> None:
    print(time.strftime("[%H:%M:%S]"), *parts, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Processes: ports, CPU accounting, servers
# --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[int, float, str] | None:
    """(ppid, cpu seconds user+system, command name) of a process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    close = data.rindex(b")")
    rest = data[close + 2 :].split()
    comm = data[data.index(b"(") + 1 : close].decode(errors="replace")
    return int(rest[1]), (int(rest[11]) + int(rest[12])) / CLK_TCK, comm


def _all_procs() -> dict[int, tuple[int, float, str]]:
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (st := _proc_stat(int(name))):
            out[int(name)] = st
    return out


def _tree(procs: dict[int, tuple[int, float, str]], root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, st in procs.items():
        children.setdefault(st[0], []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


class CpuMeter:
    """CPU seconds of named process trees (a tree = a root pid and its descendants), of the
    whole machine, and of every other process (to name what else loaded the machine)."""

    def __init__(self) -> None:
        self.roots: dict[str, int] = {"client": os.getpid()}
        self.with_children: set[str] = set()

    def add(self, name: str, pid: int, tree: bool = False) -> None:
        self.roots[name] = pid
        if tree:
            self.with_children.add(name)

    def snapshot(self) -> tuple[float, dict[str, float], dict[int, tuple[str, float]]]:
        procs = _all_procs()
        out: dict[str, float] = {}
        ours: set[int] = set()
        for name, pid in self.roots.items():
            pids = _tree(procs, pid) if name in self.with_children else [pid]
            ours.update(pids)
            out[name] = sum(procs[p][1] for p in pids if p in procs)
        others = {pid: (st[2], st[1]) for pid, st in procs.items() if pid not in ours}
        return perf(), out, others

    @staticmethod
    def percent(a: tuple, b: tuple) -> dict:
        """Percent of one core per process tree; `other` is what every other process used
        (other load on the box), `other_top` the busiest of them, `machine` the sum (at most
        nproc * 100)."""
        wall = max(b[0] - a[0], 1e-9)
        out: dict = {k: round(100 * (b[1][k] - a[1].get(k, 0.0)) / wall, 1) for k in b[1]}
        per_name: Counter = Counter()
        for pid, (comm, cpu) in b[2].items():
            before = a[2].get(pid)
            delta = cpu - (before[1] if before else 0.0)
            if delta > 0:
                per_name[comm.split("-")[0] if comm.startswith("kworker") else comm] += delta
        out["other"] = round(100 * sum(per_name.values()) / wall, 1)
        out["machine"] = round(sum(v for k, v in out.items() if k != "machine"), 1)
        top = [(n, round(100 * v / wall)) for n, v in per_name.most_common(3)]
        out["other_top"] = ",".join(f"{n}:{v}" for n, v in top if v >= 2) or "-"
        return out


CONTENDED_PERCENT = 30.0  # other processes' CPU (percent of one core) that spoils a step


async def wait_quiet(me: CpuMeter, limit: float = 15.0, timeout: float = 180.0) -> bool:
    """Wait until processes other than ours use under `limit` % of a core for 2 s in a row."""
    deadline = perf() + timeout
    quiet = 0
    while perf() < deadline:
        a = me.snapshot()
        await asyncio.sleep(1.0)
        other = CpuMeter.percent(a, me.snapshot())["other"]
        quiet = quiet + 1 if other < limit else 0
        if quiet >= 2:
            return True
    log(f"machine still busy after {timeout:.0f} s; going on")
    return False


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """HTTP status of GET url (no proxies), None when nothing answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception:  # noqa: BLE001
        return None


class Stack:
    """Servers started by the bench; everything is stopped in stop(), also on errors."""

    def __init__(
        self, keep: bool = False, profile_dir: Path | None = None, ws: str = "websockets"
    ) -> None:
        self.ws = ws
        self.server_ping_interval: float | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
        self.keep = keep
        self.profile_dir = profile_dir
        self.uvicorns: list[tuple[str, subprocess.Popen, Path]] = []
        self.pg: tuple[str, Path] | None = None  # (pg_ctl, data dir)
        self.redis_pidfile: Path | None = None
        self.cpu = CpuMeter()
        self.env: dict[str, str] = {}
        self.profiles: list[Path] = []  # written profile reports
        self.profiled: dict[str, Path] = {}  # server name -> prefix of its raw profile files
        self.profile_tool = "sample"
        self.profile_dumps = 0
        self.profile_phase: str | None = None
        self.profile_pending: list[tuple[str, int]] = []
        self.warnings: list[str] = []

    # -- infrastructure -----------------------------------------------------------
    def start_postgres(self) -> str:
        pgbins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not pgbins:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        pgbin = pgbins[-1]
        d = self.tmp / "pg"
        d.mkdir()
        pw = pwd.getpwnam("postgres")
        os.chown(d, pw.pw_uid, pw.pw_gid)
        os.chmod(self.tmp, 0o755)
        port = free_port()
        run = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*run, str(pgbin / "initdb"), "-D", str(d / "data"), "-A", "trust", "-U", "kefu"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.pg = (str(pgbin / "pg_ctl"), d / "data")
        subprocess.run(
            [
                *run,
                str(pgbin / "pg_ctl"),
                "-D",
                str(d / "data"),
                "-l",
                str(d / "log"),
                "-w",
                "start",
                "-o",
                f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=300",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [str(pgbin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "kefu", "kefu"],
            check=True,
        )
        pid = int((d / "data" / "postmaster.pid").read_text().split()[0])
        self.cpu.add("postgres", pid, tree=True)
        log(f"postgres on 127.0.0.1:{port} (fsync=off), pid {pid}")
        return f"postgres://kefu@127.0.0.1:{port}/kefu"

    def start_redis(self) -> str:
        d = self.tmp / "redis"
        d.mkdir()
        port = free_port()
        self.redis_pidfile = d / "pid"
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(d),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.redis_pidfile),
                "--logfile",
                str(d / "log"),
            ],
            check=True,
        )
        deadline = time.time() + 10
        while not self.redis_pidfile.exists() and time.time() < deadline:
            time.sleep(0.05)
        self.cpu.add("redis", int(self.redis_pidfile.read_text().split()[0]))
        log(f"redis on 127.0.0.1:{port}")
        return f"redis://127.0.0.1:{port}/0"

    # -- uvicorn ------------------------------------------------------------------
    def start_uvicorn(
        self,
        name: str,
        app: str,
        env: dict[str, str],
        app_dir: Path | None = None,
        profile: bool = False,
    ) -> str:
        port = free_port()
        args = [
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--ws",
            self.ws,
            "--backlog",
            "4096",
        ]
        if self.server_ping_interval is not None:
            args += ["--ws-ping-interval", str(self.server_ping_interval)]
        if app_dir:
            args += ["--app-dir", str(app_dir)]
        if profile and self.profile_dir:
            prefix = self.tmp / f"profile-{name}"
            self.profiled[name] = prefix
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "_serve",
                self.profile_tool,
                str(prefix),
                *args,
            ]
        else:
            cmd = [sys.executable, "-m", "uvicorn", *args]
        logf = self.tmp / f"{name}.log"
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=logf.open("wb"), stderr=subprocess.STDOUT
        )
        self.uvicorns.append((name, proc, logf))
        self.cpu.add(name, proc.pid)
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail(logf)}")
            status = http_status(url + "/healthz", timeout=1)
            if status == 200:
                log(f"{name}: {app} on {url}, pid {proc.pid}")
                return url
            if status == 404:
                # the server answers, but has no health endpoint: say so and go on
                log(f"WARNING: {name}: GET /healthz answered 404; treating {url} as up")
                self.warnings.append(f"{name}: GET /healthz answered 404 (no health endpoint)")
                return url
            time.sleep(0.2)
        raise RuntimeError(f"{name} not ready on {url}/healthz after 60 s:\n{tail(logf)}")

    def check_alive(self) -> None:
        for name, proc, logf in self.uvicorns:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} died with {proc.returncode}:\n{tail(logf)}")

    def signal_servers(self, sig: int) -> None:
        for _, proc, _ in self.uvicorns:
            if proc.poll() is None:
                proc.send_signal(sig)

    def profile_begin(self, phase: str) -> None:
        """Profiled servers start recording (SIGUSR1)."""
        if not self.profiled:
            return
        self.profile_phase = phase
        for name, proc, _ in self.uvicorns:
            if name in self.profiled and proc.poll() is None:
                proc.send_signal(signal.SIGUSR1)

    def profile_end(self) -> None:
        """Profiled servers stop recording and write what they recorded (SIGUSR2)."""
        if not self.profiled or self.profile_phase is None:
            return
        self.profile_pending.append((self.profile_phase, self.profile_dumps + 1))
        self.profile_phase = None
        self.profile_dumps += 1
        for name, proc, _ in self.uvicorns:
            if name in self.profiled and proc.poll() is None:
                proc.send_signal(signal.SIGUSR2)

    def profile_collect(self) -> None:
        """Move what the servers wrote to DIR/<server>-<phase>.txt (and .collapsed or .prof);
        a repeated phase overwrites: the last attempt counts. Blocks: call between steps."""
        pending, self.profile_pending = self.profile_pending, []
        for phase, n in pending:
            self._collect(phase, n)

    def _collect(self, phase: str, n: int) -> None:
        for name, prefix in self.profiled.items():
            done = Path(f"{prefix}.{n}.done")
            deadline = time.time() + 30
            while not done.exists() and time.time() < deadline:
                time.sleep(0.05)
            if not done.exists():
                log(f"profile of {name} ({phase}) was not written")
                continue
            for raw in Path(prefix).parent.glob(f"{Path(prefix).name}.{n}.*"):
                ext = raw.name.rsplit(".", 1)[1]
                if ext != "done":
                    target = self.profile_dir / f"{name}-{phase}.{ext}"
                    shutil.move(raw, target)
                    if ext == "txt":
                        self.profiles.append(target)
                        head = target.read_text().splitlines()[:40]
                        log(f"profile {target}:\n" + "\n".join(head))
            done.unlink()

    def stop_uvicorns(self) -> None:
        for _, proc, _ in self.uvicorns:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc, _ in self.uvicorns:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop in 20 s; killing it")
                proc.kill()
                proc.wait()
            self.cpu.roots.pop(name, None)
        self.uvicorns = []

    def stop(self) -> None:
        try:
            self.stop_uvicorns()
        finally:
            if self.redis_pidfile and self.redis_pidfile.exists():
                try:
                    os.kill(int(self.redis_pidfile.read_text().split()[0]), signal.SIGTERM)
                except (OSError, ValueError):
                    pass
                self.redis_pidfile = None
            if self.pg:
                subprocess.run(
                    [
                        "runuser",
                        "-u",
                        "postgres",
                        "--",
                        self.pg[0],
                        "-D",
                        str(self.pg[1]),
                        "-m",
                        "fast",
                        "stop",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                self.pg = None
            if self.keep:
                log(f"kept {self.tmp}")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def logs_tail(self) -> str:
        return "\n".join(
            f"--- {name} ({logf}) ---\n{tail(logf)}" for name, _, logf in self.uvicorns
        )


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def kefu_cmd() -> list[str]:
    exe = ROOT / ".venv" / "bin" / "kefu"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "kefu"]


def server_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KEFU_DATABASE_URL", "KEFU_REDIS_URL", "KEFU_VAR_DIR")
    }
    env.update(
        {"DJANGO_SETTINGS_MODULE": "kefu.settings.dev", "KEFU_DEBUG": "0", "PYTHONUNBUFFERED": "1"}
    )
    env.update(extra)
    return env


def run_setup(
    env: dict[str, str], customers: int, agents: int, migrate: bool, logdir: Path
) -> dict:
    if migrate:
        t = perf()
        with (logdir / "migrate.log").open("wb") as out:
            mig = subprocess.run(
                [*kefu_cmd(), "migrate", "--noinput"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if mig.returncode:
            raise RuntimeError(f"migrate failed:\n{tail(logdir / 'migrate.log')}")
        log(f"migrated in {perf() - t:.1f} s")
    t = perf()
    r = subprocess.run(
        [*kefu_cmd(), "loadtest_setup", "--customers", str(customers), "--agents", str(agents)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if r.returncode:
        raise RuntimeError(
            f"loadtest_setup failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        )
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    if not lines:
        raise RuntimeError(f"loadtest_setup printed nothing:\n{r.stderr[-3000:]}")
    try:
        data = json.loads(lines[-1])
    except ValueError as e:
        raise RuntimeError(
            f"loadtest_setup: last stdout line is not JSON ({e}): {lines[-1][:500]}"
        ) from e
    log(
        f"loadtest_setup: {len(data.get('customers', []))} customers, "
        f"{len(data.get('agents', []))} agents in {perf() - t:.1f} s; "
        f"limits {json.dumps(data.get('limits'), ensure_ascii=False)}"
    )
    return data


# --------------------------------------------------------------------------------------
# The load client
# --------------------------------------------------------------------------------------


class Conn:
    __slots__ = (
        "ws",
        "is_agent",
        "idx",
        "url",
        "headers",
        "seen",
        "conv_id",
        "task",
        "closed",
        "convs",
    )

    def __init__(self, is_agent: bool, idx: int, url: str, headers: dict[str, str]) -> None:
        self.ws: Any = None
        self.is_agent = is_agent
        self.idx = idx
        self.url = url
        self.headers = headers
        self.seen: set = set()  # message ids received on this socket
        self.conv_id = None  # customers: their conversation
        self.convs: set = set()  # agents: conversations assigned to this socket
        self.task: asyncio.Task | None = None
        self.closed: str | None = None


def pct(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))
    return round(sorted_values[i] * 1000, 2)


class Load:
    def __init__(
        self, customers: list[Conn], agents: list[Conn], origin_c: str, origin_a: str, label: str
    ) -> None:
        self.customers = customers
        self.agents = agents
        self.origin = {False: origin_c, True: origin_a}
        self.label = label
        self.run = secrets.token_hex(4)
        self.step_no = 0
        self.pending: dict[str, float] = {}  # client_id -> send time, until delivered
        self.lat_c2a: list[float] = []
        self.lat_a2c: list[float] = []
        self.dup = 0
        self.late = 0
        self.errors: Counter = Counter()
        self.closes: Counter = Counter()
        self.other_types: Counter = Counter()
        self.statuses: Counter = Counter()
        self.sent_replies = 0
        self.reply_errors = 0
        self.frames = 0
        self.last_frame = perf()
        self.assigned: dict = {}  # conversation id -> agent index
        self.reply_pre: dict = {}  # conversation id -> pre-encoded frame head
        self.opener_ids: set[str] = set()
        self.closing = False
        self.error_samples: list[str] = []
        self.contention_retries = 2
        self.meter = CpuMeter()  # client only, when the servers are not ours (--url)
        self.heartbeat: asyncio.Task | None = None
        self.own_echoes = 0  # message frames of a socket's own side (the sender's echo)

    # -- connections --------------------------------------------------------------
    async def connect_all(self, spread: float = 0.0, concurrency: int = 100) -> None:
        """Open every socket, agents first, at most `concurrency` handshakes at a time, the
        starts spread evenly over `spread` seconds: the server's keepalive pings (uvicorn:
        every 20 s per socket, timed from its handshake) then come evenly, as they do from
        clients that did not all arrive in the same second, not as one burst of 2,000."""
        from websockets.asyncio.client import connect

        sem = asyncio.Semaphore(concurrency)
        failures: list[str] = []
        n_all = len(self.agents) + len(self.customers)
        gap = spread / n_all if n_all else 0.0
        t0 = perf()

        async def one(c: Conn, k: int) -> None:
            delay = t0 + k * gap - perf()
            if delay > 0:
                await asyncio.sleep(delay)
            async with sem:
                for attempt in range(4):
                    try:
                        c.ws = await connect(
                            c.url,
                            additional_headers=c.headers or None,
                            origin=self.origin[c.is_agent],
                            compression=None,
                            ping_interval=None,
                            open_timeout=30,
                            close_timeout=2,
                            max_queue=256,
                            proxy=None,
                            user_agent_header=None,
                        )
                        break
                    except Exception as e:  # noqa: BLE001
                        if attempt == 3:
                            failures.append(
                                f"{'agent' if c.is_agent else 'customer'} {c.idx}: "
                                f"{type(e).__name__}: {e}"
                            )
                            return
                        await asyncio.sleep(0.5 * (attempt + 1))
                c.task = asyncio.get_running_loop().create_task(self._recv(c))

        t = perf()
        # agents first: they must be online before the conversations open
        await asyncio.gather(*(one(c, k) for k, c in enumerate(self.agents)))
        n_a = len(self.agents)
        await asyncio.gather(*(one(c, n_a + k) for k, c in enumerate(self.customers)))
        if failures:
            raise RuntimeError(
                f"{len(failures)} connections failed, e.g. " + "; ".join(failures[:5])
            )
        log(
            f"{self.label}: {len(self.agents)} agent + {len(self.customers)} customer sockets "
            f"open in {perf() - t:.1f} s"
        )

    def start_heartbeat(self, interval: float) -> None:
        """Like the real widget and workbench (kefu/static/kefu/common.js), every socket sends
        {"type":"ping"} every `interval` seconds (the workbench's ping is the agent's presence
        heartbeat); spread evenly over the interval by one timer."""
        if interval > 0:
            self.heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(interval))

    async def _heartbeat(self, interval: float) -> None:
        conns = self.agents + self.customers
        gap = interval / len(conns)
        t0 = perf()
        k = 0
        while True:
            c = conns[k % len(conns)]
            k += 1
            if c.closed is None and c.ws is not None:
                try:
                    await c.ws.send(PING, text=True)
                except Exception:  # noqa: BLE001
                    pass
            delay = t0 + k * gap - perf()
            if delay > 0:
                await asyncio.sleep(delay)

    async def close_all(self) -> None:
        self.closing = True
        if self.heartbeat:
            self.heartbeat.cancel()
        conns = [c for c in self.agents + self.customers if c.ws is not None]

        async def close(c: Conn) -> None:
            try:
                await c.ws.close()
            except Exception:  # noqa: BLE001
                pass

        sem = asyncio.Semaphore(200)

        async def bounded(c: Conn) -> None:
            async with sem:
                await close(c)

        await asyncio.gather(*(bounded(c) for c in conns))
        for c in conns:
            if c.task:
                c.task.cancel()

    def closed_count(self) -> int:
        return sum(1 for c in self.agents + self.customers if c.closed)

    # -- receiving ----------------------------------------------------------------
    async def _recv(self, c: Conn) -> None:
        loads = json.loads
        pending = self.pending
        seen = c.seen
        ws = c.ws
        is_agent = c.is_agent
        lat_c2a, lat_a2c = self.lat_c2a, self.lat_a2c
        try:
            async for raw in ws:
                now = perf()
                self.frames += 1
                if type(raw) is not str:
                    raw = raw.decode()
                if raw == PONG:
                    continue
                self.last_frame = now  # pongs excluded: "quiet" means no chat traffic
                # acks are only needed for the customer's conversation id
                if (is_agent or c.conv_id is not None) and raw.startswith(ACK_PREFIXES):
                    continue
                try:
                    f = loads(raw)
                except ValueError:
                    self.errors["client:bad_json"] += 1
                    continue
                kind = f.get("type")
                if kind == "message":
                    m = f.get("message") or {}
                    mid = m.get("id")
                    if mid in seen:
                        self.dup += 1
                        continue
                    seen.add(mid)
                    st = m.get("sender_type")
                    if is_agent:
                        if st != "customer":
                            self.own_echoes += st == "agent"
                            continue
                        cid = m.get("client_id")
                        t0 = pending.pop(cid, None)
                        conv = m.get("conversation_id")
                        if conv is not None and conv not in self.assigned:
                            self.assigned[conv] = c.idx
                            c.convs.add(conv)
                        if t0 is None:
                            if cid and cid.startswith(self.run) and cid not in self.opener_ids:
                                self.late += 1
                            continue
                        lat_c2a.append(now - t0)
                        pre = self.reply_pre.get(conv)
                        if pre is None:
                            pre = self.reply_pre[conv] = (
                                f'{{"type":"send","conversation_id":{json.dumps(conv)},'
                                f'"client_id":"'
                            ).encode()
                        rcid = cid[:19] + "9" + cid[20:]
                        frame = pre + rcid.encode() + AGENT_TAIL
                        pending[rcid] = perf()
                        self.sent_replies += 1
                        try:
                            await ws.send(frame, text=True)
                        except Exception:  # noqa: BLE001
                            self.reply_errors += 1
                            pending.pop(rcid, None)
                    else:
                        if st != "agent":
                            self.own_echoes += st == "customer"
                            continue
                        cid = m.get("client_id")
                        t0 = pending.pop(cid, None)
                        if t0 is None:
                            if cid and cid.startswith(self.run):
                                self.late += 1
                            continue
                        lat_a2c.append(now - t0)
                elif kind == "ack":
                    m = f.get("message") or {}
                    if not is_agent and c.conv_id is None:
                        c.conv_id = m.get("conversation_id")
                elif kind == "conversation":
                    conv = f.get("conversation") or {}
                    status = conv.get("status")
                    self.statuses[f"{'agent' if is_agent else 'customer'}:{status}"] += 1
                    if not is_agent and c.conv_id is None and conv.get("id") is not None:
                        c.conv_id = conv["id"]
                    if is_agent and conv.get("id") is not None:
                        if status == "open" and conv.get("agent_id") is not None:
                            self.assigned.setdefault(conv["id"], c.idx)
                            c.convs.add(conv["id"])
                elif kind == "error":
                    code = f.get("code")
                    self.errors[code] += 1
                    if len(self.error_samples) < 5:
                        self.error_samples.append(raw[:300])
                        log(
                            f"{self.label}: error frame on {'agent' if is_agent else 'customer'} "
                            f"{c.idx}: {raw[:300]}"
                        )
                else:
                    self.other_types[kind] += 1
        except Exception as e:  # noqa: BLE001
            if not self.closing:
                c.closed = f"{type(e).__name__}: {e}"
        finally:
            if not self.closing:
                rcvd = getattr(ws, "close_code", None)
                c.closed = (
                    c.closed or f"closed by server ({rcvd} {getattr(ws, 'close_reason', '')})"
                )
                self.closes[c.closed[:80]] += 1
                if sum(self.closes.values()) <= 3:
                    log(
                        f"{self.label}: {'agent' if is_agent else 'customer'} {c.idx} "
                        f"socket ended: {c.closed}"
                    )

    # -- phases -------------------------------------------------------------------
    def _cid(self, kind: str, n: int) -> str:
        # UUID-shaped: <run>-<step>-4000-<kind>000-<n>; kind 8 = customer, 9 = reply, a = opener
        return f"{self.run}-{self.step_no:04x}-4000-{kind}000-{n:012x}"

    async def open_conversations(self, rate: float, timeout: float, window: int = 50) -> dict:
        """Every customer sends one message, at most `rate` per second and at most `window`
        still unanswered (so a slow server is not buried under a backlog it has to work off
        first); then wait until every conversation has an agent."""
        t = perf()
        interval = 1.0 / rate
        start = perf()
        outstanding: list[Conn] = []
        last_answer = perf()
        for i, c in enumerate(self.customers):
            while len(outstanding) >= window and perf() - last_answer < timeout:
                await asyncio.sleep(0.005)
                still = [x for x in outstanding if x.conv_id is None]
                if len(still) < len(outstanding):
                    last_answer = perf()
                outstanding = still
            cid = self._cid("a", i)
            self.opener_ids.add(cid)
            await c.ws.send(C_HEAD + cid.encode() + C_TAIL, text=True)
            outstanding.append(c)
            delay = start + (i + 1) * interval - perf()
            if delay > 0:
                await asyncio.sleep(delay)
        # the server may queue the openers; wait as long as it makes progress
        last_progress, progress, last_log = perf(), -1, perf()
        hard_deadline = perf() + max(600.0, 10 * timeout)
        while perf() < hard_deadline:
            known = [c.conv_id for c in self.customers if c.conv_id is not None]
            if len(known) == len(self.customers) and all(x in self.assigned for x in known):
                break
            now_progress = len(known) + len(self.assigned)
            if now_progress != progress:
                progress, last_progress = now_progress, perf()
            elif perf() - last_progress > timeout:
                break
            if perf() - last_log > 10:
                last_log = perf()
                log(
                    f"{self.label}: opening: {len(known)}/{len(self.customers)} customers have "
                    f"their conversation, {len(self.assigned)} assigned to agents"
                )
            await asyncio.sleep(0.1)
        convs = [c.conv_id for c in self.customers]
        missing_conv = sum(1 for x in convs if x is None)
        unassigned = sum(1 for x in convs if x is not None and x not in self.assigned)
        per_agent = [len(a.convs) for a in self.agents]
        info = {
            "seconds": round(perf() - t, 1),
            "conversations_per_s": round(len(self.customers) / max(perf() - t, 1e-9), 1),
            "customers_without_conversation": missing_conv,
            "conversations_unassigned": unassigned,
            "conversations_per_agent_min": min(per_agent) if per_agent else 0,
            "conversations_per_agent_max": max(per_agent) if per_agent else 0,
            "conversation_statuses_seen": dict(self.statuses),
        }
        log(f"{self.label}: conversations opened: {json.dumps(info, ensure_ascii=False)}")
        if missing_conv or unassigned:
            raise RuntimeError(
                f"{missing_conv} customers got no conversation id (no ack) and {unassigned} "
                f"conversations were not assigned to an agent socket (gave up after "
                f"{timeout:.0f} s without progress); "
                f"errors {dict(self.errors)}; other frame types {dict(self.other_types)}; "
                f"error samples {self.error_samples}"
            )
        return info

    async def step(
        self,
        rate: float,
        duration: float,
        stack: Stack | None = None,
        record: bool = True,
        profile: bool = False,
    ) -> dict:
        """Send rate/2 customer messages per second for `duration` s, then drain."""
        self.step_no += 1
        pending = self.pending
        pending.clear()
        self.lat_c2a.clear()
        self.lat_a2c.clear()
        dup0, late0, err0 = self.dup, self.late, sum(self.errors.values())
        closed0 = self.closed_count()
        replies0, reply_err0, frames0 = self.sent_replies, self.reply_errors, self.frames
        rate_c = rate / 2.0
        custs = [c for c in self.customers if c.closed is None]
        n = len(custs)
        lags: list[float] = []
        send_errors = 0
        meter = stack.cpu if stack else self.meter
        cpu0 = meter.snapshot()
        if profile and stack:
            stack.profile_begin("step")
        t0 = perf()
        k = 0
        idx = 0
        total = int(round(rate_c * duration))
        while k < total:
            now = perf()
            due = min(total, int((now - t0) * rate_c) + 1)
            burst = 0
            while k < due and burst < 64:
                c = custs[idx]
                idx += 1
                if idx == n:
                    idx = 0
                cid = f"{self.run}-{self.step_no:04x}-4000-8000-{k:012x}"
                ts = perf()
                pending[cid] = ts
                lags.append(ts - (t0 + k / rate_c))
                try:
                    await c.ws.send(C_HEAD + cid.encode() + C_TAIL, text=True)
                except Exception:  # noqa: BLE001
                    send_errors += 1
                    pending.pop(cid, None)
                k += 1
                burst += 1
            if k >= total:
                break
            delay = t0 + k / rate_c - perf()
            await asyncio.sleep(delay if delay > 0 else 0)
        t_stop = perf()
        if profile and stack:
            stack.profile_end()
        cpu1 = meter.snapshot()
        sent_c = k - send_errors
        # drain: wait for every outstanding message, at most DRAIN_SECONDS
        while pending and perf() < t_stop + DRAIN_SECONDS:
            await asyncio.sleep(0.02)
        drained = perf() - t_stop
        lost_c = sum(1 for cid in pending if cid[19] == "8")
        lost_a = len(pending) - lost_c
        lost_sample = list(pending)[:3]
        pending.clear()
        sent_a = self.sent_replies - replies0 - (self.reply_errors - reply_err0)
        lat_all = sorted(self.lat_c2a + self.lat_a2c)
        c2a = sorted(self.lat_c2a)
        a2c = sorted(self.lat_a2c)
        lags.sort()
        delivered = len(lat_all)
        errors = sum(self.errors.values()) - err0
        closed = self.closed_count() - closed0
        res: dict[str, Any] = {
            "rate": round(rate, 1),
            "duration_s": round(t_stop - t0, 2),
            "sent": sent_c + sent_a,
            "sent_customer": sent_c,
            "sent_agent": sent_a,
            "delivered": delivered,
            "throughput_msgs_per_s": round(delivered / max(t_stop - t0, 1e-9), 1),
            "offered_msgs_per_s": round(2 * k / max(t_stop - t0, 1e-9), 1),
            "p50_ms": pct(lat_all, 50),
            "p90_ms": pct(lat_all, 90),
            "p99_ms": pct(lat_all, 99),
            "max_ms": pct(lat_all, 100),
            "c2a_p50_ms": pct(c2a, 50),
            "c2a_p99_ms": pct(c2a, 99),
            "a2c_p50_ms": pct(a2c, 50),
            "a2c_p99_ms": pct(a2c, 99),
            "lost": lost_c + lost_a,
            "lost_customer_to_agent": lost_c,
            "lost_agent_to_customer": lost_a,
            "duplicated": self.dup - dup0,
            "errors": errors,
            "send_errors": send_errors + self.reply_errors - reply_err0,
            "sockets_closed": closed,
            "client_send_lag_p99_ms": pct(lags, 99),
            "drain_s": round(drained, 2),
            "frames_received": self.frames - frames0,
            "late_from_earlier_steps": self.late - late0,
        }
        if cpu0 and cpu1:
            res["cpu_percent"] = CpuMeter.percent(cpu0, cpu1)
        res["held"] = bool(
            res["p99_ms"] is not None
            and res["p99_ms"] <= P99_LIMIT_MS
            and res["lost"] == 0
            and res["duplicated"] == 0
            and errors == 0
            and closed == 0
            and res["send_errors"] == 0
            and res["offered_msgs_per_s"] >= MIN_SEND_RATIO * rate
        )
        if lost_sample and res["lost"]:
            res["lost_sample"] = lost_sample
        cpu_txt = " ".join(f"{k_}={v}%" for k_, v in res.get("cpu_percent", {}).items())
        log(
            f"{self.label}: rate {rate:.0f} -> {res['throughput_msgs_per_s']:.0f} msg/s delivered, "
            f"p50 {res['p50_ms']} p99 {res['p99_ms']} max {res['max_ms']} ms "
            f"(c2a p99 {res['c2a_p99_ms']}, a2c p99 {res['a2c_p99_ms']}), lost {res['lost']}, "
            f"dup {res['duplicated']}, errors {errors}, closed {closed}, send lag p99 "
            f"{res['client_send_lag_p99_ms']} ms, cpu {cpu_txt}"
            f"{'' if record else ' [warm-up]'} -> {'held' if res['held'] else 'FAILED'}"
        )
        # let any backlog of an overloaded step clear before the next one
        quiet_deadline = perf() + 30
        while perf() - self.last_frame < 0.5 and perf() < quiet_deadline:
            await asyncio.sleep(0.1)
        if stack:
            stack.check_alive()
            stack.profile_collect()
        return res

    async def checked_step(
        self, rate: float, duration: float, stack: Stack | None, profile: bool = False
    ) -> dict:
        """step(), run again when it failed while something else on the machine was using the
        CPU (the client and the servers share 2 cores; a busy neighbour fails any step)."""
        for attempt in range(self.contention_retries + 1):
            r = await self.step(rate, duration, stack, profile=profile)
            other = (r.get("cpu_percent") or {}).get("other", 0.0)
            r["contended"] = other > CONTENDED_PERCENT
            if r["held"] or not r["contended"] or self.closed_count():
                return r
            if attempt < self.contention_retries:
                log(
                    f"{self.label}: other processes used {other}% CPU during that step; "
                    f"waiting for a quiet machine, then repeating it"
                )
                await wait_quiet(stack.cpu if stack else CpuMeter())
        return r

    async def find_max(
        self,
        start: float,
        factor: float,
        refine: int,
        max_rate: float,
        duration: float,
        stack: Stack | None,
    ) -> tuple[dict | None, list[dict]]:
        steps: list[dict] = []
        best: dict | None = None
        failed_rate: float | None = None
        rate = start
        while rate <= max_rate:
            r = await self.checked_step(rate, duration, stack)
            steps.append(r)
            if r["sockets_closed"] and not r["held"]:
                failed_rate = rate
                break
            if r["held"]:
                best = r
                rate = round(rate * factor, -1)
            else:
                failed_rate = rate
                break
        if failed_rate is not None and not self.closed_count():
            lo = best["rate"] if best else 0.0
            hi = failed_rate
            for _ in range(refine):
                mid = round((lo + hi) / 2, -1)
                if mid <= lo or mid >= hi:
                    break
                r = await self.checked_step(mid, duration, stack)
                steps.append(r)
                if r["held"]:
                    best, lo = r, mid
                else:
                    hi = mid
                if self.closed_count():
                    break
        elif failed_rate is None and best is not None:
            best["capped"] = True  # every step held: the answer is only a lower bound
            log(f"{self.label}: every step held up to --max-rate; {best['rate']:.0f} is a floor")
        return best, steps


PING = b'{"type":"ping"}'
PONG = '{"type":"pong"}'
ACK_PREFIXES = ('{"type":"ack"', '{"type": "ack"')
C_HEAD = b'{"type":"send","client_id":"'
C_TAIL = ('","text":' + json.dumps(CUSTOMER_TEXT, ensure_ascii=False) + "}").encode()
AGENT_TAIL = ('","text":' + json.dumps(AGENT_TEXT, ensure_ascii=False) + "}").encode()


def ws_base(http_url: str) -> tuple[str, str]:
    u = urlsplit(http_url)
    scheme = "wss" if u.scheme == "https" else "ws"
    return f"{scheme}://{u.netloc}", f"{u.scheme}://{u.netloc}"


def product_conns(setup: dict, url_c: str, url_a: str) -> tuple[list[Conn], list[Conn]]:
    wc, _ = ws_base(url_c)
    wa, _ = ws_base(url_a)
    customers = [
        Conn(False, i, f"{wc}/ws/widget/?token={quote(x['token'], safe='')}", {})
        for i, x in enumerate(setup["customers"])
    ]
    agents = [
        Conn(True, j, f"{wa}/ws/agent/", {"Cookie": f"sessionid={x['session_key']}"})
        for j, x in enumerate(setup["agents"])
    ]
    return customers, agents


def relay_conns(url: str, n_customers: int, n_agents: int) -> tuple[list[Conn], list[Conn]]:
    w, _ = ws_base(url)
    customers = [
        Conn(False, i, f"{w}/ws/widget/?token=c{i}.a{i % n_agents}", {}) for i in range(n_customers)
    ]
    agents = [Conn(True, j, f"{w}/ws/agent/?agent=a{j}", {}) for j in range(n_agents)]
    return customers, agents


def new_runner():
    try:
        import uvloop

        return asyncio.Runner(loop_factory=uvloop.new_event_loop), "uvloop"
    except ImportError:
        return asyncio.Runner(), "asyncio"


# --------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------


async def drive(
    load: Load,
    args,
    stack: Stack | None,
    *,
    main_rate: float | None,
    find_max: bool,
    open_timeout: float,
    profile: bool = False,
) -> dict:
    out: dict = {}
    try:
        if profile and stack:
            stack.profile_begin("open")
        await load.connect_all(spread=args.open_spread)
        load.start_heartbeat(args.ping_interval)
        out["warmup"] = await load.open_conversations(
            args.open_rate, open_timeout, args.open_window
        )
        if profile and stack:
            stack.profile_end()
            stack.profile_collect()
        # keep the client's collector from pausing the loop over long-lived connection objects
        gc.collect()
        gc.freeze()
        if main_rate is not None:
            await load.step(min(main_rate, args.start_rate), args.warmup, stack, record=False)
            out["main"] = await load.checked_step(main_rate, args.duration, stack, profile=profile)
        if find_max:
            if main_rate is None:
                await load.step(args.start_rate, args.warmup, stack, record=False)
            best, steps = await load.find_max(
                args.start_rate, args.factor, args.refine, args.max_rate, args.step_duration, stack
            )
            out["best"] = best
            out["steps"] = steps
    finally:
        await load.close_all()
    return out


def run_product(args, runner) -> dict:
    stack = None
    profile = args.profile is not None
    if args.setup_json or args.url:
        urls = (args.url or "").split(",") if args.url else []
        if not urls:
            raise SystemExit("--setup-json needs --url")
        url_c, url_a = urls[0], urls[-1]
        if args.setup_json:
            setup = json.loads(Path(args.setup_json).read_text().strip().splitlines()[-1])
        else:
            with tempfile.TemporaryDirectory(prefix="kefu-bench-") as logdir:
                setup = run_setup(
                    dict(
                        os.environ,
                        DJANGO_SETTINGS_MODULE=os.environ.get(
                            "DJANGO_SETTINGS_MODULE", "kefu.settings.dev"
                        ),
                    ),
                    args.customers,
                    args.agents,
                    migrate=False,
                    logdir=Path(logdir),
                )
        mode = "url"
    else:
        stack = Stack(
            keep=args.keep,
            profile_dir=Path(args.profile).resolve() if profile else None,
            ws=args.ws,
        )
        stack.server_ping_interval = args.server_ping_interval
        stack.profile_tool = args.profile_tool
        if stack.profile_dir:
            stack.profile_dir.mkdir(parents=True, exist_ok=True)
        mode = args.mode
        try:
            if args.mode == "embedded":
                env = server_env({"KEFU_VAR_DIR": str(stack.tmp)})
            else:
                db = stack.start_postgres()
                rd = stack.start_redis()
                env = server_env(
                    {"KEFU_VAR_DIR": str(stack.tmp), "KEFU_DATABASE_URL": db, "KEFU_REDIS_URL": rd}
                )
            stack.env = env
            setup = run_setup(env, args.customers, args.agents, migrate=True, logdir=stack.tmp)
            if args.mode == "embedded":
                url_c = url_a = stack.start_uvicorn(
                    "kefu-1", "kefu.asgi:application", env, profile=profile
                )
            else:
                url_c = stack.start_uvicorn(
                    "kefu-customers", "kefu.asgi:application", env, profile=profile
                )
                url_a = stack.start_uvicorn(
                    "kefu-agents", "kefu.asgi:application", env, profile=profile
                )
        except BaseException:
            stack.stop()
            raise
    customers, agents = product_conns(setup, url_c, url_a)
    load = Load(customers, agents, ws_base(url_c)[1], ws_base(url_a)[1], f"kefu/{mode}")
    load.contention_retries = args.contention_retries if stack else 0
    try:
        res = runner.run(
            drive(
                load,
                args,
                stack,
                main_rate=args.rate,
                find_max=args.find_max,
                open_timeout=args.open_timeout,
                profile=profile,
            )
        )
    except BaseException:
        if stack:
            log("server log tails:\n" + stack.logs_tail())
        raise
    finally:
        if stack:
            stack.stop()
    res["mode"] = mode
    res["setup"] = {
        "customers": len(customers),
        "agents": len(agents),
        "limits": setup.get("limits"),
        "shop_slug": setup.get("shop_slug"),
        "agent_capacity": math.ceil(len(customers) / max(1, len(agents))),
    }
    if stack and stack.warnings:
        res["warnings"] = stack.warnings
    res["own_echo"] = load.own_echoes > 0
    res["frames"] = {
        "own_echoes": load.own_echoes,
        "errors_by_code": dict(load.errors),
        "other_types": dict(load.other_types),
        "socket_closes": dict(load.closes),
        "late": load.late,
    }
    if stack and stack.profiles:
        res["profiles"] = [str(p) for p in stack.profiles]
    return res


def run_ceiling(args, runner, echo: bool) -> dict:
    stack = Stack(keep=args.keep, ws=args.ws)
    stack.server_ping_interval = args.server_ping_interval
    try:
        env = server_env({"KEFU_RELAY_ECHO": "1" if echo else "0"})
        url = stack.start_uvicorn("relay", "relay_app:app", env, app_dir=BENCH)
        customers, agents = relay_conns(url, args.customers, args.agents)
        load = Load(customers, agents, url, url, "relay")
        load.contention_retries = args.contention_retries
        # reuse drive(): open conversations, then step up
        ns = argparse.Namespace(**{**vars(args), "start_rate": args.ceiling_start_rate})
        return runner.run(
            drive(load, ns, stack, main_rate=None, find_max=True, open_timeout=args.open_timeout)
        )
    except BaseException:
        log("relay log tail:\n" + stack.logs_tail())
        raise
    finally:
        stack.stop()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


IDLE_TOPS = {
    # where threads wait: uvloop's loop (C) under asyncio.Runner, pure-asyncio's select,
    # executor workers waiting for work, locks and queues
    "asyncio/runners.py:run",
    "asyncio/base_events.py:run_forever",
    "asyncio/base_events.py:run_until_complete",
    "selectors.py:select",
    "concurrent/futures/thread.py:_worker",
    "threading.py:wait",
    "threading.py:_wait_for_tstate_lock",
    "queue.py:get",
}


class ThreadSampler:
    """A CPU profile of every thread of this process, without tracing: every few milliseconds
    a helper thread looks at each other thread's stack (sys._current_frames). Samples where a
    thread waits (IDLE_TOPS) are dropped; the others tell where that thread's CPU time goes,
    and are scaled to the CPU time the thread really used (its pthread CPU clock). The
    main thread (the event loop) is sampled by a CPU-time timer signal instead.
    Results: per-function own and inclusive CPU, and collapsed stacks (flamegraph.pl,
    speedscope)."""

    def __init__(self, interval: float = 0.003) -> None:
        import threading

        self.interval = interval
        self.on = threading.Event()
        self.stacks: Counter = Counter()  # (thread, frames...) -> CPU ns (main: samples)
        self.cpu: Counter = Counter()  # thread name -> cpu ns while recording
        self.idle: Counter = Counter()  # thread name -> idle samples
        self.errors: Counter = Counter()  # threads whose CPU clock could not be read
        self.lock = threading.Lock()
        self.switch = sys.getswitchinterval()
        threading.Thread(target=self._run, name="bench-sampler", daemon=True).start()

    def start(self) -> None:
        # the event loop's thread is sampled by a CPU-time timer signal, whose handler runs in
        # that thread and is handed the interrupted frame: a helper thread would mostly see
        # the loop idle, as it only gets the GIL when the loop releases it
        signal.signal(signal.SIGPROF, self._on_prof)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        # the helper thread also needs the GIL to look: with the default 5 ms switch interval
        # it would mostly get it when a thread lets it go (a database call), not mid-Python
        self.switch = sys.getswitchinterval()
        sys.setswitchinterval(0.0002)
        self.on.set()

    def stop(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        sys.setswitchinterval(self.switch)
        self.on.clear()

    def _on_prof(self, _signum: int, frame) -> None:
        if frame is None or not self.on.is_set():
            return
        code = frame.f_code
        top = f"{_short(code.co_filename)}:{code.co_name}"
        if top in IDLE_TOPS:
            return
        with self.lock:
            self.stacks[("MainThread", *_stack(frame))] += 1

    def _run(self) -> None:
        import threading

        me = threading.get_ident()
        clocks: dict[int, int] = {}
        last: dict[int, int] = {}
        while True:
            if not self.on.wait(0.2):
                last.clear()
                continue
            time.sleep(self.interval)
            frames = sys._current_frames()
            names = {t.ident: t.name for t in threading.enumerate()}
            with self.lock:
                for tid, frame in frames.items():
                    if tid == me:
                        continue
                    name = names.get(tid, "?").split("_")[0]
                    try:
                        try:
                            cpu = time.clock_gettime_ns(clocks[tid])
                        except (KeyError, OSError):
                            # new thread, or a new thread that reuses a dead one's ident
                            clocks[tid] = time.pthread_getcpuclockid(tid)
                            last.pop(tid, None)
                            cpu = time.clock_gettime_ns(clocks[tid])
                    except (OSError, OverflowError) as e:
                        self.errors[f"{name}: {type(e).__name__}: {e}"] += 1
                        continue
                    before = last.get(tid)
                    last[tid] = cpu
                    used = cpu - before if before is not None and cpu > before else 0
                    self.cpu[name] += used
                    if name == "MainThread":
                        continue  # sampled by _on_prof
                    code = frame.f_code
                    top = f"{_short(code.co_filename)}:{code.co_name}"
                    if top in IDLE_TOPS or not used:
                        # waiting, or not run since the last look (e.g. waiting for the GIL)
                        self.idle[name] += 1
                        continue
                    # the CPU it used since the last look goes to where it is now
                    self.stacks[(name, *_stack(frame))] += used

    def dump(self, prefix: str) -> None:
        with self.lock:
            stacks, cpu = self.stacks, self.cpu
            self.stacks, self.cpu, self.idle = Counter(), Counter(), Counter()
        busy: Counter = Counter()
        for stack, n in stacks.items():
            busy[stack[0]] += n
        # scale each thread's samples (CPU ns; main thread: timer samples) to its CPU time
        weight = {t: cpu[t] / busy[t] for t in busy if busy[t]}
        total = sum(cpu[t] for t in busy) or 1
        own: Counter = Counter()
        incl: Counter = Counter()
        weighted: Counter = Counter()
        for stack, n in stacks.items():
            ns = n * weight.get(stack[0], 0)
            weighted[stack] = ns
            funcs = [fr.rsplit(":", 1)[0] for fr in stack[1:]]  # tables: per function
            own[funcs[-1]] += ns
            for fn in set(funcs):
                incl[fn] += ns
        lines = [
            f"CPU profile (sampled, all threads): {sum(cpu.values()) / 1e9:.2f} CPU-s",
            "per thread: " + ", ".join(f"{t} {v / 1e9:.2f} CPU-s" for t, v in cpu.most_common()),
            "Threads contend for the GIL: time a thread spends waiting for it is not its CPU "
            "time, but the other threads' work shows up at the points where they let it go.",
            *(f"could not read a CPU clock: {e} ({n}x)" for e, n in self.errors.items()),
            "",
            "own CPU (the function itself, or C code it called, was running; collapsed stacks "
            "with line numbers in the .collapsed file):",
        ]
        lines += [f"  {100 * v / total:5.1f}%  {fn}" for fn, v in own.most_common(35)]
        lines += ["", "inclusive CPU (the function was on the stack):"]
        lines += [f"  {100 * v / total:5.1f}%  {fn}" for fn, v in incl.most_common(60)]
        Path(f"{prefix}.txt").write_text("\n".join(lines) + "\n")
        Path(f"{prefix}.collapsed").write_text(
            "".join(
                f"{';'.join(st)} {int(ns // 1000)}\n"
                for st, ns in weighted.most_common()
                if ns >= 1000
            )
        )


def _stack(frame, depth: int = 60) -> list[str]:
    """A frame's stack, outermost first, as file:function:line (at most `depth`)."""
    stack: list[str] = []
    while frame is not None and len(stack) < depth:
        code = frame.f_code
        stack.append(f"{_short(code.co_filename)}:{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return stack[::-1]


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3", "/work/main/"):
        i = path.find(marker)
        if i >= 0:
            return path[i + len(marker) :].lstrip("/").removeprefix(".11/")
    return path


def serve_profiled(tool: str, prefix: str, uvicorn_args: list[str]) -> None:
    """`chat_load.py _serve sample|cprofile PREFIX uvicorn-args...`: uvicorn, profiled between
    SIGUSR1 (start) and SIGUSR2 (stop and write PREFIX.<n>.txt and the raw data, then
    PREFIX.<n>.done). `sample`: all threads, CPU-weighted stack samples, no slowdown;
    `cprofile`: the event-loop thread only, deterministic, about twice as slow."""
    import threading

    from uvicorn.main import main as uvicorn_main

    dumps = [0]
    if tool == "cprofile":
        import cProfile
        import io
        import pstats

        prof = [cProfile.Profile()]

        def start(*_: object) -> None:
            prof[0].enable()

        def write(n: int, p: cProfile.Profile) -> None:
            p.dump_stats(f"{prefix}.{n}.prof")
            buf = io.StringIO()
            st = pstats.Stats(f"{prefix}.{n}.prof", stream=buf)
            st.sort_stats("tottime").print_stats(35)
            st.sort_stats("cumulative").print_stats(45)
            Path(f"{prefix}.{n}.txt").write_text(buf.getvalue())
            Path(f"{prefix}.{n}.done").touch()

        def stop(*_: object) -> None:
            p = prof[0]
            p.disable()
            prof[0] = cProfile.Profile()
            dumps[0] += 1
            threading.Thread(target=write, args=(dumps[0], p)).start()

    else:
        sampler = ThreadSampler()

        def start(*_: object) -> None:
            sampler.start()

        def write(n: int) -> None:
            sampler.dump(f"{prefix}.{n}")
            Path(f"{prefix}.{n}.done").touch()

        def stop(*_: object) -> None:
            sampler.stop()
            dumps[0] += 1
            threading.Thread(target=write, args=(dumps[0],)).start()

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    # uvicorn re-raises the SIGTERM it caught once it has shut down; with the default handler
    # that would kill the process before anything pending is written.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    uvicorn_main.main(args=uvicorn_args, standalone_mode=False)


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import websockets

        wsv = websockets.__version__
    except Exception:  # noqa: BLE001
        wsv = "?"
    try:
        import uvicorn

        uvv = uvicorn.__version__
    except Exception:  # noqa: BLE001
        uvv = "?"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "uvicorn": uvv,
        "websockets": wsv,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--mode", choices=["embedded", "scaled"], default="embedded")
    p.add_argument("--customers", type=int, default=1800)
    p.add_argument("--agents", type=int, default=200)
    p.add_argument(
        "--rate",
        type=float,
        default=1000.0,
        help="total messages/s, both directions (customers send rate/2)",
    )
    p.add_argument("--duration", type=float, default=20.0, help="seconds of sending at --rate")
    p.add_argument(
        "--find-max",
        action="store_true",
        help="also step the product's rate up to the highest that holds",
    )
    p.add_argument("--skip-ceiling", action="store_true", help="do not measure the bare relay")
    p.add_argument("--ceiling-only", action="store_true", help="only measure the bare relay")
    p.add_argument(
        "--url",
        help="use a running server (http://host:port); two comma-separated "
        "URLs: customers on the first, agents on the second. The setup "
        "command then runs with the caller's environment",
    )
    p.add_argument("--setup-json", help="with --url: file whose last line is loadtest_setup's JSON")
    p.add_argument(
        "--step-duration", type=float, default=8.0, help="seconds of sending per step when stepping"
    )
    p.add_argument("--start-rate", type=float, default=500.0, help="first step of --find-max")
    p.add_argument(
        "--ceiling-start-rate", type=float, default=1000.0, help="first step of the ceiling"
    )
    p.add_argument("--factor", type=float, default=1.5, help="step multiplier")
    p.add_argument("--refine", type=int, default=2, help="bisection steps after the first failure")
    p.add_argument("--max-rate", type=float, default=60000.0)
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before measuring")
    p.add_argument(
        "--open-rate",
        type=float,
        default=300.0,
        help="conversations opened per second before measuring",
    )
    p.add_argument(
        "--open-window",
        type=int,
        default=50,
        help="at most this many conversations being opened (first message sent, not answered)",
    )
    p.add_argument(
        "--open-timeout",
        type=float,
        default=120.0,
        help="give up opening conversations after this many seconds without progress",
    )
    p.add_argument(
        "--open-spread",
        type=float,
        default=20.0,
        help="spread the opening of the sockets over this many seconds (uvicorn pings each "
        "socket every 20 s from its handshake: opened at once, all pings come at once)",
    )
    p.add_argument(
        "--server-ping-interval",
        type=float,
        help="uvicorn --ws-ping-interval for product and relay (default: uvicorn's, 20 s)",
    )
    p.add_argument(
        "--relay-echo",
        choices=["auto", "on", "off"],
        default="auto",
        help="the relay echoes each message to its sender's socket: auto = as the product did "
        "in this run (on when the product was not run)",
    )
    p.add_argument(
        "--ping-interval",
        type=float,
        default=25.0,
        help="every socket sends a ping frame this often, like the real clients (0: never)",
    )
    p.add_argument(
        "--ws",
        default="websockets",
        choices=["websockets", "websockets-sansio", "wsproto", "auto"],
        help="uvicorn's WebSocket implementation, for the product and the relay alike",
    )
    p.add_argument(
        "--profile",
        metavar="DIR",
        nargs="?",
        const=str(ROOT / "var" / "bench-profiles"),
        help="profile the product's servers while conversations open and during the measured "
        "--rate step: DIR/<server>-open.txt, DIR/<server>-step.txt (+ .collapsed or .prof); "
        "DIR defaults to var/bench-profiles",
    )
    p.add_argument(
        "--contention-retries",
        type=int,
        default=2,
        help="repeat a failed step (after waiting for a quiet machine) this many times when other "
        f"processes used over {CONTENDED_PERCENT:.0f}%% of a core during it",
    )
    p.add_argument(
        "--profile-tool",
        choices=["sample", "cprofile"],
        # The sampler once stalled a 2,000-socket server for good while
        # conversations opened (2026-11-23); cProfile is slower but safe.
        default="cprofile",
        help="sample: all threads, CPU-weighted stack samples, no slowdown; cprofile: the "
        "event-loop thread only, deterministic, about twice as slow",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, SQLite file)")
    a = p.parse_args(argv)
    if a.customers < 1 or a.agents < 1:
        p.error("--customers and --agents must be >= 1")
    if a.ceiling_only and a.skip_ceiling:
        p.error("--ceiling-only and --skip-ceiling exclude each other")
    return a


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_serve"]:
        serve_profiled(argv[1], argv[2], argv[3:])
        return 0
    args = parse_args(argv)
    nofile = raise_nofile()
    runner, loop_name = new_runner()
    signal.signal(signal.SIGTERM, _interrupt)
    info = machine()
    info["client_loop"] = loop_name
    info["nofile"] = nofile
    info["uvicorn_ws"] = args.ws
    info["uvicorn_ws_ping_interval"] = (
        20.0 if args.server_ping_interval is None else args.server_ping_interval
    )
    log(f"machine: {json.dumps(info, ensure_ascii=False)}")
    n_conn = args.customers + args.agents
    result: dict = {
        "mode": "ceiling" if args.ceiling_only else ("url" if args.url else args.mode),
        "connections": n_conn,
        "customers": args.customers,
        "agents": args.agents,
        "rate": None if args.ceiling_only else args.rate,
        "duration_s": args.duration,
        "throughput_msgs_per_s": None,
        "p50_ms": None,
        "p99_ms": None,
        "lost": None,
        "duplicated": None,
        "errors": None,
        "ceiling_throughput_msgs_per_s": None,
        "ceiling_p99_ms": None,
        "max_sustained_msgs_per_s": None,
        "max_sustained_p99_ms": None,
        "ratio_to_ceiling": None,
    }
    rc = 0
    product_echo: bool | None = None
    try:
        with runner:
            if not args.ceiling_only:
                log(
                    f"product: {args.customers} customers + {args.agents} agents, "
                    f"rate {args.rate:.0f} msg/s for {args.duration:.0f} s"
                )
                prod = run_product(args, runner)
                product_echo = prod.get("own_echo")
                main_step = prod.get("main") or {}
                result["mode"] = prod["mode"]
                result["connections"] = prod["setup"]["customers"] + prod["setup"]["agents"]
                for k in (
                    "throughput_msgs_per_s",
                    "p50_ms",
                    "p99_ms",
                    "lost",
                    "duplicated",
                    "errors",
                ):
                    result[k] = main_step.get(k)
                result["held"] = main_step.get("held")
                if (
                    main_step.get("lost")
                    or main_step.get("duplicated")
                    or main_step.get("errors")
                    or main_step.get("sockets_closed")
                    or main_step.get("send_errors")
                ):
                    rc = 1  # the product dropped, doubled or refused messages
                result["contended"] = main_step.get("contended")
                result["product"] = {k: v for k, v in main_step.items()}
                result["setup"] = prod["setup"]
                result["open_conversations"] = prod.get("warmup")
                result["frames"] = prod.get("frames")
                if prod.get("warnings"):
                    result["warnings"] = prod["warnings"]
                if args.find_max:
                    best = prod.get("best")
                    ran = bool(prod.get("steps"))
                    result["max_sustained_msgs_per_s"] = (
                        best["rate"] if best else (0 if ran else None)
                    )
                    result["max_sustained_p99_ms"] = best["p99_ms"] if best else None
                    result["product_steps"] = [compact(s) for s in prod.get("steps", [])]
                    if best and best.get("capped"):
                        result["max_sustained_capped_by_max_rate"] = True
                if prod.get("profiles"):
                    result["profiles"] = prod["profiles"]
            if not args.skip_ceiling:
                if args.relay_echo == "auto":
                    # the same frames as the product sent: it echoes a message to its sender?
                    echo = bool(product_echo) if product_echo is not None else True
                else:
                    echo = args.relay_echo == "on"
                result["relay_echo"] = echo
                log(
                    f"ceiling: bare relay ({'with' if echo else 'without'} the sender's echo), "
                    f"{args.customers} customers + {args.agents} agents"
                )
                ceil = run_ceiling(args, runner, echo)
                best = ceil.get("best")
                ran = bool(ceil.get("steps"))
                result["ceiling_throughput_msgs_per_s"] = (
                    best["rate"] if best else (0 if ran else None)
                )
                result["ceiling_p99_ms"] = best["p99_ms"] if best else None
                result["ceiling_steps"] = [compact(s) for s in ceil.get("steps", [])]
                if best and best.get("capped"):
                    result["ceiling_capped_by_max_rate"] = True
            if (
                result["max_sustained_msgs_per_s"] is not None
                and result["ceiling_throughput_msgs_per_s"]
            ):
                result["ratio_to_ceiling"] = round(
                    result["max_sustained_msgs_per_s"] / result["ceiling_throughput_msgs_per_s"], 3
                )
    except KeyboardInterrupt:
        result["error"] = "interrupted"
        rc = 130
    except Exception as e:  # noqa: BLE001
        log(f"FAILED: {type(e).__name__}: {e}")
        result["error"] = f"{type(e).__name__}: {str(e)[:2000]}"
        rc = 2
    result["machine"] = info
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return rc


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def compact(step: dict) -> dict:
    keys = (
        "rate",
        "throughput_msgs_per_s",
        "p50_ms",
        "p99_ms",
        "max_ms",
        "lost",
        "duplicated",
        "errors",
        "sockets_closed",
        "client_send_lag_p99_ms",
        "cpu_percent",
        "contended",
        "held",
    )
    return {k: step.get(k) for k in keys}


if __name__ == "__main__":
    sys.exit(main())
