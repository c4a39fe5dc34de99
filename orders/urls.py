from django.contrib.auth import views as auth_views
from django.urls import path

from orders import export_views, views

app_name = "console"
urlpatterns = [
    path("login/", views.ConsoleLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("orders/", views.OrderListView.as_view(), name="order_list"),
    path("orders/new/", views.PhoneOrderCreateView.as_view(), name="order_new"),
    path(
        "orders/export/<slug:kind>/",
        export_views.OrderExportView.as_view(),
        name="order_export",
    ),
    path(
        "customers/lookup/",
        views.CustomerLookupView.as_view(),
        name="customer_lookup",
    ),
    path("products/search/", views.ProductSearchView.as_view(), name="product_search"),
    path("addresses/split/", views.AddressSplitView.as_view(), name="address_split"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="order_detail"),
    path(
        "orders/<str:number>/correct/",
        views.OrderCorrectView.as_view(),
        name="order_correct",
    ),
    path(
        "orders/<str:number>/process/",
        views.OrderProcessView.as_view(),
        name="order_process",
    ),
    path(
        "orders/<str:number>/complete/",
        views.OrderCompleteView.as_view(),
        name="order_complete",
    ),
    path(
        "orders/<str:number>/cancel/",
        views.OrderCancelView.as_view(),
        name="order_cancel",
    ),
    path("orders/<str:number>/note/", views.OrderNoteView.as_view(), name="order_note"),
    path(
        "orders/<str:number>/approve/",
        views.OrderApproveView.as_view(),
        name="order_approve",
    ),
    path(
        "orders/<str:number>/reallocate/",
        views.OrderReallocateView.as_view(),
        name="order_reallocate",
    ),
    path(
        "orders/<str:number>/backorder/wait/",
        views.BackorderWaitView.as_view(),
        name="backorder_wait",
    ),
    path(
        "orders/<str:number>/backorder/split/",
        views.BackorderSplitView.as_view(),
        name="backorder_split",
    ),
    path(
        "orders/<str:number>/backorder/substitute/",
        views.BackorderSubstituteView.as_view(),
        name="backorder_substitute",
    ),
    path(
        "orders/<str:number>/backorder/fill/",
        views.BackorderFillView.as_view(),
        name="backorder_fill",
    ),
    path(
        "orders/<str:number>/backorder/cancel-lines/",
        views.BackorderCancelLinesView.as_view(),
        name="backorder_cancel_lines",
    ),
]
