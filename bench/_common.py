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
