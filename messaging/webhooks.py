"""``/webhooks/twilio/status/<message id>`` and ``/webhooks/twilio/inbound/<inbound key>``."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connections.models import Connection
from messaging.services.webhooks import Rejected, inbound_receive, status_callback_apply, twiml


def _params(request: HttpRequest) -> dict[str, str]:
    return request.POST.dict()


def _signature(request: HttpRequest) -> str:
    # From META: ``request.headers`` would first copy every header of the request.
    return str(request.META.get("HTTP_X_TWILIO_SIGNATURE", ""))


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest, message_id: str) -> HttpResponse:
    try:
        key = UUID(message_id)
    except ValueError:
        return HttpResponse(status=204)
    try:
        # An unknown message (or one deleted by retention) is answered 204 as well, so that
        # Twilio does not retry forever.
        status_callback_apply(
            public_id=key,
            path=request.get_full_path(),
            params=_params(request),
            signature=_signature(request),
        )
    except Rejected:
        return HttpResponse("Invalid signature", status=403, content_type="text/plain")
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def inbound(request: HttpRequest, inbound_key: str) -> HttpResponse:
    if "\x00" in inbound_key:  # no key has one, and PostgreSQL cannot even compare it
        raise Http404
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
            signature=_signature(request),
        )
    except Rejected:
        return HttpResponse("Invalid signature", status=403, content_type="text/plain")
    return HttpResponse(twiml(result.reply if result else ""), content_type="text/xml")
