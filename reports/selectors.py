"""What the dashboard shows, read set-wise: a fixed number of queries whatever the volume.

Message figures come from ``MessageRollup`` (messages by the UTC hour they were created and
what they are now, kept by triggers: ``messaging/rollup_sql.py``), read once for the period
and summed here into every panel. A message counts in the period it was created in, with the
status it has now. Hours are bucketed into the organization's local hours and days; in a zone
whose offset is not whole hours (India, Nepal) a day's first or last half hour falls into the
day before.

- **sent**: handed to Twilio (it has a SID); **delivered**: Twilio said delivered (or read);
  **delivery rate**: delivered ÷ sent that reached a final outcome (delivered, undelivered,
  failed), so that messages still on their way do not lower it;
- **failures**: undelivered and failed by error code, with what the code means and what to do;
- **replies**: inbound messages; **opt-outs / opt-ins**: the consent ledger;
- **funnels**: per automation, entered (enrolments, ``AutomationRun``) → sent → delivered,
  suppressed by reason, and opt-outs after its texts; per template, sent → delivered;
- an opt-out is attributed to the automation and template of the last text the number was sent
  before it opted out.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from automations.models import Automation, AutomationRun, RunState
from contacts.models import ConsentEvent, ConsentKind
from messaging.models import Direction, Message, MessageRollup, Status, SuppressedReason
from messaging.statuses import advice, explain
from templates_sms.models import SmsTemplate
from tenants.access import organization_zone
from tenants.models import Organization

PERIODS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days"}
DEFAULT_PERIOD = "7d"
DELIVERED = {Status.DELIVERED.value, Status.READ.value}
FAILED = {Status.UNDELIVERED.value, Status.FAILED.value}
# An opt-out rate above this, over at least OPT_OUT_MIN_SENT texts, is flagged: carriers start
# filtering senders whose campaigns draw opt-outs at a few percent.
OPT_OUT_FLAG = 0.02
OPT_OUT_MIN_SENT = 50


@dataclass(frozen=True)
class Bucket:
    label: str
    start: datetime.datetime  # UTC
    end: datetime.datetime


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    zone: ZoneInfo
    start: datetime.datetime  # UTC, the first bucket's start
    end: datetime.datetime  # now
    buckets: list[Bucket]

    @property
    def daily(self) -> bool:
        return self.key != "24h"

    def bucket_of(self, at: datetime.datetime) -> int | None:
        """The bucket holding the instant ``at``."""
        for n, bucket in enumerate(self.buckets):
            if bucket.start <= at < bucket.end:
                return n
        return None

    def index(self) -> dict[datetime.date | datetime.datetime, int]:
        """Each bucket's number by its key in the rollup rows read for this period: the
        local date of a day, the UTC start of an hour."""
        return {
            (b.start.astimezone(self.zone).date() if self.daily else b.start): n
            for n, b in enumerate(self.buckets)
        }


def period_of(key: str, organization: Organization, now: datetime.datetime | None = None) -> Period:
    """The period ``key`` (24h, 7d, 30d; anything else: 7d) ending now: 24 local hours, or the
    local days from 6 (29) days ago to today."""
    key = key if key in PERIODS else DEFAULT_PERIOD
    now = now or timezone.now()
    zone = organization_zone(organization)
    buckets: list[Bucket] = []
    if key == "24h":
        first = now.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
        first -= datetime.timedelta(hours=23)
        for n in range(24):
            start = first + datetime.timedelta(hours=n)
            label = start.astimezone(zone).strftime("%H:00")
            buckets.append(Bucket(label, start, start + datetime.timedelta(hours=1)))
    else:
        days = 7 if key == "7d" else 30
        today = now.astimezone(zone).date()
        for n in range(days - 1, -1, -1):
            day = today - datetime.timedelta(days=n)
            start = datetime.datetime.combine(day, datetime.time(), zone)
            end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), zone)
            label = f"{day:%b} {day.day}"
            buckets.append(
                Bucket(label, start.astimezone(datetime.UTC), end.astimezone(datetime.UTC))
            )
    return Period(key, PERIODS[key], zone, buckets[0].start, now, buckets)


# --- The rollup, read once ---------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    bucket: datetime.date | datetime.datetime  # a local date, or a UTC hour
    direction: str
    automation: str
    template_id: int
    status: str
    error_code: int
    suppressed_reason: str
    handed: bool
    messages: int
    segments: int


FIELDS = ("direction", "automation", "template_id", "status", "error_code", "suppressed_reason")


def rollup_rows(
    organization: Organization,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    days_in: ZoneInfo | None = None,
) -> list[Row]:
    """The rollup's rows for the hours from ``start``'s hour to ``end``, summed over shards and
    by hour, or with ``days_in`` by local day in that zone (in SQL: a month is a few hundred
    rows, not the tens of thousands of its hours)."""
    first = start.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    bucket = TruncDate("hour", tzinfo=days_in) if days_in is not None else F("hour")
    rows = (
        MessageRollup.objects.filter(organization=organization, hour__gte=first, hour__lte=end)
        .annotate(bucket=bucket)
        .values_list("bucket", *FIELDS, "handed")
        .annotate(total=Sum("messages"), parts=Sum("segments"))
        .filter(total__gt=0)
        .order_by()
    )
    return [
        Row(
            bucket=row[0],
            direction=row[1],
            automation=row[2],
            template_id=row[3],
            status=row[4],
            error_code=row[5],
            suppressed_reason=row[6],
            handed=row[7],
            messages=int(row[8]),
            segments=int(row[9] or 0),
        )
        for row in rows
    ]


# --- Panels -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Outbound messages of one slice: created, sent (handed), delivered, failed, segments,
    suppressed by reason."""

    created: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    segments: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)

    def add(self, row: Row) -> None:
        self.created += row.messages
        if row.handed:
            self.sent += row.messages
            self.segments += row.segments
        if row.status in DELIVERED:
            self.delivered += row.messages
        elif row.status in FAILED:
            self.failed += row.messages
        elif row.status == Status.SUPPRESSED:
            self.suppressed[row.suppressed_reason] += row.messages

    @property
    def delivery_rate(self) -> float | None:
        finished = self.delivered + self.failed
        return self.delivered / finished if finished else None

    @property
    def suppressed_total(self) -> int:
        return sum(self.suppressed.values())

    def suppressed_reasons(self) -> list[tuple[str, int]]:
        labels = dict(SuppressedReason.choices)
        return [(labels.get(reason, reason), n) for reason, n in self.suppressed.most_common()]


@dataclass(frozen=True)
class ErrorGroup:
    code: int | None
    status: str
    count: int
    meaning: str
    what_to_do: str


@dataclass
class Timeline:
    sent: list[int]
    delivered: list[int]
    failed: list[int]
    replies: list[int]
    opt_outs: list[int]
    opt_ins: list[int]


@dataclass
class Funnel:
    name: str
    url_name: str
    key: str  # the automation's or template's public id
    entered: int | None  # enrolments (automations only)
    tally: Tally
    opt_outs: int = 0

    @property
    def opt_out_rate(self) -> float | None:
        return self.opt_outs / self.tally.sent if self.tally.sent else None

    @property
    def flagged(self) -> bool:
        rate = self.opt_out_rate
        return rate is not None and self.tally.sent >= OPT_OUT_MIN_SENT and rate > OPT_OUT_FLAG


@dataclass
class Overview:
    period: Period
    totals: Tally
    replies: int
    opt_outs: int
    opt_ins: int
    errors: list[ErrorGroup]
    timeline: Timeline
    automations: list[Funnel]
    templates: list[Funnel]

    @property
    def empty(self) -> bool:
        return not (self.totals.created or self.replies or self.opt_outs or self.opt_ins)


def _consent(
    organization: Organization, period: Period
) -> list[tuple[datetime.datetime, str, int]]:
    rows = (
        ConsentEvent.objects.filter(
            organization=organization,
            created_at__gte=period.start,
            kind__in=(ConsentKind.OPT_OUT, ConsentKind.OPT_IN),
        )
        .annotate(hour=TruncHour("created_at", tzinfo=datetime.UTC))
        .values("hour", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [(r["hour"], r["kind"], r["n"]) for r in rows]


def _attributed_opt_outs(
    organization: Organization, period: Period
) -> list[tuple[str, int | None]]:
    """Each opt-out of the period, with the automation (public id, or "") and template of the
    last text the number was sent before it."""
    last = Message.objects.filter(
        organization=organization,
        direction=Direction.OUTBOUND,
        to=OuterRef("phone"),
        created_at__lt=OuterRef("created_at"),
        sid__isnull=False,
    ).order_by("-created_at")
    rows = (
        ConsentEvent.objects.filter(
            organization=organization, created_at__gte=period.start, kind=ConsentKind.OPT_OUT
        )
        .annotate(
            last_source=Subquery(last.values("source")[:1]),
            last_ref=Subquery(last.values("source_ref")[:1]),
            last_template=Subquery(last.values("template_id")[:1]),
        )
        .values_list("last_source", "last_ref", "last_template")
    )
    return [(ref if source == "automation" else "", template) for source, ref, template in rows]


def overview(organization: Organization, period: Period) -> Overview:
    """Every message panel of the dashboard for the period: six queries."""
    rows = rollup_rows(
        organization, period.start, period.end, days_in=period.zone if period.daily else None
    )
    index = period.index()
    n = len(period.buckets)
    timeline = Timeline(*([0] * n for _ in range(6)))
    totals = Tally()
    replies = 0
    errors: Counter[tuple[int, str]] = Counter()
    by_automation: dict[str, Tally] = defaultdict(Tally)
    by_template: dict[int, Tally] = defaultdict(Tally)
    for row in rows:
        at = index.get(row.bucket)
        if at is None:
            continue
        if row.direction == Direction.INBOUND:
            replies += row.messages
            timeline.replies[at] += row.messages
            continue
        totals.add(row)
        if row.handed:
            timeline.sent[at] += row.messages
        if row.status in DELIVERED:
            timeline.delivered[at] += row.messages
        elif row.status in FAILED:
            timeline.failed[at] += row.messages
            errors[(row.error_code, row.status)] += row.messages
        if row.automation:
            by_automation[row.automation].add(row)
        if row.template_id:
            by_template[row.template_id].add(row)
    opt_outs = opt_ins = 0
    for hour, kind, count in _consent(organization, period):
        at = period.bucket_of(hour)
        if at is None:
            continue
        if kind == ConsentKind.OPT_OUT:
            opt_outs += count
            timeline.opt_outs[at] += count
        else:
            opt_ins += count
            timeline.opt_ins[at] += count
    automation_outs: Counter[str] = Counter()
    template_outs: Counter[int] = Counter()
    if opt_outs:
        for automation, template in _attributed_opt_outs(organization, period):
            if automation:
                automation_outs[automation] += 1
            if template:
                template_outs[template] += 1
    return Overview(
        period=period,
        totals=totals,
        replies=replies,
        opt_outs=opt_outs,
        opt_ins=opt_ins,
        errors=_error_groups(errors),
        timeline=timeline,
        automations=_automation_funnels(organization, period, by_automation, automation_outs),
        templates=_template_funnels(organization, by_template, template_outs),
    )


def _error_groups(errors: Counter[tuple[int, str]]) -> list[ErrorGroup]:
    groups = []
    for (code, status), count in errors.most_common():
        real = code or None
        meaning = explain(real) or (
            "Twilio gave no error code." if status == Status.UNDELIVERED else "No error code."
        )
        groups.append(ErrorGroup(real, status, count, meaning, advice(real)))
    return groups


def _automation_funnels(
    organization: Organization,
    period: Period,
    tallies: dict[str, Tally],
    opt_outs: Counter[str],
) -> list[Funnel]:
    entered = {
        str(row["automation__public_id"]): row["n"]
        for row in AutomationRun.objects.filter(
            organization=organization, created_at__gte=period.start
        )
        .exclude(state=RunState.SKIPPED)
        .values("automation__public_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    keys = set(tallies) | set(entered)
    if not keys:
        return []
    names = {
        str(public_id): name
        for public_id, name in Automation.objects.filter(
            organization=organization, public_id__in=list(keys)
        ).values_list("public_id", "name")
    }
    funnels = [
        Funnel(
            names.get(key, "A deleted automation"),
            "automation_detail",
            key if key in names else "",
            entered.get(key, 0),
            tallies.get(key, Tally()),
            opt_outs.get(key, 0),
        )
        for key in keys
    ]
    return sorted(funnels, key=lambda f: (-(f.entered or 0), -f.tally.created, f.name))


def _template_funnels(
    organization: Organization, tallies: dict[int, Tally], opt_outs: Counter[int]
) -> list[Funnel]:
    if not tallies:
        return []
    found = {
        pk: (name, str(public_id))
        for pk, name, public_id in SmsTemplate.objects.filter(
            organization=organization, pk__in=list(tallies)
        ).values_list("pk", "name", "public_id")
    }
    funnels = [
        Funnel(
            found[pk][0] if pk in found else "A deleted template",
            "template_edit",
            found[pk][1] if pk in found else "",
            None,
            tally,
            opt_outs.get(pk, 0),
        )
        for pk, tally in tallies.items()
    ]
    return sorted(funnels, key=lambda f: (-f.tally.created, f.name))
