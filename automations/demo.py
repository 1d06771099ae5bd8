"""The demo organization's data (``setup_demo --with-data``, run by ``make run``).

Everything is made through the same services a person or the API uses, so the demo shows what
the product really does: contacts with tags, custom fields and time zones of their own, three
templates (one of them UCS-2), an active automation and a draft, and a history of messages sent
through the Twilio sandbox with statuses and replies that came back through its webhooks.

Idempotent: templates, contacts and automations are found by name or number before anything is
made, and the history is sent only to an organization without messages, so a second run changes
nothing.
"""

from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass

import requests
from django.db import transaction

from automations.models import Automation, AutomationRun
from automations.services.automations import (
    automation_activate,
    automation_create,
    automation_publish,
)
from connections.selectors import sending_connection, twilio_credentials
from contacts.models import ConsentSource, Contact
from contacts.services.bulk import contacts_upsert_many
from contacts.services.consent import consent_opt_out
from contacts.services.phones import phone_time_zone
from contacts.services.rows import ContactRow
from contacts.services.tags import contacts_tag_bulk_add
from messaging.models import Message, Status
from messaging.services.sending import message_send
from templates_sms.models import SmsTemplate
from templates_sms.services import template_create
from tenants.models import Organization, User
from tenants.sources import Source

WELCOME_AUTOMATION = "Welcome new leads"
BIRTHDAY_AUTOMATION = "Birthday wishes"
LEAD_TAG = "new-lead"
TEMPLATES = {
    "Welcome": (
        'Hi {{ first_name|default:"there" }}, welcome to Northwind Coffee! Questions? Just '
        "reply and a barista will answer."
    ),
    "Follow-up": (
        'Hi {{ first_name|default:"there" }}, did you get a chance to visit? Show this text '
        'for 10% off your first order at our {{ custom.city|default:"nearest" }} shop.'
    ),
    # The emoji makes it UCS-2: 70 characters to a segment instead of 160.
    "Birthday treat": (
        'Happy birthday, {{ first_name|default:"friend" }}! 🎂 Your next coffee is on us this week.'
    ),
}
# (area code, city): each area code's numbers fall in its own time zone.
CITIES = (
    ("212", "New York"),
    ("312", "Chicago"),
    ("303", "Denver"),
    ("415", "San Francisco"),
)
PER_CITY = 50
FIRST_NAMES = [
    "Ava",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Isla",
    "Jamal",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zane",
    "Amir",
    "Bea",
    "Carlos",
    "Dana",
]
LAST_NAMES = [
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jones",
    "Kim",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
]
PLANS = ("free", "pro", "team")
# The history: leads tagged new-lead, and how Twilio's answer ends for some of them.
LEADS = 40
OUTCOMES = {  # the n-th lead → the sandbox outcome of messages to it
    3: "undelivered-30003",
    11: "undelivered-30003",
    17: "undelivered-30007",
    29: "undelivered-30007",
    33: "failed-30034",
}
OPTED_OUT_LEADS = (7, 23)  # opted out before they were tagged: their welcome is suppressed
REPLIES = {
    2: "Thanks! What time do you open on Sundays?",
    5: "Do you have oat milk?",
    13: "Great, see you soon 👍",
    31: "Is the Chicago shop open late?",
    37: "Thanks!",
}
STOP_LEAD = 19  # replies STOP to the welcome
ANSWERS = {  # the marketer answers two replies from the contact's conversation
    2: "We open at 8 on Sundays. See you there!",
    5: "We do: oat, almond and soy, at no extra cost.",
}
# The welcomes leave at the sender's rate (a local number: 1 segment a second).
SEND_WAIT_SECONDS = 120


@dataclass
class Filled:
    """What a run made; every count is 0 on a second run."""

    templates: int = 0
    contacts: int = 0
    automations: int = 0
    sent: bool = False  # the history was sent by this run
    history: str = ""  # what became of it, in words

    @property
    def changed(self) -> bool:
        return bool(self.templates or self.contacts or self.automations or self.sent)


@dataclass(frozen=True)
class DemoContact:
    phone: str
    first_name: str
    last_name: str
    custom_fields: dict[str, str]
    tags: tuple[str, ...]


def demo_contacts() -> list[DemoContact]:
    """About 200 contacts, the same every time (a fixed seed), in four US time zones."""
    draw = random.Random(2026)  # noqa: S311 - made-up people, not secrets
    people = []
    for area, city in CITIES:
        for n in range(PER_CITY):
            custom = {"city": city, "plan": draw.choice(PLANS)}
            if draw.random() < 0.35:
                born = datetime.date(1960, 1, 1) + datetime.timedelta(days=draw.randrange(16000))
                custom["birthday"] = born.isoformat()
            tags = [
                t for t, share in (("customer", 0.4), ("newsletter", 0.5)) if draw.random() < share
            ]
            if "customer" in tags and draw.random() < 0.25:
                tags.append("vip")
            people.append(
                DemoContact(
                    # 555-0150…0199: fictional numbers, clear of the sandbox's own 0100 and 0101.
                    phone=f"+1{area}5550{150 + n}",
                    first_name=draw.choice(FIRST_NAMES),
                    last_name=draw.choice(LAST_NAMES),
                    custom_fields=custom,
                    tags=tuple(tags),
                )
            )
    return people


def _templates(organization: Organization, user: User, filled: Filled) -> dict[str, SmsTemplate]:
    found = {t.name: t for t in SmsTemplate.objects.filter(organization=organization)}
    for name, body in TEMPLATES.items():
        if name not in found:
            found[name] = template_create(
                organization=organization, name=name, body=body, by=user
            ).template
            filled.templates += 1
    return found


def _contacts(organization: Organization, filled: Filled) -> None:
    """The contacts a CSV import of them would make (in one batch, as an import does)."""
    existing = set(
        Contact.objects.filter(organization=organization).values_list("phone", flat=True)
    )
    rows = [
        ContactRow(
            phone=person.phone,
            first_name=person.first_name,
            last_name=person.last_name,
            custom_fields=person.custom_fields,
            tags=list(person.tags),
            number_zone=phone_time_zone(person.phone),
        )
        for person in demo_contacts()
        if person.phone not in existing
    ]
    if rows:
        contacts_upsert_many(organization=organization, rows=rows, source=Source.IMPORT)
    filled.contacts = len(rows)


def _send(template: SmsTemplate, step_id: str, **extra: object) -> dict[str, object]:
    return {"id": step_id, "type": "send_sms", "template": str(template.public_id), **extra}


def _automations(
    organization: Organization, user: User, templates: dict[str, SmsTemplate], filled: Filled
) -> None:
    names = set(Automation.objects.filter(organization=organization).values_list("name", flat=True))
    if WELCOME_AUTOMATION not in names:
        welcome = automation_create(
            organization=organization,
            name=WELCOME_AUTOMATION,
            complete=True,
            by=user,
            definition={
                "trigger": {"type": "tag_added", "tag": LEAD_TAG},
                "entry_rules": {"lacks_tags": ["customer"]},
                "steps": [
                    # A welcome answers the lead's own sign-up, so it goes out at once; the
                    # follow-up a day later keeps to the contact's quiet hours.
                    _send(templates["Welcome"], "welcome", respect_quiet_hours=False),
                    {"id": "wait", "type": "wait", "duration": {"days": 1}},
                    {
                        "id": "replied",
                        "type": "branch",
                        "if": {"replied": True},
                        "then": "end",
                        "else": "continue",
                    },
                    _send(templates["Follow-up"], "follow-up"),
                ],
            },
        )
        automation_publish(automation=welcome, by=user)
        automation_activate(automation=welcome, by=user)
        filled.automations += 1
    if BIRTHDAY_AUTOMATION not in names:
        automation_create(
            organization=organization,
            name=BIRTHDAY_AUTOMATION,
            by=user,
            definition={
                "trigger": {
                    "type": "date_field",
                    "field": "custom.birthday",
                    "offset_days": 0,
                    "time": "10:00",
                    "recurrence": "yearly",
                },
                "steps": [_send(templates["Birthday treat"], "treat")],
            },
        )
        filled.automations += 1


class Sandbox:
    """The sandbox's own controls (not Twilio's API): a phone's outcome, a phone texting in."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()

    def post(self, path: str, data: dict[str, str]) -> dict[str, object]:
        answer = self.session.post(f"{self.url}{path}", json=data, timeout=30)
        answer.raise_for_status()
        result: dict[str, object] = answer.json()
        return result

    def set_outcome(self, phone: str, outcome: str) -> None:
        self.post("/sandbox/outcomes", {"phone": phone, "outcome": outcome})

    def text(self, phone: str, to: str, body: str) -> None:
        # opt_out: Twilio's Advanced Opt-Out adds OptOutType to a STOP, as a real account does.
        result = self.post(
            "/sandbox/inbound", {"from": phone, "to": to, "body": body, "opt_out": "1"}
        )
        if result.get("status") != 200:
            raise RuntimeError(
                f"The app answered the sandbox's inbound post with {result.get('status')}."
            )


def _leads(organization: Organization) -> list[Contact]:
    prospects = (
        Contact.objects.filter(
            organization=organization, phone__in=[p.phone for p in demo_contacts()]
        )
        .exclude(tags__name="customer")
        .order_by("phone")
    )
    return list(prospects[:LEADS])


def _wait_for_sends(organization: Organization, leads: int) -> int:
    """Waits until the workers have enrolled every lead and handed every welcome to Twilio;
    returns how many leads or welcomes are still waiting."""
    deadline = time.monotonic() + SEND_WAIT_SECONDS
    while True:
        runs = AutomationRun.objects.filter(organization=organization).count()
        waiting = (leads - runs) + Message.objects.filter(
            organization=organization, status__in=(Status.PENDING, Status.SUBMITTING)
        ).count()
        if not waiting or time.monotonic() > deadline:
            return waiting
        time.sleep(0.5)


def _history(organization: Organization, sandbox: Sandbox) -> str:
    credentials = twilio_credentials(sending_connection(organization))
    if credentials is None:
        return "not sent: the organization has no working Twilio connection"
    sender = credentials.phone_number
    leads = _leads(organization)
    for n, outcome in OUTCOMES.items():
        sandbox.set_outcome(leads[n].phone, outcome)
    for n in OPTED_OUT_LEADS:
        consent_opt_out(
            organization=organization, phone=leads[n].phone, source=ConsentSource.IMPORT
        )
    # The marketer tags them all at once from the contact list.
    with transaction.atomic():
        contacts_tag_bulk_add(
            organization=organization,
            contacts=Contact.objects.filter(pk__in=[lead.pk for lead in leads]),
            name=LEAD_TAG,
            source=Source.UI,
        )
    waiting = _wait_for_sends(organization, len(leads))
    if waiting:
        return f"{waiting} leads or welcomes still wait for a worker; replies not sent"
    for n, body in REPLIES.items():
        sandbox.text(leads[n].phone, sender, body)
    sandbox.text(leads[STOP_LEAD].phone, sender, "STOP")
    for n, body in ANSWERS.items():
        message_send(organization=organization, contact=leads[n], body=body, source=Source.UI)
    # A text to a contact who opted out: kept, suppressed, never sent.
    message_send(
        organization=organization,
        contact=leads[OPTED_OUT_LEADS[0]],
        body="Hello again!",
        source=Source.UI,
    )
    return (
        f"{len(leads)} leads tagged {LEAD_TAG} and welcomed through the sandbox, "
        f"{len(REPLIES)} replies, one STOP and {len(ANSWERS)} answers"
    )


def demo_fill(*, organization: Organization, user: User, sandbox_url: str = "") -> Filled:
    """Fills the demo organization (see the module's docstring). The history needs the
    sandbox's URL, and the app's web server and workers running to take its webhooks."""
    filled = Filled()
    with transaction.atomic():
        templates = _templates(organization, user, filled)
        _contacts(organization, filled)
        _automations(organization, user, templates, filled)
    if Message.objects.filter(organization=organization).exists():
        filled.history = "already sent"
    elif sandbox_url:
        filled.sent = True
        filled.history = _history(organization, Sandbox(sandbox_url))
    else:
        filled.history = "not sent (give --sandbox URL to send it through the sandbox)"
    return filled
