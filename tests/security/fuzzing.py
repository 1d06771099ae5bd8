"""What the webhook fuzz tests share: the two organizations the requests aim at, a request
as bytes, a fingerprint of everything a webhook may write, and Hypothesis's pieces.

Hypothesis builds the requests: random forms and JSON bodies, bytes that are not UTF-8 in
names, values and the path, charsets and content types no sender uses, values up to 64 KB,
many and repeated fields, odd headers, and signatures that are missing, empty, malformed,
forged, made with the other organization's Auth Token (or webhook secret), or valid over a
request that was then changed. For every example: never a 5xx, and nothing stored (messages,
their events, contacts and tags, consent, enrolments, idempotency rows, outbound events)
unless the request proves it comes for the organization it addresses. One ordinary request
per webhook proves that the view still works, so the fuzz cannot pass against a view that
refuses everything.

The database is set up once per test and never rolled back between examples: each example
compares it with a snapshot taken just before it. Run the fuzz on PostgreSQL too: a NUL or a
value no column can hold only fails there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Count, Max
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from automations.models import Automation, AutomationRun, RunStep
from contacts.models import ConsentEvent, ConsentState, Contact, ContactTag
from messaging.models import Message, MessageEvent, Status
from messaging.services.sending import message_send
from tenants.models import IdempotencyKey, Organization
from tenants.outbound.models import WebhookEvent
from tests import twilio_mocks as tw
from tests.automations.webhook_helpers import webhook_automation
from tests.connections.helpers import connect
from tests.factories import Personas
from tests.messaging import webhook_helpers as wh

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM = "application/x-www-form-urlencoded"
LIMIT = 64 * 1024  # the largest body (and value) the fuzz sends, past the webhook's own limit
# What an automation's webhook may answer a request it takes: 200, or a 4xx about the body.
WATCHED: tuple[type[models.Model], ...] = (
    Message,
    MessageEvent,
    Contact,
    ContactTag,
    ConsentEvent,
    ConsentState,
    AutomationRun,
    RunStep,
    IdempotencyKey,
    WebhookEvent,
)


def snapshot() -> list[Any]:
    """A cheap fingerprint of everything a webhook may write: per watched table its rows,
    highest key and latest ``updated_at`` (where it has one), then every message's status,
    SID and error (what a status callback moves)."""
    prints: list[Any] = []
    for model in WATCHED:
        aggregates: dict[str, Any] = {"rows": Count("pk"), "last": Max("pk")}
        if any(field.name == "updated_at" for field in model._meta.fields):
            aggregates["changed"] = Max("updated_at")
        prints.append((model.__name__, model._default_manager.aggregate(**aggregates)))
    prints.append(
        list(Message.objects.order_by("pk").values_list("pk", "status", "sid", "error_code"))
    )
    return prints


# --- The two organizations the requests aim at -----------------------------------------------


@dataclass(frozen=True)
class World:
    """Organization A (ours) and B (theirs), each connected to its own Twilio account (A with
    ``tw.AUTH_TOKEN``, B with ``wh.OTHER_TOKEN``), with an outbound message handed to Twilio
    and an active incoming-webhook automation each."""

    ours: Organization
    theirs: Organization
    messages: dict[str, Message]
    inbound_keys: dict[str, str]
    automations: dict[str, Automation]

    def token(self, who: str) -> str:
        return {"ours": tw.AUTH_TOKEN, "theirs": wh.OTHER_TOKEN}.get(who, "f" * 32)


def handed_to_twilio(organization: Organization) -> Message:
    message = message_send(organization=organization, to=wh.CUSTOMER, body="Hi", source="test")
    Message.objects.filter(pk=message.pk).update(
        status=Status.QUEUED, sid=wh.new_sid(), submitted_at=timezone.now()
    )
    return message


def make_world(personas: Personas) -> World:
    theirs = replace(personas, org=personas.other_org, marketer=personas.outsider)
    connections = {
        "ours": connect(personas),
        "theirs": connect(personas, "outsider", auth_token=wh.OTHER_TOKEN),
    }
    # The fastest rate a webhook takes, so that the fuzz is never a 429.
    fast: dict[str, Any] = {"rate_per_second": 1000}
    return World(
        ours=personas.org,
        theirs=personas.other_org,
        messages={
            "ours": handed_to_twilio(personas.org),
            "theirs": handed_to_twilio(personas.other_org),
        },
        inbound_keys={who: c.inbound_key for who, c in connections.items()},
        automations={
            "ours": webhook_automation(personas, trigger=fast),
            "theirs": webhook_automation(theirs, name="Their sign-ups", trigger=fast),
        },
    )


# --- Requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """One request: the path, the body as bytes, its Content-Type (None: no header) and the
    other headers, as WSGI ``extra`` (``HTTP_…``; ``CONTENT_LENGTH`` to declare a length that
    is not the body's)."""

    path: str
    body: bytes = b""
    content_type: str | None = FORM
    extra: tuple[tuple[str, str], ...] = ()

    def environ(self) -> dict[str, Any]:
        extra = dict(self.extra)
        if self.content_type is None:
            extra["CONTENT_TYPE"] = ""
        # The test client cannot send fewer bytes than declared (a server would read a short
        # body): a length past the body is declared only where Django reads none of it.
        declared = int(extra.get("CONTENT_LENGTH", 0))
        if len(self.body) < declared <= django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            extra["CONTENT_LENGTH"] = str(len(self.body))
        return extra

    def send(self, client: Client) -> Any:
        return client.generic(
            "POST",
            self.path,
            self.body,
            content_type=self.content_type or "",
            **self.environ(),
        )

    def as_django_reads_it(self) -> HttpRequest:
        return RequestFactory().generic(
            "POST",
            self.path,
            self.body,
            content_type=self.content_type or "",
            **self.environ(),
        )


def form_params(post: Post) -> dict[str, str] | None:
    """The form as Django reads it (the last value of a repeated field), or None when it
    cannot read it (a bad multipart body, too many fields, a charset it refuses)."""
    try:
        return dict(post.as_django_reads_it().POST.dict())
    except Exception:  # any refusal: no form anyone could have signed
        return None


# --- Strategies: pieces ----------------------------------------------------------------------

# Any text a UTF-8 form can carry (a lone surrogate cannot be encoded), controls and NUL too.
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)
# A header value as a server hands it on: one character per byte (ISO-8859-1).
header_text = st.text(st.characters(max_codepoint=255), max_size=48)
# Bytes, most of them no valid UTF-8.
raw = st.binary(max_size=24)


def repeated(pieces: st.SearchStrategy[Any], most: int = LIMIT) -> st.SearchStrategy[Any]:
    """A short piece repeated up to ``most`` long: large values without drawing every byte."""
    return st.tuples(pieces, st.integers(1, most)).map(lambda t: (t[0] * t[1])[:most])


def segment() -> st.SearchStrategy[str]:
    """A path segment nobody issued: text, raw bytes percent-encoded (invalid UTF-8, NUL,
    slashes) or something long."""
    return st.one_of(
        text.map(lambda t: quote(t, safe="")),
        raw.map(lambda b: quote_from_bytes(b, safe="")),
        repeated(st.sampled_from(["a", "%FF", "%00", "%C3%A9", "é"]), 4096),
    )


def query() -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(""),
        st.just("?retry=1"),
        text.map(lambda t: "?" + quote(t, safe="=&")),
        raw.map(lambda b: "?" + quote_from_bytes(b, safe="=&")),
    )


TWILIO_FIELDS = sorted(
    {*wh.status_form(sid="SM", status="sent"), *wh.inbound_form(body=""), "ErrorCode", "OptOutType"}
)
field_name = st.one_of(st.sampled_from(TWILIO_FIELDS), text)
field_value = st.one_of(
    text,
    st.sampled_from(["STOP", "start", " help ", "delivered", "failed", "30007", "-1", "+1"]),
    repeated(st.text(min_size=1, max_size=3), LIMIT // 4),
)
# A field's name or value as the body carries it: UTF-8 text or raw bytes, percent-encoded.
encoded = st.one_of(
    field_value.map(lambda t: quote(t, safe="")), raw.map(lambda b: quote_from_bytes(b, safe=""))
)
encoded_name = st.one_of(
    field_name.map(lambda t: quote(t, safe="")), raw.map(lambda b: quote_from_bytes(b, safe=""))
)


def form_body(base: dict[str, str], most: int = 1200) -> st.SearchStrategy[bytes]:
    """``base`` url-encoded, then random fields after it (names repeat), and up to ``most``
    more (past 1,000, DATA_UPLOAD_MAX_NUMBER_FIELDS, Django refuses the form)."""
    pairs = st.lists(st.tuples(encoded_name, encoded), max_size=12)
    many = st.integers(0, most).map(lambda n: "&".join(f"F{i % 50}=v{i}" for i in range(n)))
    return st.tuples(st.booleans(), pairs, many).map(
        lambda t: "&".join(
            part
            for part in (
                urlencode(base) if t[0] else "",
                "&".join(f"{n}={v}" for n, v in t[1]),
                t[2],
            )
            if part
        ).encode()
    )


def bodies(base: dict[str, str]) -> st.SearchStrategy[tuple[bytes, str | None]]:
    """A body and its Content-Type: a form with any charset, a multipart form (well made or
    not), JSON, raw bytes, or something large."""
    charsets = st.sampled_from(["", "; charset=utf-8", "; charset=latin-1", "; charset=utf-16"])
    odd_types = st.sampled_from(
        [
            None,
            "",
            "application/json",
            "text/plain",
            "text/xml; charset=utf-8",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            f"{FORM}; charset=no-such-charset",
            "x/" + "y" * 2000,
        ]
    )
    return st.one_of(
        st.tuples(form_body(base), charsets.map(lambda c: FORM + c)),
        st.dictionaries(field_name, field_value, max_size=6).map(
            lambda d: (encode_multipart(BOUNDARY, {**base, **d}), MULTIPART_CONTENT)
        ),
        st.tuples(st.one_of(raw, repeated(raw.filter(bool))), st.one_of(odd_types, charsets)),
        st.tuples(form_body(base), odd_types),
        st.tuples(
            st.dictionaries(text, text, max_size=6).map(lambda d: json.dumps(d).encode()),
            st.just("application/json"),
        ),
    )


def extra_headers() -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """Nothing, an odd or huge header, or a Content-Length that is not the body's."""
    return st.one_of(
        st.just(()),
        header_text.map(lambda v: (("HTTP_X_ODD", v),)),
        repeated(st.just("h"), 16 * 1024).map(lambda v: (("HTTP_X_HUGE", v),)),
        st.integers(0, 3_000_000).map(lambda n: (("CONTENT_LENGTH", str(n)),)),
    )
