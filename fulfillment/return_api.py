"""The channel API for returns: a channel opens a return for its customer and reads it back.

Mounted under /api/v1/orders/<number>/returns/ (see orders/api/urls.py); the
channel's API key authenticates, as for its orders.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from fulfillment.return_models import ReturnRequest
from fulfillment.return_selectors import returns_for_order
from fulfillment.returns import return_request_create
from orders.api.authentication import ChannelTokenAuthentication
from orders.exceptions import OrderError
from orders.selectors import order_for_channel


class ReturnLineIn(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1)


class ReturnIn(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReturnRequest.Reason.choices)
    resolution = serializers.ChoiceField(
        choices=ReturnRequest.Resolution.choices,
        default=ReturnRequest.Resolution.REFUND,
    )
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    lines = ReturnLineIn(many=True, allow_empty=False)


class ReturnLineOut(serializers.Serializer):
    sku = serializers.CharField(source="order_line.sku")
    quantity = serializers.IntegerField()
    restocked = serializers.IntegerField(source="restocked_quantity")
    written_off = serializers.IntegerField(source="written_off_quantity")


class ReturnOut(serializers.Serializer):
    number = serializers.CharField()
    order = serializers.CharField(source="order.number")
    status = serializers.ChoiceField(choices=ReturnRequest.Status.choices)
    reason = serializers.ChoiceField(choices=ReturnRequest.Reason.choices)
    resolution = serializers.ChoiceField(choices=ReturnRequest.Resolution.choices)
    description = serializers.CharField()
    requested_at = serializers.DateTimeField()
    lines = ReturnLineOut(many=True)


def _order(request, number):
    order = order_for_channel(channel=request.user.channel, number=number)
    if order is None:
        raise Http404
    return order


def _lines(order, wanted):
    """Return the service's lines for the SKUs asked, or a field error naming the unknown one."""
    by_sku = {}
    for line in order.lines.all():
        by_sku.setdefault(line.sku, line)
    lines = []
    for i, item in enumerate(wanted):
        line = by_sku.get(item["sku"])
        if line is None:
            raise ValidationError(
                {"lines": {i: {"sku": [f"Not on order {order.number}."]}}}
            )
        lines.append((line, item["quantity"]))
    return lines


class OrderReturnsView(APIView):
    authentication_classes = [ChannelTokenAuthentication]

    @extend_schema(
        responses={200: ReturnOut(many=True)}, summary="The returns of an order"
    )
    def get(self, request, number):
        order = _order(request, number)
        return Response(ReturnOut(returns_for_order(order), many=True).data)

    @extend_schema(
        request=ReturnIn,
        responses={
            201: ReturnOut,
            400: OpenApiResponse(description="Not shipped, or more than returnable."),
        },
        summary="Open a return for shipped items of an order",
    )
    def post(self, request, number):
        order = _order(request, number)
        serializer = ReturnIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            rma = return_request_create(
                order=order,
                lines=_lines(order, data["lines"]),
                reason=data["reason"],
                resolution=data["resolution"],
                description=data["description"],
                actor=str(request.user),
            )
        except OrderError as exc:
            field = getattr(exc, "field", None) or "detail"
            raise ValidationError({field: [str(exc)]}) from exc
        rma = returns_for_order(order).get(pk=rma.pk)
        return Response(ReturnOut(rma).data, status=status.HTTP_201_CREATED)
