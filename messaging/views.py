"""Messaging pages: sending to a contact, the test send, the message log and a message's page,
and the contact page's conversation (a fragment)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from contacts.models import Contact
from messaging.forms import AttentionForm, MessageFilterForm, SendForm, TestSendForm
from messaging.models import Message, Status
from messaging.selectors import (
    MessageFilter,
    Position,
    message_status_counts,
    messages_filtered,
    messages_page,
)
from messaging.services.attention import attention_candidates, message_attention_resolve
from messaging.services.sending import message_send
from messaging.statuses import STATUS_WORDS, advice
from templates_sms.preview import template_preview
from tenants.access import OrganizationView
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Role
from tenants.sources import Source
from tenants.templatetags.zones import zoned_format
from tenants.views.forms import apply_error


def outcome(message: Message) -> tuple[str, str]:
    """(level, words) for a flash message about what the send service did."""
    if message.status == Status.SUPPRESSED:
        return "error", f"Not sent: {message.get_suppressed_reason_display().lower()}."
    if message.send_after:
        return "success", f"Scheduled for {zoned_format(message.send_after, 'M j, H:i')}."
    return "success", "Sent to Twilio's queue."


class SendToContactView(OrganizationView):
    read_role = Role.MARKETER
    write_role = Role.MARKETER

    def page(self, form: SendForm, contact: Contact, status: int = 200) -> HttpResponse:
        counts = {}
        for key, template in form.templates.items():
            preview = template_preview(
                organization=self.organization,
                body=template.body,
                append_footer=template.append_opt_out_footer,
                contact=contact,
            )
            info = preview.info
            plural = "" if info.segments == 1 else "s"
            counts[key] = (
                f"{info.encoding} · {info.characters} characters · {info.segments} segment{plural}"
            )
        context = {"form": form, "contact": contact, "template_counts": json.dumps(counts)}
        return render(self.request, "messaging/send.html", context, status=status)

    def get(self, request: HttpRequest, contact_id: str) -> HttpResponse:
        contact = self.get_scoped_object(Contact, contact_id)
        return self.page(SendForm(organization=self.organization), contact)

    def post(self, request: HttpRequest, contact_id: str) -> HttpResponse:
        contact = self.get_scoped_object(Contact, contact_id)
        form = SendForm(request.POST, organization=self.organization)
        if form.is_valid():
            try:
                message = message_send(
                    organization=self.organization,
                    contact=contact,
                    template=form.chosen_template(),
                    body=form.cleaned_data["body"],
                    respect_quiet_hours=form.cleaned_data["respect_quiet_hours"],
                    source="ui",
                    source_ref=f"user:{self.membership.user.public_id}",
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                level, words = outcome(message)
                getattr(messages, level)(request, words)
                return redirect("contact_detail", contact.public_id)
        return self.page(form, contact, status=400)


class TestSendView(OrganizationView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "messaging/test_send.html", {"form": TestSendForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = TestSendForm(request.POST)
        if form.is_valid():
            try:
                message = message_send(
                    organization=self.organization,
                    to=form.cleaned_data["to"],
                    body=form.cleaned_data["body"],
                    source="test",
                    source_ref=f"user:{self.membership.user.public_id}",
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                level, words = outcome(message)
                getattr(messages, level)(request, f"Test message to {message.to}: {words}")
                return redirect("twilio_connection")
        return render(request, "messaging/test_send.html", {"form": form}, status=400)


CONVERSATION_SIZE = 20


class ContactMessagesFragment(OrganizationView):
    """The contact page's conversation (loaded into it: contacts cannot import us): the latest
    messages both ways, oldest first as a conversation reads."""

    def get(self, request: HttpRequest, contact_id: str) -> HttpResponse:
        contact = self.get_scoped_object(Contact, contact_id)
        latest = list(
            Message.objects.filter(organization=self.organization, contact=contact)
            .prefetch_related("events")
            .order_by("-created_at", "-pk")[: CONVERSATION_SIZE + 1]
        )
        context = {
            "contact": contact,
            "history": latest[:CONVERSATION_SIZE][::-1],
            "more": len(latest) > CONVERSATION_SIZE,
            "live": any(message.in_flight for message in latest),
        }
        return render(request, "messaging/_contact_messages.html", context)


# The event the log's polls fire, on which the status counts count again.
LOG_POLLED = "message-log-polled"


def _log_query(request: HttpRequest, **changes: str) -> str:
    """The log's query string with ``changes`` (an empty value removes a key); a new filter
    always starts from the newest page."""
    query = {k: v for k, v in request.GET.items() if k not in ("older", "newer") and v}
    query.update(changes)
    return urlencode({k: v for k, v in query.items() if v})


def _log_filters(view: OrganizationView) -> tuple[MessageFilterForm, MessageFilter]:
    form = MessageFilterForm(view.request.GET, organization=view.organization)
    form.is_valid()  # errors are shown; the valid filters apply
    return form, form.filters()


class MessageListView(OrganizationView):
    """The message log: every message of the organization, newest first, with filters."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form, filters = _log_filters(self)
        older = Position.decode(request.GET.get("older", ""))
        newer = None if older else Position.decode(request.GET.get("newer", ""))
        page = messages_page(
            messages_filtered(self.organization, filters), older=older, newer=newer
        )
        query = _log_query(request)
        context = {
            "form": form,
            "filters": filters,
            "page": page,
            "query": query,
            "first_page": older is None and newer is None,
            "without_contact": _log_query(request, contact=""),
            "without_automation": _log_query(request, automation=""),
            "automation_ref": filters.source_ref if filters.source == Source.AUTOMATION else "",
            "live": any(message.in_flight for message in page.messages),
        }
        response = render(request, "messaging/list.html", context)
        if request.headers.get("HX-Request"):
            # The log polled itself: the status counts above it, a fragment of their own,
            # count again (the last poll too, when the statuses have settled).
            response["HX-Trigger"] = LOG_POLLED
        return response


class MessageCountsFragment(OrganizationView):
    """How many messages of each status match the log's other filters: a fragment of its own,
    so the list never waits for the count."""

    def get(self, request: HttpRequest) -> HttpResponse:
        _, filters = _log_filters(self)
        rows = message_status_counts(self.organization, filters)
        counts = [
            {
                "status": status,
                "words": STATUS_WORDS.get(Status(status)),
                "count": count,
                "query": _log_query(request, status=status),
                "current": status == filters.status,
            }
            for status, count in rows
        ]
        context = {
            "counts": counts,
            "total": sum(count for _, count in rows),
            "status": filters.status,
            "all_query": _log_query(request, status=""),
        }
        return render(request, "messaging/_counts.html", context)


class MessageDetailView(OrganizationView):
    """One message: the text as sent, its timeline, and the error explained. A message that
    needs attention also offers the decision (to marketers and above)."""

    def page(self, message: Message, form: AttentionForm | None = None) -> HttpResponse:
        events = list(message.events.order_by("at", "pk"))
        candidates = attention_candidates(message) if message.needs_attention else []
        context = {
            "message": message,
            "events": events,
            "advice": advice(message.error_code),
            "callbacks": [e for e in events if e.callback_key or e.status == Status.RECEIVED],
            "attention_form": form or AttentionForm(candidates=candidates),
            "can_decide": message.needs_attention and self.can(Role.MARKETER),
            "live": message.in_flight,
        }
        status = 400 if form is not None else 200
        return render(self.request, "messaging/detail.html", context, status=status)

    def message(self, message_id: str) -> Message:
        return self.get_scoped_object(
            Message.objects.select_related("contact", "template", "connection"), message_id
        )

    def get(self, request: HttpRequest, message_id: str) -> HttpResponse:
        return self.page(self.message(message_id))

    def post(self, request: HttpRequest, message_id: str) -> HttpResponse:
        message = self.message(message_id)
        form = AttentionForm(request.POST, candidates=attention_candidates(message))
        if form.is_valid():
            action, sid = form.decision()
            try:
                message_attention_resolve(message=message, action=action, sid=sid, by=self.actor)
            except ConflictError as exc:  # settled meanwhile: show it as it is now
                messages.error(request, exc.message)
                return redirect("message_detail", message.public_id)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, "Saved. The timeline shows your decision.")
                return redirect("message_detail", message.public_id)
        return self.page(message, form)
