from django.urls import path

from billing import cod_views as views

app_name = "finance"
urlpatterns = [
    path(
        "cod/",
        views.ReconciliationView.as_view(),
        name="cod_reconciliation",
    ),
    path("cod/missing/", views.MissingCheckView.as_view(), name="cod_missing_check"),
    path(
        "cod/differences/<int:pk>/resolve/",
        views.DifferenceResolveView.as_view(),
        name="cod_difference_resolve",
    ),
    path(
        "cod/remittances/",
        views.RemittanceListView.as_view(),
        name="cod_remittances",
    ),
    path(
        "cod/remittances/import/",
        views.RemittanceImportView.as_view(),
        name="cod_remittance_import",
    ),
    path(
        "cod/remittances/new/",
        views.RemittanceManualView.as_view(),
        name="cod_remittance_new",
    ),
    path(
        "cod/remittances/<int:pk>/",
        views.RemittanceDetailView.as_view(),
        name="cod_remittance_detail",
    ),
    path("settlements/", views.SettlementListView.as_view(), name="settlements"),
    path(
        "settlements/<int:pk>/",
        views.SettlementDetailView.as_view(),
        name="settlement_detail",
    ),
    path(
        "settlements/lines/<int:pk>/resolve/",
        views.SettlementLineResolveView.as_view(),
        name="settlement_line_resolve",
    ),
]
