"""``Idempotency-Key`` on every POST that creates something: a retry with the same key and
body gets the first answer and creates nothing more; the key with another body, or on another
route, is a 409 ``idempotency_key_reused``; a new API key's answer is kept encrypted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Model

from automations.models import Automation
from contacts.models import Contact, ContactImport
from templates_sms.models import SmsTemplate
from tenants.models import ApiKey, IdempotencyKey
from tests.automations.test_api_crud import full_body
from tests.contacts.api_import_helpers import PEOPLE, content, form

pytestmark = pytest.mark.django_db

Body = Callable[[Any], tuple[dict[str, Any], dict[str, Any]]]  # (first body, another body)


def contact_bodies(personas: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"phone": "+14155550111"}, {"phone": "+14155550112"}


def template_bodies(personas: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"name": "Hello", "body": "Hi!"}, {"name": "Other", "body": "Hi!"}


def automation_bodies(personas: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    sent, _templates = full_body(personas)
    return sent, {**sent, "name": "Another name"}


def api_key_bodies(personas: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"name": "CRM", "role": "marketer"}, {"name": "ERP", "role": "marketer"}


# (path, persona, bodies, the model a create adds a row to)
CREATES: list[tuple[str, str, Body, type[Model]]] = [
    ("/api/v1/contacts/", "marketer", contact_bodies, Contact),
    ("/api/v1/templates/", "marketer", template_bodies, SmsTemplate),
    ("/api/v1/automations/", "marketer", automation_bodies, Automation),
    ("/api/v1/api-keys/", "admin", api_key_bodies, ApiKey),
]


@pytest.mark.parametrize(("path", "persona", "bodies", "model"), CREATES)
def test_a_retried_create_gets_the_first_answer_and_creates_once(
    personas, path, persona, bodies, model
):
    first_body, other_body = bodies(personas)
    api = personas.api(persona)
    before = model.objects.count()

    first = api.post(path, first_body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    again = api.post(path, first_body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")

    assert first.status_code == 201, first.content
    assert (again.status_code, again.json()) == (201, first.json())
    assert model.objects.count() == before + 1

    other = api.post(path, other_body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")

    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert model.objects.count() == before + 1


def test_the_same_key_on_another_route_is_refused(personas):
    api = personas.api("marketer")
    api.post(
        "/api/v1/contacts/", {"phone": "+14155550111"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    answer = api.post(
        "/api/v1/templates/", {"phone": "+14155550111"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "idempotency_key_reused"
    assert not SmsTemplate.objects.exists()


def test_a_key_with_a_nul_is_refused_and_creates_nothing(personas):
    answer = personas.api("marketer").post(
        "/api/v1/contacts/", {"phone": "+14155550111"}, format="json", HTTP_IDEMPOTENCY_KEY="k\x00"
    )

    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["error"]["fields"]
    assert not Contact.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_a_refused_create_keeps_no_key_so_a_corrected_retry_goes_through(personas):
    api = personas.api("marketer")
    refused = api.post(
        "/api/v1/contacts/", {"phone": "12"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()


def test_a_new_api_keys_answer_is_kept_encrypted_and_given_again(personas):
    api = personas.api("admin")
    body = {"name": "CRM", "role": "marketer"}

    first = api.post("/api/v1/api-keys/", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    again = api.post("/api/v1/api-keys/", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    secret = first.json()["key"]
    assert again.json()["key"] == secret
    stored = IdempotencyKey.objects.get(key="key-1").response_body
    assert set(stored) == {"sealed"}
    assert secret not in str(stored)


def test_a_retried_upload_starts_one_import_and_answers_its_location(personas):
    api = personas.api("marketer")

    def upload(rows: list[list[str]]) -> Any:
        return api.post(
            "/api/v1/contacts/imports/",
            form(content(rows)),
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    first, again = upload(PEOPLE), upload(PEOPLE)

    assert first.status_code == 202, first.content
    assert (again.status_code, again.json()) == (202, first.json())
    assert again["Location"] == first["Location"]
    assert ContactImport.objects.count() == 1
    # Another file under the same key: its bytes differ.
    assert upload([*PEOPLE, ["+14155550199", "Cleo", ""]]).status_code == 409
    assert ContactImport.objects.count() == 1
