from django.urls import path

from fulfillment.return_api import OrderReturnsView
from orders.api import views

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
]
