"""Returns: console pages at /console/returns/ ("returns"), the customer's at /track/ ("track_returns")."""

from django.urls import path

from fulfillment import return_views as views

app_name = "returns"
urlpatterns = [
    path("", views.ReturnListView.as_view(), name="list"),
    path("new/<str:number>/", views.ReturnCreateView.as_view(), name="new"),
    path("<str:number>/", views.ReturnDetailView.as_view(), name="detail"),
    path("<str:number>/approve/", views.ReturnApproveView.as_view(), name="approve"),
    path("<str:number>/reject/", views.ReturnRejectView.as_view(), name="reject"),
    path(
        "<str:number>/lines/<int:line_id>/inspect/",
        views.ReturnInspectView.as_view(),
        name="inspect",
    ),
    path("<str:number>/complete/", views.ReturnCompleteView.as_view(), name="complete"),
]

public_patterns = [
    path("<str:number>/return/", views.CustomerReturnView.as_view(), name="request"),
]
