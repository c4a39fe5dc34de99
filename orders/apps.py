from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        import orders.api.schema  # noqa: F401 - registers the OpenAPI auth schemes
        from orders.roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate)
