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
]
