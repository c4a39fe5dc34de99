"""Carrier tracking providers push scans here: Kuaidi100 and AfterShip callbacks."""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tracking.adapters import aftership, kuaidi100
from tracking.adapters.carriers import ProviderError
from tracking.services import aftership_push_apply, kuaidi100_push_apply

log = logging.getLogger(__name__)


@csrf_exempt  # signed by the provider, not a browser form
@require_POST
def kuaidi100_callback(request):
    param = request.POST.get("param", "")
    if not settings.KUAIDI100_SALT or not kuaidi100.push_verify(
        param=param,
        signature=request.POST.get("sign", ""),
        salt=settings.KUAIDI100_SALT,
    ):
        return JsonResponse(
            {"result": False, "returnCode": "400", "message": "bad sign"}, status=400
        )
    try:
        kuaidi100_push_apply(param=param)
    except ProviderError as exc:
        # Logged and acknowledged: the same broken push again would not help.
        log.warning("kuaidi100 push skipped: %s", exc)
    return JsonResponse(kuaidi100.PUSH_REPLY)


@csrf_exempt  # signed by the provider, not a browser form
@require_POST
def aftership_callback(request):
    if not aftership.webhook_verify(
        body=request.body,
        signature=request.headers.get("aftership-hmac-sha256", ""),
        secret=settings.AFTERSHIP_WEBHOOK_SECRET,
    ):
        return HttpResponse("bad signature", status=401)
    try:
        event_id, result = aftership.webhook_parse(request.body)
    except ProviderError as exc:
        log.warning("aftership webhook skipped: %s", exc)
        return HttpResponse(status=200)
    if not event_id:
        return HttpResponse("no event id", status=400)
    stored = aftership_push_apply(event_id=event_id, result=result)
    return HttpResponse("replay" if stored is None else "ok", status=200)
