"""An automation's incoming webhook fuzzed (``tests.security.fuzzing`` says how): nothing is
stored without the automation's own secret in the path; requests that carry it are taken.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client
from django.test.client import MULTIPART_CONTENT
from django.urls import Resolver404, resolve
from hypothesis import example, given
from hypothesis import strategies as st

from automations.models import AutomationRun
from contacts.models import Contact
from tests.security.fuzzing import (
    FORM,
    FUZZ,
    LIMIT,
    Post,
    World,
    extra_headers,
    header_text,
    raw,
    repeated,
    segment,
    snapshot,
    text,
)

pytestmark = pytest.mark.django_db

# What an automation's webhook may answer a request it takes: 200, or a 4xx about the body.
TAKEN = {200, 400, 409, 413}


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
