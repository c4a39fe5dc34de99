from django.urls import path

from orders import customer_views as views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("export/", views.CustomerExportView.as_view(), name="export"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/contact/", views.CustomerContactView.as_view(), name="contact"),
    path("<int:pk>/note/", views.CustomerNoteView.as_view(), name="note"),
    path("<int:pk>/merge/", views.CustomerMergeView.as_view(), name="merge"),
]
