"""Serve the demo carrier over HTTP, for DEMO_CARRIER_URL (tests and benchmarks use it on loopback)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from tracking.adapters.demo import demo_carrier_serve


class Command(BaseCommand):
    help = (
        "Serve the simulated demo carrier over HTTP (GET /track?number=…&shipped_at=…)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--time-scale", type=float, default=settings.DEMO_CARRIER_TIME_SCALE
        )

    def handle(self, *args, host, port, time_scale, **options):
        server = demo_carrier_serve(host=host, port=port, time_scale=time_scale)
        self.stdout.write(f"Demo carrier at http://{host}:{server.server_port}/")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
