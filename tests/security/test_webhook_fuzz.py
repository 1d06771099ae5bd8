"""The webhooks anyone can post to, fuzzed: Twilio's status callbacks and inbound messages,
and an automation's incoming webhook.

Hypothesis builds the requests: random forms and JSON bodies, bytes that are not UTF-8 in
names, values and the path, charsets and content types no sender uses, values up to 64 KB,
many and repeated fields, odd headers, and signatures that are missing, empty, malformed,
forged, made with the other organization's Auth Token (or webhook secret), or valid over a
request that was then changed. For every example: never a 5xx, and nothing stored (messages,
their events, contacts and tags, consent, enrolments, idempotency rows, outbound events)
unless the request proves it comes for the organization it addresses. That is judged here
with Twilio's own ``RequestValidator`` over the form as Django reads it, not with the
product's check. One ordinary request per webhook proves that the view still works, so the
fuzz cannot pass against a view that refuses everything.

The database is set up once per test and never rolled back between examples: each example
compares it with a snapshot taken just before it. Run this on PostgreSQL too: a NUL or a
value no column can hold only fails there.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings as django_settings
from django.db import models
from django.db.models import Count, Max
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import Resolver404, resolve
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

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
from tests.messaging.inbound_helpers import twiml_of

pytestmark = pytest.mark.django_db

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
TAKEN = {200, 400, 409, 413}
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


@pytest.fixture
def world(personas: Personas) -> World:
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


def twilio_signature(post: Post, token: str, *, base: str = wh.PUBLIC_BASE_URL) -> str:
    """What Twilio would send for this request with ``token``: over the URL it was given
    (``base`` + path + query) and the form as read."""
    request = post.as_django_reads_it()
    return RequestValidator(token).compute_signature(
        f"{base}{request.get_full_path()}", form_params(post) or {}
    )


def signed_for_its_tenant(world: World, post: Post, tokens: dict[str, str]) -> bool:
    """Whether the request carries Twilio's signature made with the Auth Token of the
    organization its path addresses (``tokens``: path key → token), by Twilio's own check."""
    request = post.as_django_reads_it()
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    key = str(next(iter(match.kwargs.values()), ""))
    if match.url_name == "twilio_status_callback":
        try:
            key = str(uuid.UUID(key))
        except ValueError:
            return False
    token = tokens.get(key)
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE")
    params = form_params(post)
    if token is None or signature is None or params is None:
        return False
    return bool(
        RequestValidator(token).validate(
            f"{wh.PUBLIC_BASE_URL}{request.get_full_path()}", params, signature
        )
    )


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


# --- Strategies: Twilio's webhooks -----------------------------------------------------------


@dataclass(frozen=True)
class TwilioCase:
    """A Twilio webhook request as drawn, before the world's ids are filled in: whose
    resource the path names (``ours``, ``theirs``, ``unknown`` or a segment nobody issued),
    how the id is spelled, and how the signature header is made."""

    target: str
    spelling: str
    query: str
    body: bytes
    content_type: str | None
    extra: tuple[tuple[str, str], ...]
    # None: no header; a str: sent as it is; ("sign", token of, over): made by the test.
    signature: str | tuple[str, str, str] | None


SPELLINGS = ("as-issued", "upper", "braces", "urn", "hex", "trailing-slash", "cut", "longer")
SIGNED_OVER = ("as-sent", "then-changed", "the-other-path", "the-internal-url")


def signatures() -> st.SearchStrategy[str | tuple[str, str, str] | None]:
    forged = st.binary(min_size=20, max_size=20).map(lambda b: base64.b64encode(b).decode())
    return st.one_of(
        st.none(),
        st.just(""),
        header_text,
        forged,
        repeated(st.sampled_from(["A", "=", "+/"]), 16 * 1024),
        st.tuples(
            st.just("sign"),
            st.sampled_from(["ours", "theirs", "nobody"]),
            st.sampled_from(SIGNED_OVER),
        ),
    )


def twilio_cases(base: dict[str, str]) -> st.SearchStrategy[TwilioCase]:
    return st.builds(
        lambda target, spelling, q, body, extra, signature: TwilioCase(
            target, spelling, q, body[0], body[1], extra, signature
        ),
        st.one_of(st.sampled_from(["ours", "theirs", "unknown"]), segment()),
        st.sampled_from(SPELLINGS),
        query(),
        bodies(base),
        extra_headers(),
        signatures(),
    )


def spelled(key: str, spelling: str) -> str:
    """The id or key as the path spells it: as issued, or changed (a UUID in another of the
    forms Python reads, or a key cut short or made longer)."""
    if spelling == "upper":
        return key.upper()
    if spelling == "braces":
        return "{" + key + "}"
    if spelling == "urn":
        return f"urn:uuid:{key}"
    if spelling == "hex":
        return key.replace("-", "")
    if spelling == "trailing-slash":
        return key + "/"
    if spelling == "cut":
        return key[:-1]
    if spelling == "longer":
        return key + "0"
    return key


def twilio_post(case: TwilioCase, prefix: str, keys: dict[str, str], world: World) -> Post:
    """The request the case describes, its signature made as it says."""
    key = keys.get(case.target, str(uuid.UUID(int=7)) if case.target == "unknown" else case.target)
    path = f"{prefix}{spelled(key, case.spelling)}{case.query}"
    post = Post(path, case.body, case.content_type, case.extra)
    if not isinstance(case.signature, tuple):
        header = case.signature
    else:
        _, whose, over = case.signature
        signed = post
        base = wh.PUBLIC_BASE_URL
        if over == "then-changed":
            post = replace(post, body=post.body + b"&Body=STOP&MessageStatus=delivered")
        elif over == "the-other-path":
            other = "theirs" if case.target == "ours" else "ours"
            signed = replace(post, path=f"{prefix}{keys[other]}{case.query}")
        elif over == "the-internal-url":
            base = wh.INTERNAL_BASE_URL
        header = twilio_signature(signed, world.token(whose), base=base)
    if header is None:
        return post
    return replace(post, extra=(*post.extra, ("HTTP_X_TWILIO_SIGNATURE", header)))


def status_keys(world: World) -> dict[str, str]:
    return {who: str(message.public_id) for who, message in world.messages.items()}


def status_tokens(world: World) -> dict[str, str]:
    return {str(m.public_id): world.token(who) for who, m in world.messages.items()}


def inbound_tokens(world: World) -> dict[str, str]:
    return {key: world.token(who) for who, key in world.inbound_keys.items()}


def assert_refused_unless_signed(
    world: World, client: Client, post: Post, tokens: dict[str, str]
) -> Any:
    """The request's answer is no 5xx, and it stored nothing unless it was signed for the
    organization it addresses."""
    signed = signed_for_its_tenant(world, post, tokens)
    before = snapshot()
    response = post.send(client)
    assert response.status_code < 500, response.content[:300]
    if not signed:
        assert snapshot() == before, (response.status_code, response.content[:300])
    return response


STATUS_BASE = wh.status_form(sid="SM" + "5" * 32, status="delivered")
INBOUND_BASE = wh.inbound_form(body="STOP", sid="SM" + "6" * 32)


@FUZZ
@given(case=twilio_cases(STATUS_BASE))
def test_a_status_callback_moves_nothing_without_the_messages_own_signature(client, world, case):
    """Whatever is posted to a status callback address (any id, body, charset, header or
    signature), the answer is no 5xx, and no message, event or anything else changes unless
    Twilio's signature with the message's own organization's token is on exactly what was
    posted: a forgery, the other organization's token, or a signed form changed afterwards
    would otherwise move a message's status (a "delivered" that never was)."""
    post = twilio_post(case, wh.STATUS_PATH, status_keys(world), world)

    response = assert_refused_unless_signed(world, client, post, status_tokens(world))

    assert response.status_code in {204, 400, 403, 404, 405}


@FUZZ
@given(case=twilio_cases(INBOUND_BASE))
def test_an_inbound_post_stores_nothing_without_its_organizations_signature(client, world, case):
    """Whatever is posted to an inbound address, the answer is no 5xx, and no message,
    contact or consent event is stored unless Twilio's signature with the addressed
    organization's own token is on exactly what was posted: a forged "STOP" must not opt a
    person out, nor a signed "Hi" turned into "STOP" on the way."""
    post = twilio_post(case, wh.INBOUND_PATH, world.inbound_keys, world)

    response = assert_refused_unless_signed(world, client, post, inbound_tokens(world))

    assert response.status_code in {200, 400, 403, 404, 405}


# What Twilio could sign: fewer fields than Django's limit, UTF-8.
signed_forms = st.tuples(form_body({}, most=900), st.sampled_from([FORM, f"{FORM}; charset=utf-8"]))


@FUZZ
@given(body=signed_forms, sid=st.uuids())
def test_a_signed_status_callback_with_any_form_is_answered_204(client, world, body, sid):
    """A correctly signed callback whose fields are anything at all (NUL, bytes that are not
    UTF-8, 64 KB values, repeated names, numbers out of range) is taken with a 204, never a
    5xx: Twilio retries a 5xx for hours, and each retry would fail again."""
    message = world.messages["ours"]
    form = urlencode({"MessageSid": f"SM{sid.hex}", "MessageStatus": "sent"}).encode()
    post = Post(wh.status_path(message), form + b"&" + body[0], body[1])
    post = replace(
        post, extra=(("HTTP_X_TWILIO_SIGNATURE", twilio_signature(post, tw.AUTH_TOKEN)),)
    )

    response = post.send(client)

    assert response.status_code == 204, response.content[:300]


@FUZZ
@given(body=signed_forms, sid=st.uuids())
def test_a_signed_inbound_message_with_any_form_is_stored(client, world, body, sid):
    """A correctly signed inbound message whose fields are anything at all (the sender's
    number, the body, OptOutType, SIDs too long or not ASCII, NUL, invalid UTF-8) is stored
    as one message and answered with TwiML, never a 5xx: what a person wrote, a STOP above
    all, must never be lost to a value no column can hold."""
    form = urlencode({"MessageSid": f"SM{sid.hex}", "SmsSid": f"SM{sid.hex}"}).encode()
    post = Post(wh.inbound_path(world.inbound_keys["ours"]), body[0] + b"&" + form, body[1])
    post = replace(
        post, extra=(("HTTP_X_TWILIO_SIGNATURE", twilio_signature(post, tw.AUTH_TOKEN)),)
    )
    # Hypothesis may draw a SID again: Twilio repeating itself, stored once.
    new = not Message.objects.filter(sid=f"SM{sid.hex}").exists()
    messages = Message.objects.count()

    response = post.send(client)

    twiml_of(response)
    assert Message.objects.count() == messages + new


# --- Positive controls: the builders make requests the views take ------------------------------


def test_a_status_callback_built_like_the_fuzz_but_signed_moves_the_message(client, world):
    """The control of the status fuzz: its own request builder, signed by A's Twilio over
    what it sends, moves A's message. If the view refused everything, this fails."""
    message = world.messages["ours"]
    case = TwilioCase(
        "ours",
        "as-issued",
        "",
        urlencode(STATUS_BASE).encode(),
        FORM,
        (),
        ("sign", "ours", "as-sent"),
    )
    post = twilio_post(case, wh.STATUS_PATH, status_keys(world), world)
    assert signed_for_its_tenant(world, post, status_tokens(world))

    response = post.send(client)

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_an_inbound_message_built_like_the_fuzz_but_signed_is_stored(client, world):
    """The control of the inbound fuzz: its builder, signed by A's Twilio, stores the STOP
    and opts the number out."""
    case = TwilioCase(
        "ours",
        "as-issued",
        "",
        urlencode(INBOUND_BASE).encode(),
        FORM,
        (),
        ("sign", "ours", "as-sent"),
    )
    post = twilio_post(case, wh.INBOUND_PATH, world.inbound_keys, world)
    assert signed_for_its_tenant(world, post, inbound_tokens(world))

    response = post.send(client)

    twiml_of(response)
    assert Message.objects.filter(organization=world.ours, body="STOP").count() == 1
    assert ConsentState.objects.filter(
        organization=world.ours, phone=wh.CUSTOMER, opted_out=True
    ).exists()


# --- The automations' incoming webhook -------------------------------------------------------


@dataclass(frozen=True)
class HookCase:
    """A post to an automation's webhook: whose id and whose secret the path carries (or a
    changed secret, or a segment nobody issued), the body and its type, the headers."""

    automation: str
    secret: str
    body: bytes
    content_type: str | None
    extra: tuple[tuple[str, str], ...]


SECRETS = ("ours", "theirs", "changed", "cut", "longer", "upper", "escaped", "empty")
ADA = {"phone": "+14155550101", "first_name": "Ada", "tags": ["webinar"], "event_id": "e-1"}
HOOK_FIELDS = ["phone", "first_name", "last_name", "email", "time_zone", "custom_fields", "tags"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(
    st.one_of(st.sampled_from([*HOOK_FIELDS, "event_id"]), text), json_values, max_size=8
)


def json_bodies() -> st.SearchStrategy[bytes]:
    """JSON as a sender might post it, or not quite: any object of the webhook's fields and
    others, Ada's contact, escapes no text holds (NUL, a lone surrogate), bytes that are not
    UTF-8 in a string, a body past 64 KB, or no JSON at all."""
    escapes = st.sampled_from(["\\u0000", "\\ud800", "\\udfff\\ud800", "\\u00e9", "\\\\"])
    return st.one_of(
        json_objects.map(lambda d: json.dumps(d).encode()),
        json_objects.map(lambda d: json.dumps({**ADA, **d}).encode()),
        st.tuples(st.sampled_from([*HOOK_FIELDS[:5], "event_id"]), escapes).map(
            lambda t: json.dumps(ADA)[:-1].encode() + f', "{t[0]}": "x{t[1]}"}}'.encode()
        ),
        raw.map(lambda b: b'{"phone": "+14155550101", "first_name": "' + b + b'"}'),
        repeated(st.just("a"), LIMIT).map(lambda v: json.dumps({**ADA, "last_name": v}).encode()),
        st.one_of(raw, repeated(raw.filter(bool))),
    )


def hook_cases() -> st.SearchStrategy[HookCase]:
    return st.builds(
        HookCase,
        st.one_of(st.sampled_from(["ours", "theirs", "unknown"]), segment()),
        st.one_of(st.sampled_from(SECRETS), segment()),
        json_bodies(),
        st.sampled_from(
            [
                "application/json",
                "application/json; charset=utf-16",
                "text/plain",
                FORM,
                MULTIPART_CONTENT,
                None,
            ]
        ),
        st.one_of(
            extra_headers(),
            header_text.map(lambda v: (("HTTP_IDEMPOTENCY_KEY", v),)),
        ),
    )


def hook_secret(world: World, secret: str) -> str:
    """The secret the path carries: an automation's own, or ours changed (one character,
    cut short, made longer, in capitals, every character percent-escaped), or as drawn."""
    ours = world.automations["ours"].webhook_secret
    changed = {
        "ours": ours,
        "theirs": world.automations["theirs"].webhook_secret,
        "changed": ours[:-1] + ("A" if ours[-1] != "A" else "B"),
        "cut": ours[:-1],
        "longer": ours + "x",
        "upper": ours.upper(),
        "escaped": "".join(f"%{b:02X}" for b in ours.encode()),
        "empty": "",
    }
    return changed.get(secret, secret)


def hook_post(world: World, case: HookCase) -> Post:
    automation = world.automations.get(case.automation)
    key = str(automation.public_id) if automation else case.automation
    if case.automation == "unknown":
        key = str(uuid.UUID(int=7))
    path = f"/webhooks/automations/{key}/{hook_secret(world, case.secret)}"
    return Post(path, case.body, case.content_type, case.extra)


def carries_a_secret(world: World, post: Post) -> bool:
    """Whether the path names an automation with that automation's own secret (read from the
    path as Django decodes it)."""
    try:
        match = resolve(post.as_django_reads_it().path_info)
        key = uuid.UUID(match.kwargs["automation_id"])
    except (Resolver404, KeyError, ValueError):
        return False
    return any(
        automation.public_id == key and automation.webhook_secret == match.kwargs["secret"]
        for automation in world.automations.values()
    )


@FUZZ
@given(case=hook_cases())
@example(  # a lone surrogate in a JSON string could not be stored: a 500
    case=HookCase(
        "ours",
        "ours",
        b'{"phone": "+14155550101", "first_name": "\\ud800"}',
        "application/json",
        (),
    )
)
@example(  # a NUL in the Idempotency-Key reached PostgreSQL: a 500 there
    case=HookCase(
        "ours",
        "ours",
        json.dumps(ADA).encode(),
        "application/json",
        (("HTTP_IDEMPOTENCY_KEY", "a\x00b"),),
    )
)
def test_an_incoming_webhook_stores_nothing_without_its_automations_secret(world, case):
    """Whatever is posted to an automation's webhook address (any id, secret, body, type or
    header), the answer is no 5xx, and no contact, enrolment, message or idempotency row is
    stored unless the path carries that automation's own secret: not the other
    organization's, not one character off, not a prefix."""
    post = hook_post(world, case)
    valid = carries_a_secret(world, post)
    before = snapshot()

    response = post.send(Client(HTTP_X_FORWARDED_PROTO="https"))

    assert response.status_code < 500, response.content[:300]
    if valid:
        assert response.status_code in TAKEN, response.content[:300]
    else:
        assert snapshot() == before, (response.status_code, response.content[:300])
        assert response.status_code in {400, 404, 405, 413}, response.content[:300]


def test_the_incoming_webhook_built_like_the_fuzz_enrols_the_contact(world):
    """The control of the webhook fuzz: its builder with the automation's own secret and Ada
    upserts her and enrols her once."""
    case = HookCase("ours", "ours", json.dumps(ADA).encode(), "application/json", ())
    post = hook_post(world, case)
    assert carries_a_secret(world, post)

    response = post.send(Client(HTTP_X_FORWARDED_PROTO="https"))

    assert response.status_code == 200, response.content
    assert response.json()["enrolled"] is True
    ada = Contact.objects.get(organization=world.ours, phone="+14155550101")
    assert (
        AutomationRun.objects.filter(automation=world.automations["ours"], contact=ada).count() == 1
    )


# --- A charset Django cannot decode the query string with ------------------------------------


@pytest.mark.parametrize("charset", ["rot13", "base64", "hex", "zlib", "punycode", "undefined"])
def test_a_webhook_with_a_query_string_and_a_charset_that_is_no_text_is_a_400(world, charset):
    """Django decodes the query string with the Content-Type's charset while it builds the
    request, outside its own error handling: ``?retry=1`` with ``charset=rot13`` made every
    address a 500 before any view ran. Through the application gunicorn serves, it is a 400
    (the test client builds its requests without it, so this calls it directly)."""
    from config.wsgi import application

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": wh.inbound_path(world.inbound_keys["ours"]),
        "QUERY_STRING": "retry=1",
        "CONTENT_TYPE": f"{FORM}; charset={charset}",
        "CONTENT_LENGTH": "9",
        "wsgi.input": io.BytesIO(b"Body=STOP"),
    }
    setup_testing_defaults(environ)
    answered: list[str] = []
    before = snapshot()

    body = b"".join(application(environ, lambda status, headers: answered.append(status)))

    assert answered == ["400 Bad Request"]
    assert b"charset" in body
    assert snapshot() == before


def test_a_query_string_readable_with_its_charset_reaches_django():
    """The control: a charset Django can read (or one it does not know and ignores), or no
    query string, is passed on to Django untouched."""
    from config.wsgi import refusing_unreadable_queries

    reached: list[str] = []

    def django(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        reached.append(environ["QUERY_STRING"])
        return []

    app = refusing_unreadable_queries(django)
    for content_type, query in [
        (f"{FORM}; charset=utf-8", "retry=1"),
        (f"{FORM}; charset=no-such-charset", "retry=1"),
        (f"{FORM}; charset=rot13", ""),
        ("", "retry=1"),
    ]:
        app({"CONTENT_TYPE": content_type, "QUERY_STRING": query}, lambda *a: None)

    assert reached == ["retry=1", "retry=1", "", "retry=1"]
