"""What a message says and when it may go: the content checked once per send, each contact's
text rendered (once per distinct merge values for a fan-out), and the due time under the
send window; each message's row, not saved; and ``message_send_preview``, what
``message_send`` would do now. Used by ``services.sending``; nothing here writes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from connections.selectors import sending_connection
from contacts.models import Contact
from messaging.models import Message, Status
from messaging.services import rules
from templates_sms.media import media_url_check
from templates_sms.models import SmsTemplate
from templates_sms.preview import contact_values, message_text
from templates_sms.renderer import FIELD, TAG
from templates_sms.segments import count_segments
from tenants.errors import ApplicationError
from tenants.models import Organization
from tenants.sources import Source


@dataclass(frozen=True)
class Content:
    template: SmsTemplate | None
    body: str
    media_url: str


def content_of(
    *, organization: Organization, template: SmsTemplate | None, body: str | None, media_url: str
) -> Content:
    if template is not None and template.organization_id != organization.pk:
        raise ApplicationError.for_field("template", "No such template.")
    if template is None and not (body or "").strip():
        raise ApplicationError.for_field("body", "Write a message or choose a template.")
    media = (media_url or (template.media_url if template else "")).strip()
    if media:
        # Twilio fetches the media: never from inside a network (checked again here, on every
        # path, because a host's address can change after a template was saved).
        media_url_check(media)
    return Content(template, (body or "").strip(), media)


def content_text(content: Content, organization: Organization, contact: Contact | None) -> str:
    if content.template is None:
        return content.body
    return message_text(
        body=content.template.body,
        append_footer=content.template.append_opt_out_footer,
        organization=organization,
        values=contact_values(contact, organization),
    )


def due_time(
    *,
    organization: Organization,
    time_zone: str,
    send_after: datetime.datetime | None,
    respect_quiet_hours: bool,
    now: datetime.datetime,
) -> datetime.datetime | None:
    """When the message may go: ``None`` for now, else ``send_after`` (never in the past) or
    the next opening of the sending window in ``time_zone``, whichever is later."""
    due = max(send_after, now) if send_after else None
    if respect_quiet_hours:
        allowed = rules.next_allowed_instant(
            due or now,
            time_zone=time_zone,
            start=organization.send_window_start,
            end=organization.send_window_end,
        )
        if allowed > (due or now):
            due = allowed
    return due


@dataclass(frozen=True)
class Timing:
    send_after: datetime.datetime | None
    respect_quiet_hours: bool
    now: datetime.datetime


class Texts:
    """Each contact's text with its segments, rendered once per distinct values of the merge
    fields the template uses: once in all for a text without any. ``forget`` between chunks
    keeps the memory flat."""

    def __init__(self, content: Content, organization: Organization) -> None:
        self._content = content
        self._organization = organization
        body = content.template.body if content.template else ""
        # The names the renderer would look up (a tag it cannot parse renders as nothing).
        self.names = tuple(
            parsed.group("name")
            for match in TAG.finditer(body)
            if (parsed := FIELD.match(match.group(1)))
        )
        self.personal = any(name != "organization.name" for name in self.names)
        self._memo: dict[tuple[str, ...], tuple[str, int, str]] = {}

    def of(self, contact: Contact | None) -> tuple[str, int, str]:
        key: tuple[str, ...] = ()
        if self.personal:
            values = contact_values(contact, self._organization)
            key = tuple(values.get(name, "") for name in self.names)
        found = self._memo.get(key)
        if found is None:
            text = content_text(self._content, self._organization, contact)
            info = count_segments(text)
            found = self._memo[key] = (text, info.segments, info.encoding)
        return found

    def forget(self) -> None:
        if self.personal:
            self._memo.clear()


def message_row(
    *,
    organization: Organization,
    contact: Contact | None,
    phone: str,
    content: Content,
    facts: rules.Facts,
    timing: Timing,
    dedupe_key: str,
    source: Source,
    source_ref: str,
) -> Message:
    """One message, not saved: suppressed with the first rule that stops it, or pending with
    its due time."""
    text = content_text(content, organization, contact)
    reason = rules.suppression(rules.Moment.CREATE, rules.Candidate(text, phone, dedupe_key), facts)
    due = None
    if not reason:
        due = due_time(
            organization=organization,
            time_zone=contact.time_zone if contact else organization.time_zone,
            send_after=timing.send_after,
            respect_quiet_hours=timing.respect_quiet_hours,
            now=timing.now,
        )
    info = count_segments(text)
    return Message(
        organization=organization,
        contact=contact,
        connection=facts.connection,
        template=content.template,
        to=phone,
        body=text,
        media_url=content.media_url,
        segments=info.segments,
        encoding=info.encoding,
        status=Status.SUPPRESSED if reason else Status.PENDING,
        suppressed_reason=reason,
        source=source,
        source_ref=source_ref,
        dedupe_key=dedupe_key,
        send_after=due,
    )


@dataclass(frozen=True)
class SendPreview:
    """What ``message_send`` would do now, without writing anything: the text and its
    segments, the rule that would suppress it (or ""), and when it would go (None: now)."""

    text: str
    segments: int
    encoding: str
    suppressed_reason: str
    send_after: datetime.datetime | None


def message_send_preview(
    *,
    organization: Organization,
    contact: Contact,
    template: SmsTemplate,
    dedupe_key: str = "",
    respect_quiet_hours: bool = False,
) -> SendPreview:
    """The verdicts of ``services.sending.message_send`` for this contact and template,
    computed the same way (for an automation's dry run)."""
    content = content_of(organization=organization, template=template, body=None, media_url="")
    connection = sending_connection(organization)
    message = message_row(
        organization=organization,
        contact=contact,
        phone=contact.phone,
        content=content,
        facts=rules.facts_gather(
            organization, connection, phones=[contact.phone], keys=[dedupe_key]
        ),
        timing=Timing(None, respect_quiet_hours, timezone.now()),
        dedupe_key=dedupe_key,
        source=Source.AUTOMATION,
        source_ref="",
    )
    return SendPreview(
        message.body,
        message.segments,
        message.encoding,
        message.suppressed_reason,
        message.send_after,
    )
