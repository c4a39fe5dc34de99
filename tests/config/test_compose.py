"""docker-compose.yml runs a worker for every queue, each scalable, and one beat."""

from pathlib import Path

import yaml
from django.conf import settings

COMPOSE = yaml.safe_load(
    (Path(settings.BASE_DIR) / "docker-compose.yml").read_text(encoding="utf-8")
)
SERVICES = COMPOSE["services"]
WORKERS = {
    name: service
    for name, service in SERVICES.items()
    if "celery" in str(service.get("command")) and " worker" in service["command"]
}


def test_every_queue_has_a_worker_service_of_its_own():
    taken = sorted(service["environment"]["QUEUE"] for service in WORKERS.values())
    assert taken == sorted(settings.CELERY_QUEUE_NAMES.values())
    assert all("-Q $${QUEUE}" in service["command"] for service in WORKERS.values())


def test_workers_and_web_can_be_scaled():
    for name in [*WORKERS, "web"]:
        assert "container_name" not in SERVICES[name], name
    assert all("ports" not in service for service in WORKERS.values())
    # Each copy of web takes the next host port of a range.
    assert SERVICES["web"]["ports"] == ["${WEB_PORTS:-8000-8009}:8000"]


def test_exactly_one_beat_and_migrations_run_once_before_the_rest():
    beats = [n for n, s in SERVICES.items() if " beat" in str(s.get("command"))]
    assert beats == ["beat"]
    for name in ["web", "beat", *WORKERS]:
        assert SERVICES[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert "migrate" not in SERVICES["web"]["command"]
