"""The dashboard's connection health: the Twilio connection's state and warnings, its last
webhook, and the last hour's failure rate against the day before it, read from the rollup
(``reports.selectors.rollup_rows``): two queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from connections.models import Connection
from connections.selectors import (
    ConnectionWarning,
    connection_warnings,
    twilio_connection,
    twilio_credentials,
)
from messaging.models import Direction
from reports.selectors import Tally, rollup_rows
from tenants.models import Organization

# The last hour's failure rate is "rising sharply" when it is at least twice the day's before
# it and 5 points above it, over at least 20 finished messages.
RISE_FACTOR = 2.0
RISE_POINTS = 0.05
RISE_MIN = 20


@dataclass(frozen=True)
class Health:
    connection: Connection | None
    warnings: list[ConnectionWarning]
    failure_rate_hour: float | None
    failure_rate_day: float | None
    finished_hour: int
    sent_hour_segments: int
    send_rate: float | None  # segments per second, the sender's limit

    @property
    def rising(self) -> bool:
        hour, day = self.failure_rate_hour, self.failure_rate_day or 0.0
        return (
            hour is not None
            and self.finished_hour >= RISE_MIN
            and hour >= RISE_FACTOR * day
            and hour - day >= RISE_POINTS
        )

    @property
    def throughput(self) -> float:
        """Segments per second handed to Twilio over the last hour, on average."""
        return self.sent_hour_segments / 3600

    @property
    def webhook_ok(self) -> bool | None:
        return None if self.connection is None else self.connection.last_webhook_signature_valid


def connection_health(organization: Organization, now: datetime.datetime | None = None) -> Health:
    """The Twilio connection's state, warnings, last webhook, the last hour's failure rate
    against the 24 hours before it, and what it sent: two queries."""
    now = now or timezone.now()
    connection = twilio_connection(organization)
    warnings = connection_warnings(connection) if connection is not None else []
    this_hour = now.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    hour_start = this_hour - datetime.timedelta(hours=1)
    recent, before = Tally(), Tally()
    for row in rollup_rows(organization, hour_start - datetime.timedelta(hours=24), now):
        if row.direction == Direction.OUTBOUND:
            (recent if row.bucket >= hour_start else before).add(row)
    credentials = twilio_credentials(connection)
    return Health(
        connection=connection,
        warnings=warnings,
        failure_rate_hour=_failure_rate(recent),
        failure_rate_day=_failure_rate(before),
        finished_hour=recent.delivered + recent.failed,
        sent_hour_segments=recent.segments,
        send_rate=float(credentials.send_rate) if credentials is not None else None,
    )


def _failure_rate(tally: Tally) -> float | None:
    finished = tally.delivered + tally.failed
    return tally.failed / finished if finished else None
