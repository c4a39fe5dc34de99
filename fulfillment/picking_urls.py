"""Picking and packing, mounted in the ``fulfillment`` namespace under /console/shipments/."""

from django.urls import path

from fulfillment import picking_views as views

urlpatterns = [
    path("pick-lists/", views.PickListListView.as_view(), name="pick_lists"),
    path("pick-lists/wave/", views.WaveView.as_view(), name="wave"),
    path("pick-lists/bulk/", views.PickListBulkView.as_view(), name="pick_list_bulk"),
    path(
        "pick-lists/<str:number>/",
        views.PickListDetailView.as_view(),
        name="pick_list_detail",
    ),
    path(
        "pick-lists/<str:number>/print/",
        views.PickListPrintView.as_view(),
        name="pick_list_print",
    ),
    path(
        "pick-lists/<str:number>/pdf/",
        views.PickListPdfView.as_view(),
        name="pick_list_pdf",
    ),
    path(
        "pick-lists/<str:number>/short/",
        views.ShortPickView.as_view(),
        name="short_pick",
    ),
    path(
        "pick-lists/<str:number>/close/",
        views.PickListCloseView.as_view(),
        name="pick_list_close",
    ),
    path("pack/", views.PackStationView.as_view(), name="pack"),
    path("pack/scan/", views.PackScanView.as_view(), name="pack_scan"),
    path(
        "pack/<int:pk>/complete/",
        views.PackCompleteView.as_view(),
        name="pack_complete",
    ),
    path("pack/<int:pk>/reset/", views.PackResetView.as_view(), name="pack_reset"),
    path(
        "<int:pk>/packing-slip/",
        views.PackingSlipPdfView.as_view(),
        name="packing_slip",
    ),
]
