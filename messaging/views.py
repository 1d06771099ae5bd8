"""Sending from the browser: to a contact, and a test message from the Connection Center."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from contacts.models import Contact
from messaging.forms import SendForm, TestSendForm
from messaging.models import Message, Status
from messaging.services.sending import message_send
from templates_sms.preview import template_preview
from tenants.access import OrganizationView
from tenants.errors import ApplicationError
from tenants.models import Role
from tenants.views.forms import apply_error


def outcome(message: Message) -> tuple[str, str]:
    """(level, words) for a flash message about what the send service did."""
    if message.status == Status.SUPPRESSED:
        return "error", f"Not sent: {message.get_suppressed_reason_display().lower()}."
    if message.send_after:
        return "success", f"Scheduled for {message.send_after:%b %-d, %H:%M} UTC."
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


class ContactMessagesFragment(OrganizationView):
    """The contact page's message history (loaded into it: contacts cannot import us)."""

    def get(self, request: HttpRequest, contact_id: str) -> HttpResponse:
        contact = self.get_scoped_object(Contact, contact_id)
        history = (
            Message.objects.filter(organization=self.organization, contact=contact)
            .prefetch_related("events")
            .order_by("-created_at", "-pk")[:20]
        )
        return render(request, "messaging/_contact_messages.html", {"history": history})
