"""The Connection Center's catalog: the kinds of integration an organization can connect.

Each kind brings its own credentials model, connect form, checks and seam; the page lists
what is here. Twilio SMS is the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from connections.models import ConnectionKind


@dataclass(frozen=True)
class Integration:
    kind: str
    name: str
    summary: str
    detail_url_name: str
    connect_url_name: str


CATALOG: tuple[Integration, ...] = (
    Integration(
        kind=ConnectionKind.TWILIO,
        name="Twilio SMS",
        summary=(
            "Send SMS and MMS from your own Twilio number or Messaging Service, track every "
            "status, and handle replies such as STOP."
        ),
        detail_url_name="twilio_connection",
        connect_url_name="twilio_connect",
    ),
)
