from django.urls import path

from tracking import views, webhooks

# Customer-facing pages, mounted at /track/ (namespace "track").
public_patterns = [
    path("", views.TrackLookupView.as_view(), name="lookup"),
    path("<str:number>/", views.TrackOrderView.as_view(), name="order"),
    path("<str:number>/correct/", views.TrackCorrectView.as_view(), name="correct"),
]
# Staff console pages, mounted at /console/tracking/ (namespace "tracking").
console_patterns = [
    path(
        "shipments/<int:shipment_id>/scans/",
        views.ScanAddView.as_view(),
        name="scan_add",
    ),
]
# Provider callbacks, mounted at /webhooks/carriers/ (namespace "carrier_webhooks").
webhook_patterns = [
    path("kuaidi100/", webhooks.kuaidi100_callback, name="kuaidi100"),
    path("aftership/", webhooks.aftership_callback, name="aftership"),
]
