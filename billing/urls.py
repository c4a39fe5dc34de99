from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path(
        "orders/<str:number>/confirm/",
        views.PaymentConfirmView.as_view(),
        name="confirm",
    ),
    path("orders/<str:number>/cod/", views.CodCollectionView.as_view(), name="cod"),
    path(
        "orders/<str:number>/refund/",
        views.RefundRequestView.as_view(),
        name="refund_request",
    ),
    path(
        "refunds/<int:pk>/approve/",
        views.RefundApproveView.as_view(),
        name="refund_approve",
    ),
    path(
        "refunds/<int:pk>/reject/",
        views.RefundRejectView.as_view(),
        name="refund_reject",
    ),
    path("refunds/<int:pk>/paid/", views.RefundPaidView.as_view(), name="refund_paid"),
]
