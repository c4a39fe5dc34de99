from django.urls import path

from fulfillment.return_api import OrderReturnsView
from orders.api import sync_views, views

app_name = "api"
urlpatterns = [
    path("orders/", views.OrderCreateView.as_view(), name="order_create"),
    path("orders/batch/", views.OrderBatchView.as_view(), name="order_batch"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="order_detail"),
    path(
        "orders/<str:number>/cancel/",
        views.OrderCancelView.as_view(),
        name="order_cancel",
    ),
    path(
        "orders/<str:number>/returns/",
        OrderReturnsView.as_view(),
        name="order_returns",
    ),
    path("sync/orders/", sync_views.OrderSyncView.as_view(), name="sync_orders"),
    path("stock/", sync_views.StockLevelListView.as_view(), name="stock_levels"),
    path(
        "stock/adjustments/",
        sync_views.StockAdjustmentView.as_view(),
        name="stock_adjustments",
    ),
    path("products/", sync_views.ProductListView.as_view(), name="products"),
]
