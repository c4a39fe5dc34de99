"""Shared set-up for benchmarks: a fresh PostgreSQL database with the schema migrated."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


def fresh_database(name: str, admin_url: str = PG_ADMIN_URL) -> str:
    """Drop and create database ``name``, migrate it, and return its DATABASE_URL."""
    import psycopg

    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin_url}/{name}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    return url


def django_setup(database_url: str):
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


SHARED_BENCH = ROOT.parent / "shared" / "bench"


def pg_baseline(seconds: int = 20, clients: int = 8) -> float | None:
    """Run the plain-SQL intake baseline (``../shared/bench``) with pgbench; return its tps.

    None when pgbench or the baseline scripts are not there.
    """
    import re
    import shutil

    import psycopg

    schema = SHARED_BENCH / "pg_ceiling_schema.sql"
    script = SHARED_BENCH / "pg_ceiling_order.sql"
    if not (shutil.which("pgbench") and schema.exists() and script.exists()):
        return None
    with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "oms_bench_ceiling" WITH (FORCE)')
        conn.execute('CREATE DATABASE "oms_bench_ceiling"')
    url = f"{PG_ADMIN_URL}/oms_bench_ceiling"
    subprocess.run(
        ["psql", "-q", "-d", url, "-f", str(schema)], check=True, capture_output=True
    )
    done = subprocess.run(
        ["pgbench", "-n", "-c", str(clients), "-j", "2", "-T", str(seconds)]
        + ["-f", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"tps = ([0-9.]+)", done.stdout)
    return float(found.group(1)) if found else None


def bench_env(database_url: str, **extra: str) -> dict:
    """Return the environment a bench's servers and workers run in (DEBUG off, quiet logs)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def gunicorn_start(
    env: dict, *, port: int, workers: int, output=None
) -> subprocess.Popen:
    """Start gunicorn (config.wsgi) in its own process group; return once it answers.

    ``output``: a file for its stdout and stderr (default: this process's).
    """
    import time

    import requests

    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi"]
        + ["-b", f"127.0.0.1:{port}", "-w", str(workers), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=output,
        stderr=output,
    )
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except requests.RequestException:  # not listening or not ready yet
            time.sleep(0.2)
    return server


def process_stop(process: subprocess.Popen):
    """SIGTERM the process group started with ``start_new_session`` and wait for it."""
    import signal

    os.killpg(process.pid, signal.SIGTERM)
    process.wait()


def signed_receiver(secrets: dict):
    """Serve on 127.0.0.1; return (url, seen) where seen lists (path, message id, valid).

    Checks each POST's ``X-Signature`` with ``secrets[path]`` (read per request). The
    message id is ``X-Event-Id`` (outbound webhooks) or ``Idempotency-Key`` (app push).
    """
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from orders.signing import SignatureError, signature_verify

    seen, lock = [], threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                signature_verify(
                    header=self.headers["X-Signature"],
                    body=body,
                    secret=secrets[self.path],
                    tolerance=300,
                )
                valid = True
            except (SignatureError, KeyError):
                valid = False
            message_id = self.headers["X-Event-Id"] or self.headers["Idempotency-Key"]
            with lock:
                seen.append((self.path, message_id, valid))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", seen
