"""The API for the shop's other systems, with a staff user's key: the order sync feed,
stock levels, products, and stock adjustments from an outside warehouse system."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.adjustments import AdjustmentConflict, stock_adjustment_apply
from inventory.exceptions import StockError
from orders.api.authentication import StaffKeyAllows, StaffTokenAuthentication
from orders.api.sync_serializers import (
    OrderSyncPageOut,
    OrderSyncQuery,
    ProductOut,
    ProductQuery,
    StockAdjustmentIn,
    StockAdjustmentOut,
    StockLevelOut,
    StockQuery,
    cursor_encode,
)
from orders.integration_selectors import (
    orders_changed,
    products_for_api,
    stock_levels_for_api,
    warehouse_for_code,
)

LIST_ERRORS = {
    400: OpenApiResponse(description="A bad filter or limit."),
    404: OpenApiResponse(description="A cursor this API did not give out."),
}
AUTH_ERRORS = {
    401: OpenApiResponse(
        description="No staff key, or a wrong, revoked or expired one."
    ),
    403: OpenApiResponse(
        description="The key's user lacks the permission, or the key is not scoped for it."
    ),
}


class StaffAPIView(APIView):
    """An endpoint for a staff key; ``required_permission`` is what its user must hold."""

    authentication_classes = [StaffTokenAuthentication]
    permission_classes = [IsAuthenticated, StaffKeyAllows]
    required_permission = ""


class ListPagination(CursorPagination):
    """Stable pages by a unique column: rows added meanwhile neither skip nor repeat."""

    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 500


class StockPagination(ListPagination):
    ordering = "id"


class ProductPagination(ListPagination):
    ordering = "sku"


SYNC_EXAMPLE = {
    "results": [
        {
            "number": "SO2611290001",
            "channel": "web",
            "external_id": "WEB-10001",
            "status": "shipped",
            "payment_status": "paid",
            "payment_method": "prepaid",
            "currency": "CNY",
            "subtotal": "256.00",
            "discount_total": "0.00",
            "shipping_fee": "0.00",
            "tax_total": "0.00",
            "total": "256.00",
            "customer": {
                "name": "张三",
                "phone": "13800138000",
                "email": "zhang@example.com",
            },
            "shipping_address": {
                "name": "张三",
                "phone": "13800138000",
                "province": "广东省",
                "city": "深圳市",
                "district": "南山区",
                "detail": "科技园路1号",
                "postal_code": "",
            },
            "placed_at": "2026-11-29T10:02:11+08:00",
            "updated_at": "2026-11-29T15:40:03.512204+08:00",
            "lines": [
                {
                    "sku": "TEA-001",
                    "name": "红茶",
                    "quantity": 2,
                    "unit_price": "128.00",
                    "discount": "0.00",
                    "line_total": "256.00",
                    "backordered_quantity": 0,
                }
            ],
            "shipments": [
                {
                    "id": 812,
                    "carrier": "sf",
                    "tracking_number": "SF1234567890123",
                    "status": "shipped",
                    "shipped_at": "2026-11-29T15:40:03+08:00",
                    "delivered_at": None,
                }
            ],
            "payments": [
                {
                    "id": 301,
                    "method": "alipay",
                    "amount": "256.00",
                    "status": "confirmed",
                    "reference": "2026112922001",
                    "confirmed_at": "2026-11-29T10:02:40+08:00",
                }
            ],
        }
    ],
    "next_cursor": "MjAyNi0xMS0yOVQwNzo0MDowMy41MTIyMDQrMDA6MDB8NDIx",
    "has_more": False,
}


class OrderSyncView(StaffAPIView):
    required_permission = "orders.view_order"

    @extend_schema(
        parameters=[OrderSyncQuery],
        responses={
            200: OrderSyncPageOut,
            400: OpenApiResponse(description="A bad time, cursor or limit."),
            **AUTH_ERRORS,
        },
        examples=[OpenApiExample("A page of changes", value=SYNC_EXAMPLE)],
        summary="Orders changed since a time, page by page",
        description="Every order whose data changed, oldest change first, ordered by "
        "(updated_at, id). Start with updated_since, then send next_cursor back: no "
        "order is skipped or repeated within a run, and an order changed again later "
        "comes again. Changes younger than SYNC_SETTLE_SECONDS (60) appear on the "
        "next call. Needs orders.view_order.",
    )
    def get(self, request):
        query = OrderSyncQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        orders = orders_changed(
            updated_since=query.validated_data.get("updated_since"),
            after=query.validated_data.get("cursor"),
            limit=limit + 1,
        )
        page = orders[:limit]
        return Response(
            OrderSyncPageOut(
                {
                    "results": page,
                    "next_cursor": cursor_encode(page[-1])
                    if page
                    else request.query_params.get("cursor"),
                    "has_more": len(orders) > limit,
                }
            ).data
        )


class StockLevelListView(StaffAPIView, generics.ListAPIView):
    required_permission = "inventory.view_stocklevel"
    serializer_class = StockLevelOut
    pagination_class = StockPagination

    @extend_schema(
        parameters=[StockQuery],
        responses={200: StockLevelOut(many=True), **LIST_ERRORS, **AUTH_ERRORS},
        examples=[
            OpenApiExample(
                "One SKU in one warehouse",
                value={
                    "sku": "TEA-001",
                    "warehouse": "sz",
                    "on_hand": 120,
                    "reserved": 14,
                    "available": 106,
                },
                response_only=True,
            )
        ],
        summary="Stock levels per SKU and warehouse",
        description="Units on hand, reserved for orders, and available. Needs "
        "inventory.view_stocklevel.",
    )
    def get(self, request):
        return self.list(request)

    def get_queryset(self):
        query = StockQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return stock_levels_for_api(**query.validated_data)


class ProductListView(StaffAPIView, generics.ListAPIView):
    required_permission = "inventory.view_product"
    serializer_class = ProductOut
    pagination_class = ProductPagination

    @extend_schema(
        parameters=[ProductQuery],
        responses={200: ProductOut(many=True), **LIST_ERRORS, **AUTH_ERRORS},
        summary="Products",
        description="The catalogue by SKU. Needs inventory.view_product.",
    )
    def get(self, request):
        return self.list(request)

    def get_queryset(self):
        query = ProductQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return products_for_api(**query.validated_data)


class StockAdjustmentView(StaffAPIView):
    required_permission = "inventory.change_stocklevel"

    @extend_schema(
        request=StockAdjustmentIn,
        responses={
            201: StockAdjustmentOut,
            200: OpenApiResponse(
                StockAdjustmentOut,
                description="This reference was applied before: the first answer, "
                "nothing changed again.",
            ),
            400: OpenApiResponse(
                description="Field errors in the caller's language, e.g. taking out "
                "more than is on hand and not reserved; nothing changed."
            ),
            409: OpenApiResponse(
                description="The reference was used for another adjustment."
            ),
            **AUTH_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Two units damaged",
                value={
                    "reference": "WMS-ADJ-20261129-0007",
                    "sku": "TEA-001",
                    "warehouse": "sz",
                    "quantity_change": -2,
                    "reason": "Damaged in storage",
                },
                request_only=True,
            ),
            OpenApiExample(
                "A shelf count",
                value={
                    "reference": "WMS-COUNT-20261129-A03",
                    "sku": "TEA-001",
                    "warehouse": "sz",
                    "counted": 118,
                    "reason": "Cycle count aisle A",
                },
                request_only=True,
            ),
        ],
        summary="Adjust stock from an outside warehouse system",
        description="A change in units or a counted quantity, once per reference. "
        "The stock movement records the key's staff user and the reason. Needs "
        "inventory.change_stocklevel.",
    )
    def post(self, request):
        serializer = StockAdjustmentIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        product = products_for_api(sku=data["sku"]).first()
        warehouse = warehouse_for_code(data["warehouse"])
        errors = {}
        if product is None:
            errors["sku"] = [_("Unknown SKU: %(sku)s") % {"sku": data["sku"]}]
        if warehouse is None:
            errors["warehouse"] = [
                _("Unknown warehouse: %(code)s") % {"code": data["warehouse"]}
            ]
        if errors:
            raise ValidationError(errors)
        field = "counted" if "counted" in data else "quantity_change"
        try:
            result = stock_adjustment_apply(
                user=request.user,
                reference=data["reference"],
                product=product,
                warehouse=warehouse,
                reason=data["reason"],
                delta=data.get("quantity_change"),
                counted=data.get("counted"),
            )
        except AdjustmentConflict as exc:
            return Response(
                {"detail": str(exc), "reference": exc.receipt.reference},
                status=status.HTTP_409_CONFLICT,
            )
        except StockError as exc:
            raise ValidationError({field: [str(exc)]}) from exc
        return Response(
            StockAdjustmentOut(result).data,
            status=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED,
        )
