from django.urls import path

from tracking import views

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
