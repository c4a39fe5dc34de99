from django.urls import path

from fulfillment import views

app_name = "fulfillment"
urlpatterns = [
    path(
        "orders/<str:number>/start/",
        views.FulfillmentStartView.as_view(),
        name="start",
    ),
    path("<int:pk>/ship/", views.ShipmentShipView.as_view(), name="ship"),
]
