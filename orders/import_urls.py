from django.urls import path

from orders import import_views as views

app_name = "imports"
urlpatterns = [
    path("", views.ImportListView.as_view(), name="list"),
    path("<int:batch_id>/", views.ImportDetailView.as_view(), name="detail"),
    path(
        "<int:batch_id>/progress/",
        views.ImportProgressView.as_view(),
        name="progress",
    ),
    path("<int:batch_id>/report.csv", views.ImportReportView.as_view(), name="report"),
]
