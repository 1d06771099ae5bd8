"""What each status means in words, which statuses may follow which, and what Twilio's error
codes mean with what to do about them. Used by the webhooks, the sweeper and the pages."""

from __future__ import annotations

from dataclasses import dataclass

from connections.twilio_errors import EXPLANATIONS
from messaging.models import RANK, Status


@dataclass(frozen=True)
class StatusWords:
    status: Status
    meaning: str
    tone: str  # ok, bad, info, neutral: the badge's colour

    @property
    def label(self) -> str:
        return str(self.status.label)


_MEANINGS = {
    Status.PENDING: ("Waiting here to be handed to Twilio (due later, or in line).", "neutral"),
    Status.SUBMITTING: ("Being handed to Twilio right now.", "neutral"),
    Status.ACCEPTED: ("A Messaging Service is choosing the best sender.", "neutral"),
    Status.SCHEDULED: ("Twilio holds it to send at its scheduled time.", "neutral"),
    Status.QUEUED: ("Twilio has the request and will send from your number.", "neutral"),
    Status.SENDING: ("On its way to the carrier.", "info"),
    Status.SENT: ("The carrier accepted it.", "info"),
    Status.DELIVERED: ("The carrier delivered it to the phone.", "ok"),
    Status.UNDELIVERED: ("The carrier could not deliver it.", "bad"),
    Status.FAILED: ("It could not be sent.", "bad"),
    Status.CANCELED: ("It was canceled before it was sent.", "bad"),
    Status.READ: ("The recipient opened it.", "ok"),
    Status.SUPPRESSED: ("Not sent, on purpose:", "bad"),
    Status.RECEIVED: ("A message from the contact.", "ok"),
}
STATUS_WORDS = {status: StatusWords(status, *words) for status, words in _MEANINGS.items()}


# Twilio's delivery errors, which arrive in status callbacks. The errors of a send request
# itself (2xxxx) are explained by connections.twilio_errors.EXPLANATIONS.
DELIVERY_ERRORS = {
    30001: "Twilio's queue for this sender overflowed.",
    30002: "The Twilio account was suspended.",
    30003: "The handset is unreachable (off, out of coverage, or full).",
    30004: "The recipient blocked the message, or the number cannot receive texts.",
    30005: "The number does not exist or is not in service.",
    30006: "The number is a landline or a carrier that cannot receive texts.",
    30007: "The carrier filtered the message (often spam filtering of unregistered traffic).",
    30008: "Delivery failed for a reason the carrier did not give.",
    30034: "US carriers blocked it: the sender is a local number not registered for A2P 10DLC.",
}

# What to do about an error, on the message page.
ADVICE = {
    20003: "Reconnect your Twilio account in the Connection Center.",
    21211: "Correct the contact's phone number.",
    21408: "Enable the country under Messaging → Geo permissions in the Twilio Console.",
    21606: "Choose a sender that can send SMS in the Connection Center.",
    21608: "Verify the number in the Twilio Console, or upgrade the Twilio account.",
    21610: "They must reply START before they can be texted again.",
    21612: "Send from another number, or check that the number can receive texts.",
    21614: "Use a mobile number for this contact.",
    30001: "Lower the send rate in the Connection Center, or send through a Messaging Service.",
    30002: "Contact Twilio support about the account.",
    30003: "Try again later; if it keeps happening, ask the contact to check their phone.",
    30004: "Do not retry; reach the contact another way.",
    30005: "Check the number with the contact, and correct or remove it.",
    30006: "Use a mobile number for this contact.",
    30007: "Register your sender (A2P 10DLC or toll-free verification) and avoid link "
    "shorteners and spam-like wording.",
    30008: "Try again; if it keeps failing, give Twilio support the message SID.",
    30034: "Register the number for A2P 10DLC in the Twilio Console, or send through a "
    "registered Messaging Service.",
}


def explain(code: int | None) -> str:
    if code is None:
        return ""
    return DELIVERY_ERRORS.get(code) or EXPLANATIONS.get(code) or f"Twilio error {code}."


def advice(code: int | None) -> str:
    return ADVICE.get(code, "") if code is not None else ""


def allowed_before(status: str) -> tuple[str, ...]:
    """The statuses a message may move from, to ``status``: forward only, and the first final
    status stays (only ``delivered`` may still become ``read``). Empty for a status we do not
    track."""
    if status not in RANK:
        return ()
    rank = RANK[Status(status)]
    earlier = [s.value for s, r in RANK.items() if r < rank]
    if status == Status.READ:
        final = (Status.UNDELIVERED, Status.FAILED, Status.CANCELED)
        earlier = [s for s in earlier if s not in final]
    return tuple(earlier)
