"""Real outside processes for the fault tests: a private Redis, a private PostgreSQL
cluster, Celery workers. Each runs on a free port of its own, so stopping one never
disturbs the machine's services or another test run.
"""

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CELERY = str(BIN / "celery")
FINISHED = re.compile(r"Task ([\w.]+)\[([0-9a-f-]+)\] succeeded")
RECEIVED = re.compile(r"Task ([\w.]+)\[([0-9a-f-]+)\] received")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")


def process_stop(process, *, seconds=5.0):
    """Stop a child process: SIGTERM, then SIGKILL if it lingers (the test is over)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class PrivateRedis:
    """A throwaway redis-server on its own port, stopped and started by the test."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.dir = tmp_path
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: self.answers(), "redis-server to start", seconds=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        wait_for(lambda: not self.answers(), "redis-server to stop", seconds=10)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def private_redis(tmp_path):
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


class Worker:
    """A ``celery worker`` process and its log."""

    def __init__(self, name, process, log_path):
        self.name = name
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return Path(self.log_path).read_text(errors="replace")

    def finished(self, task_name) -> list[str]:
        return [i for n, i in FINISHED.findall(self.log()) if n == task_name]

    def received(self, task_name) -> list[str]:
        return [i for n, i in RECEIVED.findall(self.log()) if n == task_name]


def worker_start(name, *, env, log_path, queues=None) -> Worker:
    """Start a solo ``celery worker`` process named ``name``, its output in ``log_path``.

    Solo: the worker process runs the tasks itself, so SIGKILL to it is a real crash.
    """
    argv = [CELERY, "-A", "config.celery_app", "worker", "--pool", "solo"]
    argv += ["-n", f"{name}@%h", "-l", "info", "--without-gossip"]
    argv += ["--without-mingle", "--without-heartbeat"]
    if queues:
        argv += ["-Q", ",".join(queues)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    return Worker(name, process, log_path)


def postgres_bin() -> Path | None:
    """Return the newest installed PostgreSQL server's bin directory, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def postgres_unavailable() -> str:
    """Return why a private PostgreSQL cluster cannot be started here, or ""."""
    if postgres_bin() is None:
        return "PostgreSQL's server programs (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        # initdb refuses to run as root: the cluster belongs to the postgres user.
        if not shutil.which("runuser"):
            return "running as root without runuser to start PostgreSQL as postgres"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to own the cluster"
    return ""


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on its own port, stopped and started by the test.

    Its directory is made outside pytest's tmp_path, whose parents only root may
    enter, so that the postgres user (when we are root) can own it. fsync is off:
    only a crash of the machine loses what it would have kept, not a crash of the
    server. synchronous_commit stays on: off, a crash loses commits already
    acknowledged (the restart test saw an order answered 201 and then gone).
    """

    def __init__(self, name="oms"):
        self.bin = postgres_bin()
        self.port = free_port()
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix="oms-pg-"))
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="postgres")

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.name}"

    def _run(self, program, *args):
        argv = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if result.returncode:
            pytest.fail(f"{program} failed: {result.stdout}{result.stderr}")
        return result

    def create(self):
        """Make the cluster, start it and create the empty database."""
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"
        )  # fmt: skip
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), self.name)

    def start(self):
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode="fast"):
        """Stop the server; ``immediate`` kills it as a crash would (recovery at start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def remove(self):
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
