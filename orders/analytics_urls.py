from django.urls import path

from orders import analytics_views as views

app_name = "analytics"
urlpatterns = [
    path("", views.PeaksView.as_view(), name="peaks"),
    path("products/", views.ProductsView.as_view(), name="products"),
    path("channels/", views.ChannelsView.as_view(), name="channels"),
    path("process/", views.ProcessView.as_view(), name="process"),
    path("process/<slug:stage>/", views.StageOrdersView.as_view(), name="stage"),
    path("exceptions/", views.ExceptionsView.as_view(), name="exception_rates"),
]
