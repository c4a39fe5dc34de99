"""manage.py run_embedded: the whole system on one machine, with no broker service.

Migrates, seeds the demo shop, then runs a Celery worker (with beat inside it) and the
web server as child processes. Without REDIS_URL the settings point Celery at Kombu's
filesystem transport under var/, so the worker, beat and the web process share a
folder instead of a broker. Ctrl-C or SIGTERM stops both children; when either child
dies the other is stopped too, so the system is never left half running.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from orders.demo import DEMO_LOGINS

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Supervisor:
    """Runs named child processes; stops them all when asked or when one of them exits."""

    def __init__(self, commands: dict[str, list[str]], *, cwd=None, grace=15.0):
        self.commands = commands
        self.cwd = cwd
        self.grace = grace
        self.children: dict[str, subprocess.Popen] = {}
        self.stop_signal = None

    def start(self):
        for name, argv in self.commands.items():
            # Each child leads its own process group: a Ctrl-C in the terminal
            # reaches only this process, which then stops the children once, in
            # order, instead of Celery seeing the signal twice (a cold shutdown).
            self.children[name] = subprocess.Popen(argv, cwd=self.cwd, process_group=0)

    def run(self, *, poll=0.5) -> tuple[str | None, int]:
        """Wait until a child exits or a stop signal arrives; stop the rest.

        Return the name of the child that exited first (None when stopped by a
        signal) and the exit status to leave with.
        """
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            self.start()
            while self.stop_signal is None:
                for name, child in self.children.items():
                    if child.poll() is not None:
                        self.stop()
                        return name, child.returncode or 1
                time.sleep(poll)
            self.stop()
            return None, 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum, frame):
        self.stop_signal = signum

    def stop(self):
        """Ask every live child to stop (SIGTERM), then kill what is left after the grace time."""
        live = [c for c in self.children.values() if c.poll() is None]
        for child in live:
            child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child in live:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # Celery's pool processes are in the worker's group: kill them all.
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


class Command(BaseCommand):
    help = (
        "Run the whole system on this machine: migrate, seed the demo shop, then a "
        "Celery worker with embedded beat and the web server, until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--concurrency", type=int, default=2, help="worker processes"
        )
        parser.add_argument(
            "--no-seed", action="store_true", help="do not create the demo data"
        )

    def handle(self, *args, host, port, concurrency, no_seed, **options):
        call_command("migrate", interactive=False, verbosity=1)
        if not no_seed:
            call_command("seed_demo")
        base_dir = str(settings.BASE_DIR)
        supervisor = Supervisor(
            {
                "worker": [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config.celery_app",
                    "worker",
                    "-B",
                    "-l",
                    "info",
                    "--concurrency",
                    str(concurrency),
                    "-s",
                    str(settings.VAR_DIR / "celerybeat-schedule"),
                ],
                "web": [
                    sys.executable,
                    "manage.py",
                    "runserver",
                    f"{host}:{port}",
                    "--noreload",
                ],
            },
            cwd=base_dir,
        )
        self._banner(host, port)
        exited, status = supervisor.run()
        if exited:
            self.stderr.write(
                f"The {exited} process exited (status {status}); stopped the others."
            )
            raise SystemExit(status)
        self.stdout.write("Stopped.")

    def _banner(self, host, port):
        site = f"http://{host}:{port}"
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        self.stdout.write(
            self.style.SUCCESS("Starting the worker (with beat) and the web server.")
        )
        for label, path in (
            ("Console", "/console/"),
            ("Customer status page", "/track/"),
            ("Admin", "/admin/"),
            ("Health", "/healthz"),
        ):
            self.stdout.write(f"  {label:<22} {site}{path}")
        self.stdout.write(f"  Broker transport       {broker}")
        if not settings.DEBUG:
            self.stdout.write(
                "  (DEBUG is off: runserver serves no static files; "
                "run with DJANGO_DEBUG=true or behind a web server)"
            )
        self.stdout.write("Demo logins:")
        for login in DEMO_LOGINS:
            self.stdout.write(
                f"  {login.username:<10} {login.password:<22} {login.group}"
            )
        self.stdout.write("Press Ctrl-C to stop.")
        self.stdout.flush()  # before the children start writing to the same terminal
