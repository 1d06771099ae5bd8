"""The app's URLs plus the two yardsticks of bench.status_callbacks: an empty view, and the
floor of a status callback's work."""

from uuid import UUID

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as app_urlpatterns
from connections.models import TwilioCredentials
from messaging.models import Message, MessageEvent

# ruff: noqa: S608 - the tables' names come from the models; every value is a parameter.
READ = (
    f"SELECT m.id, t.auth_token_encrypted FROM {Message._meta.db_table} m"
    f" JOIN {TwilioCredentials._meta.db_table} t ON t.connection_id = m.connection_id"
    " WHERE m.public_id = %s"
)
INSERT = (
    f"INSERT INTO {MessageEvent._meta.db_table} (message_id, status, params, callback_key, at)"
    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (message_id, callback_key) DO NOTHING"
)


@csrf_exempt
def empty(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def floor(request: HttpRequest, message_id: str) -> HttpResponse:
    """The work no status callback can do without, written as plainly as it can be.

    A callback has to find its message and the Auth Token that signs for it: one indexed read
    of the message by its public id joined to its connection's credentials. Then it has to
    record what Twilio said, once however often Twilio repeats it: one insert of a
    ``messaging_messageevent`` row (the form as its parameters, the unique ``(message,
    callback_key)`` turning a repeat into nothing). That insert is the write a callback must
    make: the event is the message's history, the one row every callback adds, and its unique
    key is what makes a callback idempotent; the status itself changes only when the event
    moves it forward. So the floor leaves out what the product does beyond the two statements:
    the signature's check (the token's decryption, the HMAC), the forward-only update of the
    message (and the rollup's triggers it fires), the connection's last-webhook note and the
    outbound-webhook check."""
    params = request.POST.dict()
    with connection.cursor() as cursor:
        cursor.execute(READ, [UUID(message_id)])
        row = cursor.fetchone()
        if row is not None:
            status = params.get("MessageStatus", "")
            values = [row[0], status, connection.ops.adapt_json_value(params, None)]
            cursor.execute(
                INSERT, [*values, f"{params.get('MessageSid')}:{status}:", timezone.now()]
            )
    return HttpResponse(status=204)


urlpatterns = [
    path("bench/empty", empty),
    path("bench/floor/<str:message_id>", floor),
    *app_urlpatterns,
]
