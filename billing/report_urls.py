from django.urls import path

from billing import report_views as views

app_name = "finance_reports"
urlpatterns = [
    path("sales/", views.SalesReportView.as_view(), name="sales"),
]
