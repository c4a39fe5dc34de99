from django.urls import path

from billing import payment_views, views

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
    path(
        "refunds/<int:pk>/provider/",
        views.RefundProviderView.as_view(),
        name="refund_provider",
    ),
    path("review/", payment_views.PaymentReviewListView.as_view(), name="review_list"),
    path(
        "review/<int:pk>/accept/",
        payment_views.PaymentReviewActionView.as_view(action="accept"),
        name="review_accept",
    ),
    path(
        "review/<int:pk>/reject/",
        payment_views.PaymentReviewActionView.as_view(action="reject"),
        name="review_reject",
    ),
]
