from django.urls import path

from fulfillment import views
from fulfillment.picking_urls import urlpatterns as picking_patterns
from fulfillment.shipping_urls import urlpatterns as shipping_patterns

app_name = "fulfillment"
urlpatterns = [
    path(
        "orders/<str:number>/start/",
        views.FulfillmentStartView.as_view(),
        name="start",
    ),
    path("<int:pk>/ship/", views.ShipmentShipView.as_view(), name="ship"),
]

# Picking and packing (fulfillment/picking_urls.py).
urlpatterns += picking_patterns

# Labels, bulk shipping, 批量发货 upload, ship-by (fulfillment/shipping_urls.py).
urlpatterns += shipping_patterns
