"""Shipping, mounted in the ``fulfillment`` namespace under /console/shipments/."""

from django.urls import path

from fulfillment import shipping_views as views

urlpatterns = [
    path("<int:pk>/label/", views.ShipmentLabelView.as_view(), name="shipment_label"),
    path("labels/bulk/", views.LabelsBulkView.as_view(), name="labels_bulk"),
    path("ship/bulk/", views.ShipBulkView.as_view(), name="ship_bulk"),
    path("upload/", views.TrackingUploadView.as_view(), name="tracking_upload"),
    path("due/", views.ShipByView.as_view(), name="ship_by"),
    path(
        "pack/<int:pk>/tracking/",
        views.PackTrackingView.as_view(),
        name="pack_tracking",
    ),
    path(
        "orders/<str:number>/carrier/",
        views.OrderCarrierView.as_view(),
        name="order_carrier",
    ),
]
