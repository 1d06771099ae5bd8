"""What the contract test (tests/api/test_contract.py) runs against: an organization with one
of everything the API reads (a Twilio connection, contacts, a template, an active automation
with an enrolment and a launch, an import, a message), an API key per role, and Twilio mocked
at the HTTP level (sending answers; anything else is a transport error, as when Twilio is
unreachable)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import responses

from automations.services.enrolment import contact_enrol
from automations.services.launches import launch_create
from contacts.services.contacts import contact_create
from messaging.services.sending import message_send
from tenants.api_schema import EXAMPLE_IDS
from tenants.models import Role
from tenants.services.api_keys import api_key_create
from tenants.sources import Source
from tests import twilio_mocks as tw
from tests.automations.helpers import active, send, template
from tests.connections import pricing_mocks as pricing
from tests.connections.helpers import connect
from tests.contacts.import_helpers import imported
from tests.factories import Personas, make_member
from tests.messaging.helpers import messages_create

ROLES = (Role.ADMIN, Role.MARKETER, Role.VIEWER)
TAG = "vip"


@dataclass
class World:
    keys: dict[str, str]  # role -> raw key
    # An operation's path parameters that name an object of the world.
    ids: dict[str, str] = field(default_factory=dict)


TWILIO = re.compile(r"https://[a-z]+\.twilio\.com/.*")


def twilio() -> Iterator[responses.RequestsMock]:
    """Twilio as the contract test sees it: the world's account sends and has prices; any
    other request is refused as Twilio refuses credentials it does not know."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        messages_create(rsps)
        pricing.country(rsps, pricing.country_body())
        for method in (responses.GET, responses.POST, responses.DELETE):
            rsps.add(method, TWILIO, json=tw.error(20003, 401, "Authenticate"), status=401)
        yield rsps


def _as_in_the_examples(obj: Any, name: str) -> Any:
    """The object, with the public id the schema's examples give its kind, so that an example
    naming it (a message's template, a dry run's contact) names it."""
    type(obj).objects.filter(pk=obj.pk).update(public_id=EXAMPLE_IDS[name])
    obj.refresh_from_db()
    return obj


def make_world(personas: Personas) -> World:
    org = personas.org
    connect(personas)
    sms = _as_in_the_examples(template(personas), "template")
    contact = contact_create(
        organization=org, source="api", phone="+14155550101", first_name="Ada", tags=[TAG]
    )
    contact = _as_in_the_examples(contact, "contact")
    contact_create(organization=org, source="api", phone="+14155550102", first_name="Bob")
    automation = active(
        personas, trigger={"type": "tag_added", "tag": "new-lead"}, steps=[send(sms)]
    )
    contact_enrol(automation=automation, contact_id=contact.pk, key="api:world", source=Source.API)
    launch = launch_create(
        automation=automation, audience={"has_any_tags": [TAG]}, kind="manual", source="api"
    )
    message = message_send(
        organization=org, contact=contact, template=sms, source="api", source_ref="world"
    )
    contact_import = imported(org, [["phone", "first_name"], ["+14155550103", "Cy"], ["x", ""]])
    # Objects the operations may change or delete without taking the callers' keys away.
    victim = make_member(org, Role.VIEWER, "victim@a.example.com")
    victim_key, _raw = api_key_create(organization=org, name="victim", role=Role.VIEWER)
    keys = {
        str(role): api_key_create(organization=org, name=f"contract {role}", role=role)[1]
        for role in ROLES
    }
    return World(
        keys=keys,
        ids={
            "contact_id": str(contact.public_id),
            "template_id": str(sms.public_id),
            "automation_id": str(automation.public_id),
            "launch_id": str(launch.public_id),
            "import_id": str(contact_import.public_id),
            "message_id": str(message.public_id),
            "member_id": str(victim.memberships.get().public_id),
            "key_id": str(victim_key.public_id),
            "name": TAG,
        },
    )
