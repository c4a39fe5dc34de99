"""The channel API: thin views over orders.intake, orders.services and orders.selectors."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.api.authentication import (
    ChannelSignatureAuthentication,
    ChannelTokenAuthentication,
)
from orders.api.serializers import (
    CancelIn,
    OrderBatchIn,
    OrderBatchOut,
    OrderIn,
    OrderOut,
    order_input,
    products_by_sku,
)
from orders.exceptions import OrderError
from orders.intake import (
    IntakeConflict,
    order_fingerprint,
    order_intake,
    orders_intake_batch,
)
from orders.selectors import order_for_channel
from orders.services import order_cancel


def _detail(channel, number):
    order = order_for_channel(channel=channel, number=number)
    if order is None:
        raise Http404
    return OrderOut(order).data


class OrderIntakeMixin:
    def intake(self, request):
        channel = request.user.channel
        serializer = OrderIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = order_intake(
                data=serializer.to_order_input(channel),
                fingerprint=order_fingerprint(request.data),
                actor=str(request.user),
            )
        except IntakeConflict as exc:
            return Response(
                {"detail": str(exc), "number": exc.order.number},
                status=status.HTTP_409_CONFLICT,
            )
        except OrderError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(
            _detail(channel, result.order.number),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class OrderCreateView(OrderIntakeMixin, APIView):
    authentication_classes = [ChannelTokenAuthentication]

    @extend_schema(
        request=OrderIn,
        responses={
            201: OrderOut,
            200: OpenApiResponse(OrderOut, description="The same order sent again."),
            400: OpenApiResponse(description="Field errors, in the caller's language."),
            401: OpenApiResponse(description="Missing or wrong API key."),
            409: OpenApiResponse(description="Same external_id, different content."),
        },
        summary="Send an order",
    )
    def post(self, request):
        return self.intake(request)


class OrderBatchView(APIView):
    """Many orders in one request: each is taken exactly once, as if sent alone."""

    authentication_classes = [ChannelTokenAuthentication]

    @extend_schema(
        request=OrderBatchIn,
        responses={
            200: OpenApiResponse(
                OrderBatchOut, description="One result per order, in the batch's order."
            ),
            400: OpenApiResponse(description="Not a batch, or too many orders."),
            401: OpenApiResponse(description="Missing or wrong API key."),
        },
        summary="Send many orders",
    )
    def post(self, request):
        channel = request.user.channel
        batch = OrderBatchIn(data=request.data)
        batch.is_valid(raise_exception=True)
        # One serializer checks every order, as DRF's list serializer does: making
        # one per order (its fields deep-copied each time) cost a millisecond each.
        order_in = OrderIn(context={"products": products_by_sku(batch.skus())})
        results, items, positions = {}, [], []
        for index, payload in enumerate(batch.validated_data["orders"]):
            try:
                data = order_in.run_validation(payload)
            except ValidationError as exc:
                results[index] = {
                    "index": index,
                    "result": "invalid",
                    "errors": exc.detail,
                }
                continue
            items.append((order_input(data, channel), order_fingerprint(payload)))
            positions.append(index)
        outcomes = orders_intake_batch(items=items, actor=str(request.user))
        for index, outcome in zip(positions, outcomes, strict=True):
            results[index] = _batch_result(index, outcome)
        return Response(
            OrderBatchOut({"results": [results[i] for i in sorted(results)]}).data
        )


def _batch_result(index, outcome) -> dict:
    result = {"index": index, "result": outcome.status}
    if outcome.error:
        result["detail"] = outcome.error
    order = outcome.order
    if order is not None:
        result.update(
            number=order.number,
            status=order.status,
            payment_status=order.payment_status,
            total=order.total,
            problems=order.problems,
            status_url=order.status_url,
        )
    return result


class OrderDetailView(APIView):
    authentication_classes = [ChannelTokenAuthentication]

    @extend_schema(responses={200: OrderOut}, summary="An order of this channel")
    def get(self, request, number):
        return Response(_detail(request.user.channel, number))


class OrderCancelView(APIView):
    authentication_classes = [ChannelTokenAuthentication]

    @extend_schema(
        request=CancelIn,
        responses={
            200: OrderOut,
            400: OpenApiResponse(description="Cannot cancel now."),
        },
        summary="Cancel an order that has not shipped",
    )
    def post(self, request, number):
        channel = request.user.channel
        order = order_for_channel(channel=channel, number=number)
        if order is None:
            raise Http404
        serializer = CancelIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            order_cancel(
                order=order, actor=str(request.user), reason=serializer.data["reason"]
            )
        except OrderError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(_detail(channel, number))


class ChannelPushView(OrderIntakeMixin, APIView):
    """Orders pushed by a platform, signed with the channel's webhook secret."""

    authentication_classes = [ChannelSignatureAuthentication]

    @extend_schema(
        request=OrderIn,
        responses={
            201: OrderOut,
            200: OrderOut,
            401: OpenApiResponse(description="Bad signature."),
        },
        summary="Push an order (signed)",
    )
    def post(self, request, code):
        return self.intake(request)
