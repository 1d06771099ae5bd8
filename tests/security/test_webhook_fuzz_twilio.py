"""Twilio's webhooks fuzzed: status callbacks and inbound messages (``tests.security.fuzzing``
says how). A request counts as signed only when Twilio's own ``RequestValidator``, over the form
as Django reads it, accepts its signature with the Auth Token of the organization its path
addresses: judged here, independently of the product's check.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from contacts.models import ConsentState
from messaging.models import Message, Status
from tests import twilio_mocks as tw
from tests.messaging import webhook_helpers as wh
from tests.messaging.inbound_helpers import twiml_of
from tests.security.fuzzing import (
    FORM,
    FUZZ,
    Post,
    World,
    bodies,
    extra_headers,
    form_body,
    form_params,
    header_text,
    query,
    repeated,
    segment,
    snapshot,
)

pytestmark = pytest.mark.django_db


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
