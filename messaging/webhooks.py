"""``/webhooks/twilio/status/<message id>`` and ``/webhooks/twilio/inbound/<inbound key>``."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connections.models import Connection
from messaging.models import Message
from messaging.services.webhooks import Rejected, inbound_receive, status_callback_apply, twiml


def _params(request: HttpRequest) -> dict[str, str]:
    return {key: request.POST.get(key, "") for key in request.POST}


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest, message_id: str) -> HttpResponse:
    try:
        key = UUID(message_id)
    except ValueError:
        return HttpResponse(status=204)
    message = (
        Message.objects.select_related("connection__twilio")
        .filter(public_id=key)
        .order_by()
        .first()
    )
    if message is None:
        # Unknown (or deleted by retention): answered 2xx so Twilio does not retry forever.
        return HttpResponse(status=204)
    try:
        status_callback_apply(
            message=message,
            path=request.get_full_path(),
            params=_params(request),
            signature=request.headers.get("X-Twilio-Signature", ""),
        )
    except Rejected:
        return HttpResponse("Invalid signature", status=403, content_type="text/plain")
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def inbound(request: HttpRequest, inbound_key: str) -> HttpResponse:
    connection = (
        Connection.objects.select_related("organization", "twilio")
        .filter(inbound_key=inbound_key)
        .order_by()
        .first()
    )
    if connection is None:
        raise Http404
    try:
        result = inbound_receive(
            connection=connection,
            path=request.get_full_path(),
            params=_params(request),
            signature=request.headers.get("X-Twilio-Signature", ""),
        )
    except Rejected:
        return HttpResponse("Invalid signature", status=403, content_type="text/plain")
    return HttpResponse(twiml(result.reply if result else ""), content_type="text/xml")
