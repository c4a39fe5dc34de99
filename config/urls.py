from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from billing.payment_urls import webhook_patterns as payment_webhooks
from config.health import healthz
from fulfillment.return_urls import public_patterns as returns_public
from orders.api.views import ChannelPushView
from tracking.urls import console_patterns as tracking_console
from tracking.urls import public_patterns as tracking_public
from tracking.urls import webhook_patterns as carrier_webhooks

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="console:dashboard", permanent=False)),
    path("admin/", admin.site.urls),
    path("console/imports/", include("orders.import_urls")),
    path("console/stock/", include("inventory.urls")),
    path("console/analytics/", include("orders.analytics_urls")),
    path("console/customers/", include("orders.customer_urls")),
    path("console/", include("orders.urls")),
    path("console/shipments/", include("fulfillment.urls")),
    path("console/returns/", include("fulfillment.return_urls")),
    path("console/payments/", include("billing.urls")),
    path("console/finance/", include("billing.cod_urls")),
    path("console/finance/reports/", include("billing.report_urls")),
    path("console/tracking/", include((tracking_console, "tracking"))),
    path("track/", include((tracking_public, "track"))),
    path("track/", include((returns_public, "track_returns"))),
    path("webhooks/carriers/", include((carrier_webhooks, "carrier_webhooks"))),
    path("webhooks/payments/", include((payment_webhooks, "payment_webhooks"))),
    path("api/v1/", include("orders.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api_docs"
    ),
    path(
        "webhooks/channels/<slug:code>/", ChannelPushView.as_view(), name="channel_push"
    ),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
