"""Consent belongs to the phone number within the organization.

``consent_opt_out`` and ``consent_opt_in`` keep three things in step, in one transaction: the
ledger (every request, never edited), the current state (the do-not-text list), and the
reserved ``Twilio-Message-stop`` tag on the contact with that number. A user may undo only an
opt-out that a user or an import made; a STOP from the person is undone only by their START.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from contacts import signals
from contacts.models import (
    PERSON_SOURCES,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    Contact,
    ContactTag,
)
from contacts.services.outbound import consent_changed_record
from contacts.services.tags import reserved_tag
from tenants.audit.models import Action, TargetType
from tenants.audit.services import Target, audit_record, mask_phone
from tenants.errors import ConflictError
from tenants.models import Organization, User
from tenants.sources import Source

logger = logging.getLogger(__name__)

LOCKED_MESSAGE = (
    "This number opted out by replying STOP. Only the person can opt back in, by replying START."
)
# The event's `source` (one of tenants.sources.Source) for each consent source.
EVENT_SOURCES = {
    ConsentSource.INBOUND_KEYWORD: Source.INBOUND,
    ConsentSource.TWILIO_OPT_OUT_TYPE: Source.INBOUND,
    # Twilio refused a send because the person had texted STOP: the send task learnt it.
    ConsentSource.TWILIO_ERROR_21610: Source.SYSTEM,
    ConsentSource.IMPORT: Source.IMPORT,
}


def _record(
    *,
    organization: Organization,
    phone: str,
    kind: str,
    source: str,
    message_sid: str,
    user: User | None,
    actor: str,
) -> tuple[list[int], ConsentEvent]:
    """Writes the ledger row; returns the ids of the contact(s) with that number, and it."""
    contact_ids = list(
        Contact.objects.filter(organization=organization, phone=phone).values_list("pk", flat=True)
    )
    event = ConsentEvent.objects.create(
        organization=organization,
        phone=phone,
        contact_id=contact_ids[0] if contact_ids else None,
        kind=kind,
        source=source,
        message_sid=message_sid,
        user=user,
        actor=actor or (user.get_full_name() if user else ""),
    )
    return contact_ids, event


def _audit(
    *,
    organization: Organization,
    phone: str,
    contact_ids: list[int],
    source: str,
    user: User | None,
    action: Action,
) -> None:
    """A user's manual change goes to the audit log (the person's STOP and START, and
    imports, are in the ledger only). The contact by name, never the full number."""
    if source != ConsentSource.USER:
        return
    contact = Contact.objects.filter(pk__in=contact_ids[:1]).first()
    target = (
        Target.of(TargetType.CONTACT, contact, contact.name or mask_phone(phone))
        if contact is not None
        else Target(type=TargetType.NUMBER, label=mask_phone(phone))
    )
    opted_out = action == Action.CONTACT_OPTED_OUT
    audit_record(
        organization=organization,
        action=action,
        target=target,
        changes={"opted_out": {"before": not opted_out, "after": opted_out}},
        actor=user,
    )


def _event_source(source: str, event_source: str | None) -> str:
    return event_source or EVENT_SOURCES.get(ConsentSource(source), Source.UI)


@transaction.atomic
def consent_opt_out(
    *,
    organization: Organization,
    phone: str,
    source: str,
    message_sid: str = "",
    user: User | None = None,
    actor: str = "",
    event_source: str | None = None,
) -> bool:
    """Puts the number on the do-not-text list. True when that changed anything."""
    state, _ = ConsentState.objects.select_for_update().get_or_create(
        organization=organization, phone=phone
    )
    contact_ids, event = _record(
        organization=organization,
        phone=phone,
        kind=ConsentKind.OPT_OUT,
        source=source,
        message_sid=message_sid,
        user=user,
        actor=actor,
    )
    if state.opted_out:
        if source in PERSON_SOURCES and state.opt_out_source not in PERSON_SOURCES:
            # The person confirmed it themselves: from now on only their START undoes it.
            state.opt_out_source = source
            state.save(update_fields=["opt_out_source", "updated_at"])
        return False
    state.opted_out = True
    state.opted_out_at = timezone.now()
    state.opt_out_source = source
    state.save()
    tag = reserved_tag(organization)
    ContactTag.objects.bulk_create(
        [ContactTag(contact_id=pk, tag=tag) for pk in contact_ids], ignore_conflicts=True
    )
    signals.emit_after_commit(
        signals.opted_out,
        organization_id=organization.pk,
        contact_ids=contact_ids,
        source=_event_source(source, event_source),
        allow_empty=True,
        phone=phone,
    )
    consent_changed_record(organization=organization, event=event, type="contact.opted_out")
    _audit(
        organization=organization,
        phone=phone,
        contact_ids=contact_ids,
        source=source,
        user=user,
        action=Action.CONTACT_OPTED_OUT,
    )
    logger.info("opted out: org=%s source=%s", organization.public_id, source)
    return True


@transaction.atomic
def consent_opt_in(
    *,
    organization: Organization,
    phone: str,
    source: str,
    message_sid: str = "",
    user: User | None = None,
    actor: str = "",
    event_source: str | None = None,
) -> bool:
    """Takes the number off the do-not-text list. True when that changed anything.

    Raises ConflictError (code ``consent_locked``) when a user or an import tries to undo
    the person's own STOP.
    """
    state = (
        ConsentState.objects.select_for_update()
        .filter(organization=organization, phone=phone)
        .first()
    )
    if state is not None and state.locked and source not in PERSON_SOURCES:
        raise ConflictError(LOCKED_MESSAGE, code="consent_locked")
    contact_ids, event = _record(
        organization=organization,
        phone=phone,
        kind=ConsentKind.OPT_IN,
        source=source,
        message_sid=message_sid,
        user=user,
        actor=actor,
    )
    if state is None or not state.opted_out:
        return False
    state.opted_out = False
    state.opted_out_at = None
    state.opt_out_source = ""
    state.save()
    ContactTag.objects.filter(contact_id__in=contact_ids, tag=reserved_tag(organization)).delete()
    signals.emit_after_commit(
        signals.opted_in,
        organization_id=organization.pk,
        contact_ids=contact_ids,
        source=_event_source(source, event_source),
        allow_empty=True,
        phone=phone,
    )
    consent_changed_record(organization=organization, event=event, type="contact.opted_in")
    _audit(
        organization=organization,
        phone=phone,
        contact_ids=contact_ids,
        source=source,
        user=user,
        action=Action.CONTACT_OPTED_IN,
    )
    logger.info("opted in: org=%s source=%s", organization.public_id, source)
    return True


def consent_help(
    *, organization: Organization, phone: str, source: str, message_sid: str = ""
) -> None:
    """Records a HELP or INFO request (answering it is the caller's business)."""
    _record(
        organization=organization,
        phone=phone,
        kind=ConsentKind.HELP,
        source=source,
        message_sid=message_sid,
        user=None,
        actor="",
    )
