"""The embedded run's worker (no broker service, no -Q) takes a task from every queue.

``manage.py run_embedded`` starts ``celery worker`` without -Q on Kombu's filesystem
transport. A worker process started the same way, in a folder of its own, must receive
a task routed to each queue. The tasks run against an empty SQLite file, so they fail:
only their arrival is checked.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from tests.config.test_celery_queues import queue_of

ROOT = Path(settings.BASE_DIR)
# One task of each queue.
TASKS = [
    "tracking.tasks.notifications_flush",
    "tracking.tasks.tracking_poll_due",
    "orders.tasks.imports_resume",
    "tracking.tasks.webhooks_flush",
    "billing.tasks.cod_missing_check_task",
    "inventory.tasks.backorders_sweep",
]
# The app on the filesystem transport under a folder given in argv[2].
SCRIPT = """
import sys
import django
django.setup()
from config.celery_app import app
folder = sys.argv[2]
app.conf.broker_url = "filesystem://"
app.conf.broker_transport_options = {
    "data_folder_in": folder + "/data",
    "data_folder_out": folder + "/data",
    "control_folder": folder + "/control",
    "store_processed": False,
    "polling_interval": 0.1,
}
if sys.argv[1] == "worker":
    app.worker_main(["worker", "--pool", "solo", "-l", "info", "-n", "embedded@%h"])
else:
    for name in sys.argv[3:]:
        app.send_task(name)
"""


def test_a_worker_without_queue_options_receives_a_task_from_every_queue(tmp_path):
    assert {queue_of(name) for name in TASKS} == set(
        settings.CELERY_QUEUE_NAMES.values()
    )
    (tmp_path / "data").mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    log_path = tmp_path / "worker.log"
    run = [sys.executable, "-c", SCRIPT]
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [*run, "worker", str(tmp_path)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        subprocess.run(
            [*run, "send", str(tmp_path), *TASKS], cwd=ROOT, env=env, check=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            received = {
                name
                for name in TASKS
                if f"Task {name}[" in log_path.read_text(errors="replace")
            }
            if received == set(TASKS) or worker.poll() is not None:
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert received == set(TASKS), log_path.read_text(errors="replace")[-3000:]
