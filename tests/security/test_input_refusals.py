"""Input no database column can hold, or no parser should try: a 4xx, never a 500.

NUL (PostgreSQL cannot store or even compare it) in a path, a query string, a form or a JSON
string; JSON nested deeper than any of our resources; bodies over
DATA_UPLOAD_MAX_MEMORY_SIZE. Under /api/ the answer has the API's error shape; pages answer a
plain 400. Twilio's webhooks keep their own handling (tests/messaging/test_webhook_hardening.py).
Run these on PostgreSQL too: there a NUL that slips through is a 500.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings

from contacts.models import Contact
from templates_sms.models import SmsTemplate
from tests.messaging import webhook_helpers as wh
from tests.messaging.inbound_helpers import twiml_of

pytestmark = pytest.mark.django_db

SOME_ID = "3f1d7a52-9b0e-4c6a-8e21-5d4f0a7b9c13"


def api_error(response: Any, status: int = 400) -> dict[str, Any]:
    """The API's error body, after checking the status and the shape."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"]
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def plain_400(response: Any) -> str:
    """The 400 page: what went wrong, in words, and a way back."""
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    page = str(response.content.decode())
    assert "<h1>This request could not be read</h1>" in page
    assert "Nothing was changed." in page
    return page


# --- NUL in a query string: pages -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/contacts/?q=%00", "q"),
        ("/contacts/?q=ada%00", "q"),
        ("/contacts/?tag=vip%00", "tag"),
        ("/contacts/?sort=%00", "sort"),
        ("/contacts/?page=%00", "page"),
        ("/messages/?status=%00", "status"),
        ("/messages/?direction=in%00bound", "direction"),
        ("/messages/?template=%00", "template"),
        ("/messages/?contact=%00", "contact"),
        ("/messages/?since=%00", "since"),
        ("/messages/?older=%00", "older"),
        ("/messages/counts/?status=%00", "status"),
        ("/templates/?q=%00", "q"),
        ("/contacts/?%00=1", ""),
    ],
)
def test_it_answers_a_page_with_nul_in_its_query_string_with_a_plain_400(personas, path, name):
    response = personas.client("viewer").get(path)

    text = plain_400(response)
    assert "NUL" in text
    if name:
        assert f"“{name}”" in text


def test_it_answers_a_page_with_nul_in_the_query_string_before_signing_in_with_a_plain_400(
    client,
):
    plain_400(client.get("/login/?next=/contacts/%00"))


# --- NUL in a query string: the API ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/contacts/?q=%00", "q"),
        ("/api/v1/contacts/?tag=%00", "tag"),
        ("/api/v1/contacts/?phone=%2B1415%00", "phone"),
        ("/api/v1/contacts/?opted_out=%00", "opted_out"),
        ("/api/v1/consent/?phone=%00", "phone"),
        ("/api/v1/messages/?status=%00", "status"),
        ("/api/v1/messages/?direction=%00", "direction"),
        ("/api/v1/messages/?source=api%00", "source"),
        ("/api/v1/messages/?source_ref=%00", "source_ref"),
        ("/api/v1/messages/?contact=%00", "contact"),
        ("/api/v1/messages/?created_after=%00", "created_after"),
        ("/api/v1/messages/?cursor=%00", "cursor"),
        ("/api/v1/templates/?limit=%00", "limit"),
    ],
)
def test_it_answers_the_api_with_nul_in_its_query_string_with_its_json_400(personas, path, name):
    error = api_error(personas.api("viewer").get(path))

    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {name}
    assert "NUL" in error["fields"][name][0]


def test_it_answers_the_api_with_nul_in_its_query_string_before_authenticating(client):
    error = api_error(client.get("/api/v1/contacts/?q=%00"))

    assert set(error["fields"]) == {"q"}


# --- NUL in a path --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/contacts/%00/",
        f"/contacts/{SOME_ID}%00/",
        "/messages/%00/",
        "/templates/%00/edit/",
        "/invitations/%00/",
        "/invitations/abc%00def/",
        "/password-reset/%00/%00/",
        "/no-such-page%00/",
        "/static/%00.css",
    ],
)
def test_it_answers_a_page_path_with_nul_with_a_plain_400(personas, path):
    plain_400(personas.client("viewer").get(path))


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/contacts/%00/",
        f"/api/v1/messages/{SOME_ID}%00/",
        "/api/v1/templates/%00/",
        "/api/v1/no-such-endpoint%00/",
    ],
)
def test_it_answers_an_api_path_with_nul_with_its_json_400(personas, path):
    error = api_error(personas.api("viewer").get(path))

    assert "NUL" in error["message"]


# --- NUL in a form --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"phone": "+14155550123", "first_name": "Ada\x00", "time_zone": "UTC"},
        {"phone": "+14155550123", "first_name": "Ada", "time_zone": "UTC\x00"},
        {"phone": "+1415555\x000123", "time_zone": "UTC"},
        {"phone": "+14155550123", "time_zone": "UTC", "tags": "vip\x00"},
        {"phone": "+14155550123", "time_zone": "UTC", "cus\x00tom": "x"},
    ],
)
def test_it_answers_a_form_with_nul_with_a_plain_400_and_saves_nothing(personas, data):
    response = personas.client("marketer").post("/contacts/new/", data)

    assert "NUL" in plain_400(response)
    assert not Contact.objects.filter(organization=personas.org).exists()


def test_it_answers_a_multipart_form_with_nul_with_a_plain_400(personas):
    client = personas.client("marketer")

    response = client.post(
        "/templates/new/", {"name": "Sale\x00", "body": "Hi"}, format="multipart"
    )

    plain_400(response)
    assert not SmsTemplate.objects.filter(organization=personas.org).exists()


def test_it_answers_a_form_with_nul_before_signing_in_with_a_plain_400(client):
    response = client.post("/login/", {"username": "ada@example.com\x00", "password": "x"})

    plain_400(response)


# --- NUL in JSON ----------------------------------------------------------------------------------


def post_json(api: Any, path: str, body: Any, method: str = "post") -> Any:
    return getattr(api, method)(path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "+14155550123", "first_name": "Ada\u0000"}, "first_name"),
        ({"phone": "+14155550123", "last_name": "\u0000"}, "last_name"),
        ({"phone": "+1415555\u00000123"}, "phone"),
        ({"phone": "+14155550123", "email": "a\u0000@example.com"}, "email"),
        ({"phone": "+14155550123", "timezone": "UTC\u0000"}, "timezone"),
        ({"phone": "+14155550123", "custom_fields": {"plan": "gold\u0000"}}, "custom_fields"),
        ({"phone": "+14155550123", "custom_fields": {"pl\u0000an": "gold"}}, "custom_fields"),
        ({"phone": "+14155550123", "tags": ["vip", "x\u0000"]}, "tags"),
        ({"phone": "+14155550123", "fir\u0000st": "x"}, "fir\ufffdst"),
    ],
)
def test_it_refuses_a_contact_with_nul_in_its_json_naming_the_field(personas, body, field):
    error = api_error(post_json(personas.api("marketer"), "/api/v1/contacts/", body))

    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {field}
    assert not Contact.objects.filter(organization=personas.org).exists()


def test_it_refuses_a_contact_change_with_nul_naming_the_field(personas):
    api = personas.api("marketer")
    created = post_json(api, "/api/v1/contacts/", {"phone": "+14155550123", "first_name": "Ada"})
    assert created.status_code == 201, created.content
    path = f"/api/v1/contacts/{created.json()['id']}/"

    error = api_error(post_json(api, path, {"first_name": "A\u0000da"}, method="patch"))

    assert set(error["fields"]) == {"first_name"}
    assert Contact.objects.get(organization=personas.org).first_name == "Ada"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Sale", "body": "Hi\u0000 there"}, "body"),
        ({"name": "Sa\u0000le", "body": "Hi"}, "name"),
        (
            {"name": "Sale", "body": "Hi", "media_url": "https://cdn.example.com/\u0000"},
            "media_url",
        ),
    ],
)
def test_it_refuses_a_template_with_nul_naming_the_field(personas, body, field):
    error = api_error(post_json(personas.api("marketer"), "/api/v1/templates/", body))

    assert set(error["fields"]) == {field}
    assert not SmsTemplate.objects.filter(organization=personas.org).exists()


def test_it_refuses_a_send_with_nul_in_its_text_naming_the_field(personas):
    body = {"to": "+14155550123", "body": "Hello\u0000"}

    error = api_error(post_json(personas.api("marketer"), "/api/v1/messages/", body))

    assert set(error["fields"]) == {"body"}


def test_it_refuses_an_organization_change_with_nul_naming_the_field(personas):
    body = {"opt_out_footer": "Reply STOP\u0000"}

    error = api_error(post_json(personas.api("admin"), "/api/v1/organization/", body, "patch"))

    assert set(error["fields"]) == {"opt_out_footer"}


def test_it_refuses_a_json_list_with_nul_in_it(personas):
    error = api_error(post_json(personas.api("marketer"), "/api/v1/contacts/", ["\u0000"]))

    assert "NUL" in error["message"]


# --- Deep JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000,  # the probe's body: not even closed
        '{"a":' * 100_000,
        "[" * 100_000 + "]" * 100_000,
        "[" * 900 + "]" * 900,  # valid JSON Python's parser still reads
        '{"phone": "+14155550123", "custom_fields": ' + '{"a": ' * 65 + "1" + "}" * 66,
    ],
    ids=["100k-open-lists", "100k-open-objects", "100k-lists", "900-lists", "65-objects"],
)
def test_it_refuses_json_nested_too_deeply_with_a_json_400(personas, raw):
    response = personas.api("marketer").post(
        "/api/v1/contacts/", raw, content_type="application/json"
    )

    error = api_error(response)
    assert error["code"] == "parse_error"
    assert not Contact.objects.exists()


def test_it_still_reads_json_nested_as_deeply_as_any_resource(personas):
    body = {"phone": "+14155550123", "custom_fields": {"plan": "gold"}, "tags": ["vip"]}

    response = post_json(personas.api("marketer"), "/api/v1/contacts/", body)

    assert response.status_code == 201, response.content


# --- Bodies too large -----------------------------------------------------------------------------


def oversized() -> str:
    return "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)


def test_it_answers_an_oversized_json_body_with_the_apis_413(personas):
    body = json.dumps({"phone": "+14155550123", "first_name": oversized()})

    response = personas.api("marketer").post(
        "/api/v1/contacts/", body, content_type="application/json"
    )

    error = api_error(response, 413)
    assert error["code"] == "request_too_large"
    assert not Contact.objects.exists()


def test_it_answers_an_oversized_form_body_to_the_api_without_reading_it(personas):
    # The API reads JSON alone: a form of any size is refused by its type, unread.
    response = personas.api("marketer").post(
        "/api/v1/contacts/",
        f"first_name={oversized()}",
        content_type="application/x-www-form-urlencoded",
    )

    assert api_error(response, 415)["code"] == "unsupported_media_type"


def test_it_answers_an_oversized_body_before_authenticating_with_401_unread(client):
    response = client.post(
        "/api/v1/contacts/", json.dumps({"x": oversized()}), content_type="application/json"
    )

    assert api_error(response, 401)["code"] == "not_authenticated"


def test_it_answers_too_many_query_parameters_to_the_api_in_its_error_shape(personas):
    query = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = personas.api("viewer").get(f"/api/v1/contacts/?{query}")

    assert api_error(response)["code"] == "bad_request"


def test_it_answers_too_many_query_parameters_to_a_page_with_djangos_400(personas):
    query = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    plain_400(personas.client("viewer").get(f"/contacts/?{query}"))


def test_it_answers_an_oversized_form_to_a_page_with_a_4xx(personas):
    response = personas.client("marketer").post(
        "/contacts/new/",
        f"first_name={oversized()}",
        content_type="application/x-www-form-urlencoded",
    )

    assert 400 <= response.status_code < 500
    assert not Contact.objects.exists()


# --- Twilio's webhooks keep NUL for themselves ----------------------------------------------------


def test_it_leaves_a_signed_inbound_message_with_nul_to_the_webhook(client, personas):
    from tests.connections.helpers import connect

    connection = connect(personas)
    form = wh.inbound_form(body="Hi\x00")

    response = wh.post_signed(client, wh.inbound_path(connection), form)

    twiml_of(response)
    assert Contact.objects.filter(organization=personas.org).count() == 1
