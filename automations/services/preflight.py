"""The preflight: what a launch to an audience would do, before anyone is texted.

Counted set-wise in SQL, never contact by contact: the audience and how many each rule would
exclude in one statement (each contact counted once, by the first rule that excludes it, in
the order the engine and the send rules apply them: opted out, entry rules, re-entry, no
valid number, frequency cap); the quiet-hour deferrals per time zone; the first send step's
segments per distinct values of the merge fields its templates use (so a text is rendered
once per distinct first name, say, not once per contact, yet every contact's own text is
counted), per country; and the cost of those segments from Twilio's prices
(``connections.services.pricing``).

A launch records the figures the confirmation showed (``Preflight.as_dict``) and refuses to
start when the audience has changed by more than 1% since (``preflight_stale``).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import phonenumbers
from django.db.models import (
    Case,
    Count,
    Exists,
    Expression,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Substr
from django.utils import timezone
from phonenumbers import NumberParseException

from automations.models import Automation, AutomationRun, RunState
from automations.services.audience import rules_filter
from connections.services.pricing import ISO_COUNTRY, CostEstimate, cost_estimate, country_of
from contacts.models import ConsentState, Contact
from messaging.models import Message, Status
from messaging.services import rules
from messaging.services.content import Texts, content_of
from templates_sms.models import SmsTemplate
from tenants.errors import ConflictError
from tenants.models import Organization

# The exclusions, in the order they are applied: a contact is counted under the first only.
EXCLUSIONS = ("opted_out", "entry_rules", "reentry", "no_valid_number", "frequency_cap")
EXCLUSION_LABELS = {
    "opted_out": "Opted out",
    "entry_rules": "Do not match the entry rules",
    "reentry": "Already enrolled (re-entry policy)",
    "no_valid_number": "No valid number (Twilio refused it before)",
    "frequency_cap": "Reached the frequency cap",
}
# The audience may change by this share between the preflight and the launch.
STALE_SHARE = Decimal("0.01")
# Numbers are told apart by country from their first digits, and each group is priced as
# the country of one of its numbers: in the NANP the area code decides ("+1" and three
# digits), elsewhere at most four digits after the country code (Guernsey's mobiles are
# +44 7781 and +44 7911, say, among Great Britain's +44 7). A country per number would cost
# 40 microseconds a number: 4 s for 100,000.
NANP_PREFIX, OTHER_PREFIX = 5, 7
NOBODY = Q(pk__in=[])
# The merge fields the contact row holds; others are custom fields, or the organization's name.
CONTACT_FIELDS = ("first_name", "last_name", "phone", "email")


@dataclass(frozen=True)
class Preflight:
    """The figures the confirmation shows and the launch records."""

    audience: int  # contacts the audience holds
    excluded: dict[str, int]  # by EXCLUSIONS key, disjoint
    eligible: int  # audience minus the excluded: who would enter
    send_step: str  # the first send step's id ("" when the flow sends nothing)
    send_waits: bool  # a wait comes before the first send: deferrals cannot be told now
    deferred: int  # of the eligible, how many quiet hours would hold
    deferred_until: datetime.datetime | None  # the latest a held message would go
    segments: int  # the first send step's segments over the eligible, each text its own
    cost: CostEstimate
    at: datetime.datetime = field(default_factory=timezone.now)

    def as_dict(self) -> dict[str, Any]:
        """JSON, as the launch records it and the API answers it (amounts as strings)."""
        cost = self.cost
        return {
            "audience": self.audience,
            "excluded": dict(self.excluded),
            "eligible": self.eligible,
            "send_step": self.send_step,
            "send_waits": self.send_waits,
            "deferred": self.deferred,
            "deferred_until": self.deferred_until.isoformat() if self.deferred_until else None,
            "segments": self.segments,
            "cost": {
                "available": cost.available,
                "unavailable": cost.unavailable,
                "currency": cost.currency,
                "total": str(cost.total.quantize(Decimal("0.0001"))),
                "lines": [
                    {
                        "country": line.country,
                        "segments": line.segments,
                        "unit_price": str(line.unit_price),
                        "subtotal": str(line.subtotal.quantize(Decimal("0.0001"))),
                    }
                    for line in cost.lines
                ],
                "unpriced": [{"country": c.country, "segments": c.segments} for c in cost.unpriced],
            },
            "at": self.at.isoformat(),
        }


def preflight_stale(recorded: Mapping[str, Any], audience_now: int) -> str:
    """Why a launch must not start on these preflight figures ("" when it may): the audience
    changed by more than 1% since they were counted."""
    then = recorded.get("audience")
    if isinstance(then, bool) or not isinstance(then, int) or then < 0:
        return "Run the preflight first: its figures are missing."
    if abs(audience_now - then) > then * STALE_SHARE:
        return (
            f"The audience has changed since the preflight ({then:,} contacts then, "
            f"{audience_now:,} now): run the preflight again and check its figures."
        )
    return ""


def _first_send(definition: Mapping[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The first send step, and whether a wait may come before it."""
    waits = False
    for step in definition["steps"]:
        if step["type"] == "send_sms":
            return step, waits
        waits = True  # a wait, or a branch that may lead to one
    return None, waits


def _reentry_q(automation: Automation, policy: Mapping[str, Any], now: datetime.datetime) -> Q:
    """The contacts the re-entry policy refuses, as the enrolment decides it."""
    if policy["policy"] == "every_time":
        return NOBODY
    earlier = AutomationRun.objects.filter(automation=automation).exclude(state=RunState.SKIPPED)
    if policy["policy"] == "after_days":
        earlier = earlier.filter(created_at__gt=now - datetime.timedelta(days=policy["days"]))
    return Q(pk__in=earlier.values("contact_id"))


def _capped_q(organization: Organization, now: datetime.datetime) -> Q:
    """Numbers whose frequency cap is used up (``rules.recent_counts``, as one subquery)."""
    cap = organization.frequency_cap
    if not cap:
        return NOBODY
    handed = (
        Message.objects.filter(
            organization=organization, submitted_at__gte=now - rules.FREQUENCY_WINDOW
        )
        .filter(Q(sid__isnull=False) | Q(status=Status.SUBMITTING))
        .values("to")
        .annotate(n=Count("pk"))
        .filter(n__gte=cap)
        .values("to")
    )
    return Q(phone__in=handed)


def _exclusions(
    organization: Organization,
    automation: Automation,
    definition: Mapping[str, Any],
    now: datetime.datetime,
    reentry: Q | None,
) -> list[tuple[str, Q]]:
    opted_out = Q(
        Exists(
            ConsentState.objects.filter(
                organization=organization, phone=OuterRef("phone"), opted_out=True
            )
        )
    )
    entry = rules_filter(organization, definition["entry_rules"])  # Q(): no rules, everyone
    invalid = Q(
        phone__in=Message.objects.filter(
            organization=organization,
            status=Status.FAILED,
            error_code__in=rules.INVALID_NUMBER_CODES,
        ).values("to")
    )
    return [
        ("opted_out", opted_out),
        ("entry_rules", ~entry if entry else NOBODY),
        (
            "reentry",
            reentry if reentry is not None else _reentry_q(automation, definition["reentry"], now),
        ),
        ("no_valid_number", invalid),
        ("frequency_cap", _capped_q(organization, now)),
    ]


def _counted(
    contacts: QuerySet[Contact], exclusions: list[tuple[str, Q]]
) -> tuple[int, dict[str, int], Q]:
    """The audience, each exclusion's count (disjoint) and the filter of the eligible: one
    statement."""
    aggregates: dict[str, Any] = {"audience": Count("pk")}
    before = Q()  # not excluded by an earlier rule
    for key, excluded in exclusions:
        aggregates[key] = Count("pk", filter=before & excluded)
        before &= ~excluded
    figures = contacts.aggregate(**aggregates)
    return figures["audience"], {key: figures[key] for key, _ in exclusions}, before


def _deferrals(
    organization: Organization, eligible: QuerySet[Contact], now: datetime.datetime
) -> tuple[int, datetime.datetime | None]:
    """How many the send window would hold now, and until when: once per time zone."""
    deferred, until = 0, None
    for row in eligible.values("time_zone").annotate(n=Count("pk")).order_by():
        allowed = rules.next_allowed_instant(
            now,
            time_zone=row["time_zone"] or organization.time_zone,
            start=organization.send_window_start,
            end=organization.send_window_end,
        )
        if allowed > now:
            deferred += row["n"]
            until = allowed if until is None or allowed > until else until
    return deferred, until


def _country(phone: str) -> str:
    """The country a number is priced in: its own, or, for a number the numbering plan does
    not know (a range not yet in the metadata), the main country of its country code: Twilio
    still texts it, and a cost left out would understate the estimate."""
    if found := country_of(phone):
        return found
    try:
        code = phonenumbers.parse(phone).country_code
    except NumberParseException:
        return ""
    region = phonenumbers.region_code_for_country_code(code or 0)
    return region if ISO_COUNTRY.match(region) else ""


def _merge_expression(name: str) -> F | Expression:
    if name in CONTACT_FIELDS:
        return F(name)
    if name.startswith("custom."):
        return KeyTextTransform(name.removeprefix("custom."), "custom_fields")
    return Value("")  # the organization's name, or a name the renderer knows nothing of


def _segments_by_country(
    organization: Organization,
    eligible: QuerySet[Contact],
    variants: list[tuple[SmsTemplate, Decimal]],
) -> Counter[str]:
    """Each variant's segments, per country, for the eligible contacts (weighted by the
    variants' shares), rendering once per distinct values of the merge fields used."""
    texts = [
        (
            Texts(
                content_of(organization=organization, template=t, body=None, media_url=""),
                organization,
            ),
            share,
        )
        for t, share in variants
    ]
    names = sorted({name for text, _ in texts for name in text.names if text.personal})
    columns = {f"m{n}": _merge_expression(name) for n, name in enumerate(names)}
    rows = (
        eligible.annotate(
            prefix=Case(
                When(phone__startswith="+1", then=Substr("phone", 1, NANP_PREFIX)),
                default=Substr("phone", 1, OTHER_PREFIX),
            ),
            **columns,
        )
        .values("prefix", *columns)
        .annotate(n=Count("pk"), sample=Min("phone"))
        .order_by()
    )
    countries: dict[str, str] = {}
    totals: Counter[str] = Counter()
    exact: dict[str, Decimal] = {}
    for row in rows:
        country = countries.get(row["prefix"])
        if country is None:
            country = countries[row["prefix"]] = _country(row["sample"])
        values = {name: row[f"m{n}"] for n, name in enumerate(names)}
        contact = Contact(
            organization=organization,
            **{k: values.get(k) or "" for k in CONTACT_FIELDS},
            custom_fields={
                name.removeprefix("custom."): value
                for name, value in values.items()
                if name.startswith("custom.") and value is not None
            },
        )
        for text, share in texts:
            _, segments, _ = text.of(contact)
            exact[country] = exact.get(country, Decimal(0)) + share * segments * row["n"]
    for country, weighted in exact.items():
        totals[country] = int(weighted.to_integral_value())
    return totals


def _variants(
    step: Mapping[str, Any], organization: Organization
) -> list[tuple[SmsTemplate, Decimal]]:
    """The step's templates with their shares of the contacts (1 for a single template)."""
    wanted = (
        [(v["template"], Decimal(v["weight"])) for v in step["variants"]]
        if step.get("variants")
        else [(step["template"], Decimal(1))]
    )
    total = sum(weight for _, weight in wanted)
    found = {
        str(t.public_id): t
        for t in SmsTemplate.objects.filter(
            organization=organization, public_id__in=[template for template, _ in wanted]
        )
    }
    return [(found[key], weight / total) for key, weight in wanted if key in found]


def preflight_run(
    *,
    automation: Automation,
    contacts: QuerySet[Contact],
    reentry_ids: Collection[int] | None = None,
    now: datetime.datetime | None = None,
) -> Preflight:
    """The figures of a launch of the automation's live version to ``contacts`` (the
    audience's contacts, see ``launches.launch_contacts``). ``reentry_ids``: the contacts the
    re-entry rule refuses, when the launch decides it otherwise (a date backfill's dates)."""
    now = now or timezone.now()
    version = automation.live_version
    if version is None:
        raise ConflictError(
            "Activate the automation first: a preflight counts what its live version would do.",
            code="automation_not_active",
        )
    organization = automation.organization
    definition = version.definition
    reentry = None if reentry_ids is None else Q(pk__in=list(reentry_ids))
    exclusions = _exclusions(organization, automation, definition, now, reentry)
    audience, excluded, eligible_q = _counted(contacts, exclusions)
    eligible_count = audience - sum(excluded.values())
    eligible = contacts.filter(eligible_q)
    step, waits = _first_send(definition)
    deferred, until, segments = 0, None, Counter[str]()
    if step is not None and eligible_count:
        if step.get("respect_quiet_hours", True) and not waits:
            deferred, until = _deferrals(organization, eligible, now)
        segments = _segments_by_country(organization, eligible, _variants(step, organization))
    return Preflight(
        audience=audience,
        excluded=excluded,
        eligible=eligible_count,
        send_step=step["id"] if step else "",
        send_waits=waits,
        deferred=deferred,
        deferred_until=until,
        segments=sum(segments.values()),
        cost=cost_estimate(organization=organization, segments_by_country=segments),
        at=now,
    )
