from django.urls import path

from inventory import views

app_name = "stock"
urlpatterns = [
    path("", views.StockListView.as_view(), name="list"),
    path("export.csv", views.StockExportView.as_view(), name="export"),
    path("import/", views.StockImportView.as_view(), name="import"),
    path("goods-in/", views.GoodsInView.as_view(), name="goods_in"),
    path("adjust/", views.StockAdjustView.as_view(), name="adjust"),
    path("bins/", views.BinLocationSetView.as_view(), name="bin_set"),
    path("returns/", views.StockReturnView.as_view(), name="returns"),
    path(
        "levels/<int:pk>/replenishment/",
        views.StockLevelPlanView.as_view(),
        name="level_plan",
    ),
    path("stocktake/", views.StocktakeView.as_view(), name="stocktake"),
    path("backorders/", views.BackorderListView.as_view(), name="backorders"),
    path("replenishment/", views.ReplenishmentView.as_view(), name="replenishment"),
    path(
        "replenishment/export.csv",
        views.ReplenishmentExportView.as_view(),
        name="replenishment_export",
    ),
]
