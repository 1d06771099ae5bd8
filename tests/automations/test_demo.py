"""``setup_demo --with-data``: the demo organization filled through the services, its history
sent through a real sandbox whose webhooks reach a live server; a second run changes nothing."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from automations.demo import ANSWERS, LEAD_TAG, LEADS, OUTCOMES, REPLIES
from automations.models import Automation, AutomationRun, RunState, State
from contacts.models import OPT_OUT_TAG, ConsentEvent, Contact, ContactTag
from messaging.models import Message, Status
from templates_sms.models import SmsTemplate
from templates_sms.segments import count_segments
from tenants.models import Organization
from tests.factories import PASSWORD
from tests.live_hub import HubFactory, live_hub, sandbox_factory
from tests.sandbox.conftest import Sandbox, wait_until

__all__ = ["live_hub", "sandbox_factory"]  # the fixtures, used here too

pytestmark = pytest.mark.django_db(transaction=True)

FINAL = (Status.DELIVERED, Status.UNDELIVERED, Status.FAILED, Status.SUPPRESSED)


def setup_demo(*extra: str) -> str:
    out = StringIO()
    call_command("setup_demo", "--password", PASSWORD, *extra, stdout=out)
    return out.getvalue()


@pytest.fixture
def hub(live_hub: HubFactory) -> Sandbox:
    """A sandbox whose webhooks (status callbacks, inbound texts) reach the live server, and
    the demo organization connected to it."""
    slug = setup_demo().strip().splitlines()[-1]
    return live_hub(slug)


def snapshot(organization: Organization) -> dict[str, object]:
    return {
        "contacts": Contact.objects.filter(organization=organization).count(),
        "tags": ContactTag.objects.filter(contact__organization=organization).count(),
        "templates": SmsTemplate.objects.filter(organization=organization).count(),
        "automations": sorted(
            Automation.objects.filter(organization=organization).values_list("name", "state")
        ),
        "runs": AutomationRun.objects.filter(organization=organization).count(),
        "messages": sorted(
            Message.objects.filter(organization=organization).values_list("pk", "status")
        ),
        "consent": ConsentEvent.objects.filter(organization=organization).count(),
    }


def test_the_demo_is_filled_once_with_a_history_from_the_sandbox(hub: Sandbox):
    output = setup_demo("--with-data", "--sandbox", hub.url)

    organization = Organization.objects.get()
    assert "Demo data: 200 contacts, 3 templates and 2 automations added." in output
    assert f"History: {LEADS} leads tagged new-lead and welcomed through the sandbox" in output
    contacts = Contact.objects.filter(organization=organization)
    assert contacts.count() == 200
    assert len(set(contacts.values_list("time_zone", flat=True))) >= 3
    assert contacts.filter(custom_fields__has_key="birthday").count() > 20
    assert set(
        Automation.objects.filter(organization=organization).values_list("name", "state")
    ) == {("Welcome new leads", State.ACTIVE), ("Birthday wishes", State.DRAFT)}
    assert count_segments(SmsTemplate.objects.get(name="Birthday treat").body).encoding == "UCS-2"

    outbound = Message.objects.filter(organization=organization).exclude(status=Status.RECEIVED)
    wait_until(
        lambda: (
            outbound.count() == LEADS - 2 + len(ANSWERS) + 1
            and not outbound.exclude(status__in=FINAL).exists()
        ),
        timeout=60,  # the sandbox's callbacks, through a live server on a busy machine
        what="every welcome's final status",
    )
    spread = Counter(outbound.values_list("status", "error_code"))
    assert spread == {
        (Status.DELIVERED, None): LEADS - 2 - len(OUTCOMES) + len(ANSWERS),
        (Status.UNDELIVERED, 30003): 2,
        (Status.UNDELIVERED, 30007): 2,
        (Status.FAILED, 30034): 1,
        (Status.SUPPRESSED, None): 1,
    }
    assert outbound.get(status=Status.SUPPRESSED).suppressed_reason == "opted_out"
    # The two who had opted out never entered; the one who replied STOP left.
    assert Counter(AutomationRun.objects.values_list("state", "reason")) == {
        (RunState.WAITING, ""): LEADS - 3,
        (RunState.SKIPPED, "opted_out"): 2,
        (RunState.EXITED, "opted_out"): 1,
    }
    received = Message.objects.filter(organization=organization, status=Status.RECEIVED)
    assert received.count() == len(REPLIES) + 1
    stopped = received.get(body="STOP").contact
    assert stopped is not None
    assert stopped.tags.filter(name=OPT_OUT_TAG).exists()
    # With the two who had opted out before (their import said so).
    assert Contact.objects.filter(tags__name=OPT_OUT_TAG).count() == 3
    assert ContactTag.objects.filter(tag__name=LEAD_TAG).count() == LEADS

    before = snapshot(organization)
    again = setup_demo("--with-data", "--sandbox", hub.url)

    assert "Demo data: all there already; nothing changed." in again
    assert "History: already sent." in again
    assert snapshot(organization) == before
    # Each welcome that reached Twilio was created there once (its own callback URL).
    assert sorted(hub.stats()["creates"].values()) == [1] * (LEADS - 2 + len(ANSWERS))
