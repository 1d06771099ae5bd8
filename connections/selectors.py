from __future__ import annotations

from dataclasses import dataclass

from connections.models import (
    ComplianceState,
    Connection,
    ConnectionKind,
    ConnectionState,
    SenderType,
    TwilioCredentials,
)
from tenants.models import Organization


@dataclass(frozen=True)
class ConnectionWarning:
    code: str
    message: str


TEN_DLC_HELP = (
    "US carriers block or filter texts from local numbers that are not registered for A2P "
    "10DLC. In the Twilio Console, open Messaging → Regulatory Compliance → A2P 10DLC, register "
    "your brand and a campaign, and add this number to the campaign's Messaging Service. "
    "Then choose Re-verify here."
)
TOLL_FREE_HELP = (
    "US carriers block texts from toll-free numbers that are not verified. Submit a toll-free "
    "verification in the Twilio Console (Phone Numbers → Regulatory Compliance → Toll-Free "
    "Verifications), then choose Re-verify here."
)


def twilio_connection(organization: Organization) -> Connection | None:
    return (
        Connection.objects.filter(organization=organization, kind=ConnectionKind.TWILIO)
        .select_related("twilio")
        .first()
    )


def twilio_credentials(connection: Connection | None) -> TwilioCredentials | None:
    """The connection's Twilio credentials if it can send: not disconnected, keys stored.
    (Select ``twilio`` with the connection to save the query.)"""
    if connection is None or not connection.can_send:
        return None
    try:
        return connection.twilio
    except TwilioCredentials.DoesNotExist:
        return None


def sending_connection(organization: Organization) -> Connection | None:
    """The organization's Twilio connection if it can send (connected, or failing: the cause
    may be passing), with its credentials loaded."""
    connection = twilio_connection(organization)
    return connection if twilio_credentials(connection) is not None else None


def connection_warnings(connection: Connection) -> list[ConnectionWarning]:
    """What stands between this connection and delivered texts, most urgent first."""
    warnings: list[ConnectionWarning] = []
    if connection.state == ConnectionState.FAILING:
        warnings.append(
            ConnectionWarning(
                "connection_failing",
                f"Twilio refused the last request: {connection.last_error} Check the Auth Token "
                "(it changes if someone rotates it in the Console) and reconnect.",
            )
        )
    credentials = twilio_credentials(connection)
    if credentials is None:
        return warnings
    if credentials.account_type.lower() == "trial":
        warnings.append(
            ConnectionWarning(
                "trial_account",
                "This is a Twilio trial account: it can only text numbers verified in the Twilio "
                "Console, and every message starts with “Sent from your Twilio trial account”. "
                "Upgrade the account in the Console to text anyone.",
            )
        )
    state = credentials.compliance_state
    is_toll_free = credentials.sender_type == SenderType.TOLL_FREE
    if state == ComplianceState.UNREGISTERED:
        if is_toll_free:
            warnings.append(
                ConnectionWarning("toll_free_unverified", f"Not verified. {TOLL_FREE_HELP}")
            )
        else:
            where = f" ({credentials.compliance_detail})" if credentials.compliance_detail else ""
            warnings.append(
                ConnectionWarning(
                    "a2p_10dlc_unregistered", f"Not registered for A2P 10DLC{where}. {TEN_DLC_HELP}"
                )
            )
    elif state == ComplianceState.PENDING:
        warnings.append(
            ConnectionWarning(
                "toll_free_pending",
                "Toll-free verification is under review; until it is approved carriers may "
                "block or filter these texts.",
            )
        )
    elif state == ComplianceState.REJECTED:
        warnings.append(
            ConnectionWarning(
                "toll_free_rejected", f"Toll-free verification was rejected. {TOLL_FREE_HELP}"
            )
        )
    elif state == ComplianceState.UNKNOWN:
        warnings.append(
            ConnectionWarning(
                "compliance_unknown",
                "We could not check this sender's carrier registration "
                f"({credentials.compliance_detail or 'no answer'}). Choose Re-verify to try again.",
            )
        )
    return warnings
