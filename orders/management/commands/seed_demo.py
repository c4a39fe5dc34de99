"""manage.py seed_demo: fill the database with a small tea-and-gadgets shop to try things on."""

import logging
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from config.celery_app import app as celery_app
from orders.demo import DEFAULT_ORDERS, DEMO_LOGINS, demo_seed, status_counts
from orders.models import Order

# The seed must never message the made-up customers through a real gateway, nor
# fill the console with a thousand e-mails: sending runs in-process, into memory.
QUIET_SENDING = {
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "SMS_BACKEND": "tracking.adapters.sms.LogSmsBackend",
}

# A line per SMS and per task would bury the progress; only problems are shown.
QUIET_LOGGERS = ("tracking.adapters.sms", "celery.app.trace", "kombu.connection")


@contextmanager
def _quiet(names):
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Create demo data: products, two warehouses with stock, carriers, channels, one "
        "login per staff role, and orders in every status built through the services. "
        "Safe to run again: what exists is kept, nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--orders",
            type=int,
            default=DEFAULT_ORDERS,
            help=f"how many demo orders to plan (default {DEFAULT_ORDERS})",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="set the demo logins' passwords again (otherwise only on creation)",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="seed even with production settings (the logins' passwords are public)",
        )

    def handle(self, *args, orders, reset_passwords, allow_production, **options):
        if settings.SETTINGS_MODULE.endswith(".production") and not allow_production:
            raise CommandError(
                "Refusing to seed demo data with production settings: the demo logins "
                "have published passwords. Pass --allow-production to do it anyway."
            )
        if orders < 9:
            raise CommandError(
                "--orders must be at least 9 (one per reachable status)."
            )
        started = time.monotonic()
        report = self._seed(orders=orders, reset_passwords=reset_passwords)
        self._summary(report, time.monotonic() - started)

    def _seed(self, *, orders, reset_passwords):
        # Settings read with namespace="CELERY" are looked up under their prefixed
        # name first, so setting conf.task_always_eager would be shadowed by
        # CELERY_TASK_ALWAYS_EAGER = False: set the name the app actually reads.
        eager_key = f"{celery_app.namespace}_TASK_ALWAYS_EAGER"
        was_eager = celery_app.conf.task_always_eager
        celery_app.conf[eager_key] = True
        try:
            with override_settings(**QUIET_SENDING), _quiet(QUIET_LOGGERS):
                return demo_seed(
                    orders=orders,
                    reset_passwords=reset_passwords,
                    progress=lambda done, total: self.stdout.write(
                        f"  orders {done}/{total}"
                    ),
                )
        finally:
            celery_app.conf[eager_key] = was_eager

    def _summary(self, report, seconds):
        created = ", ".join(f"{n} {what}" for what, n in report.created.items() if n)
        self.stdout.write(
            f"Created {created or 'no reference data'}; "
            f"{report.orders_created} orders new, {report.orders_existing} already there "
            f"({seconds:.1f}s)."
        )
        for external_id, wanted, got in report.off_target:
            self.stdout.write(
                self.style.WARNING(f"  {external_id}: planned {wanted}, ended {got}")
            )
        self.stdout.write("Orders by status:")
        for status, count in status_counts().items():
            self.stdout.write(
                f"  {Order.Status(status).label:<20} {status:<18} {count}"
            )
        self.stdout.write("Demo logins (password set when the user was created):")
        for login in DEMO_LOGINS:
            self.stdout.write(
                f"  {login.username:<10} {login.password:<22} {login.group}"
            )
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
