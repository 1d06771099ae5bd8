"""``message_send_many(dedupe_keys=…)``: each contact's own key (an automation's
``run:<enrolment>:step:<step>``), and ``message_send_preview``: the verdicts without a row."""

from __future__ import annotations

import pytest

from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from messaging.models import Message, Status, SuppressedReason
from messaging.services.content import message_send_preview
from messaging.services.sending import message_send_many
from templates_sms.services import template_create
from tests.messaging.helpers import make_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots", "connection")]


def test_each_contact_gets_its_own_key_and_a_used_key_suppresses(personas):
    a = make_contact(personas, "+14155550101")
    b = make_contact(personas, "+14155550102")
    keys = {a.pk: "run:1:step:s1", b.pk: "run:2:step:s1"}
    first = message_send_many(
        organization=personas.org,
        contacts=[a, b],
        body="Hi",
        source="automation",
        dedupe_keys=keys,
    )
    assert dict(Message.objects.values_list("contact_id", "dedupe_key")) == keys
    assert first.statuses == {"pending": 2}

    again = message_send_many(
        organization=personas.org,
        contacts=[a],
        body="Hi",
        source="automation",
        dedupe_keys={a.pk: "run:1:step:s1"},
    )
    message = Message.objects.get(pk=again.message_ids[0])
    assert (message.status, message.suppressed_reason) == (
        Status.SUPPRESSED,
        SuppressedReason.DUPLICATE,
    )


def test_preview_gives_the_text_and_the_rule_and_writes_nothing(personas):
    template = template_create(
        organization=personas.org, name="Hi", body="Hi {{ first_name }}"
    ).template
    ada = make_contact(personas, "+14155550101", first_name="Ada")
    preview = message_send_preview(organization=personas.org, contact=ada, template=template)
    assert preview.text.startswith("Hi Ada")
    assert (preview.segments, preview.encoding, preview.suppressed_reason) == (1, "GSM-7", "")
    consent_opt_out(organization=personas.org, phone=ada.phone, source=ConsentSource.USER)
    preview = message_send_preview(organization=personas.org, contact=ada, template=template)
    assert preview.suppressed_reason == SuppressedReason.OPTED_OUT
    assert not Message.objects.exists()
