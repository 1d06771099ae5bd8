"""The automation builder's pages: the list, a new automation, and the lifecycle buttons
(publish, discard the draft, activate, pause, archive, duplicate). The editor is in
``views_builder``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from automations.definition import definition_words
from automations.forms.base import error_lines
from automations.forms.trigger import NewAutomationForm
from automations.models import Automation, State
from automations.reports import automation_list_stats, runs_under_way
from automations.selectors import organization_automations
from automations.services.automations import (
    automation_activate,
    automation_archive,
    automation_create,
    automation_discard_draft,
    automation_duplicate,
    automation_pause,
    automation_publish,
    has_unpublished_changes,
)
from automations.services.launches import backfill_offer
from contacts.selectors import organization_tags
from templates_sms.views import safe_next
from tenants.access import OrganizationView
from tenants.errors import ApplicationError
from tenants.models import Organization, Role

PAGE_SIZE = 50


def editor_url(automation: Automation, anchor: str = "") -> str:
    url = reverse("automation_edit", args=[automation.public_id])
    return f"{url}#{anchor}" if anchor else url


class AutomationView(OrganizationView):
    def get_automation(self, automation_id: str) -> Automation:
        return self.get_scoped_object(organization_automations(self.organization), automation_id)

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"


# --- The list ----------------------------------------------------------------------------------


class AutomationListView(AutomationView):
    def get(self, request: HttpRequest) -> HttpResponse:
        page = Paginator(organization_automations(self.organization), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        automations = list(page.object_list)
        stats = automation_list_stats(self.organization, automations)
        rows = [
            {
                "automation": automation,
                "trigger": trigger_words(
                    automation.live_version.definition
                    if automation.live_version
                    else automation.draft
                ),
                "stats": stats[automation.pk],
            }
            for automation in automations
        ]
        context = {"page": page, "rows": rows, "can_write": self.can(Role.MARKETER), "query": ""}
        return render(request, "automations/list.html", context)


def trigger_words(definition: dict[str, Any]) -> str:
    try:
        return definition_words({"trigger": definition.get("trigger") or {}}, {})[0]
    except ApplicationError:  # a trigger type this version of SMS Hub no longer has
        return "An unknown trigger"


# --- A new automation ---------------------------------------------------------------------------


class AutomationCreateView(AutomationView):
    read_role = Role.MARKETER

    def render_page(self, form: NewAutomationForm, status: int = 200) -> HttpResponse:
        context = {"form": form, "tags": tag_suggestions(self.organization)}
        return render(self.request, "automations/new.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        chosen = request.GET.get("trigger")
        return self.render_page(NewAutomationForm(initial={"trigger_type": chosen}))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = NewAutomationForm(request.POST)
        if form.is_valid():
            try:
                automation = automation_create(
                    organization=self.organization,
                    name=form.cleaned_data["name"],
                    definition={"trigger": form.trigger()},
                    by=self.membership.user,
                )
            except ApplicationError as error:
                form.show_error(error)
            else:
                messages.success(request, f"Created “{automation.name}”. Now add its steps.")
                return redirect(editor_url(automation))
        return self.render_page(form, status=400)


def tag_suggestions(organization: Organization) -> list[str]:
    return [tag.name for tag in organization_tags(organization) if not tag.is_reserved]


# --- The lifecycle -------------------------------------------------------------------------------


class LifecycleView(AutomationView):
    """A button that changes the automation's life, then a flash message and a redirect
    (to ``next`` when the page that posted gave one, else the editor)."""

    def post(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        try:
            text, target = self.act(automation)
        except ApplicationError as error:
            messages.error(request, " ".join(error_lines(error)))
            target = automation
        else:
            messages.success(request, text)
        return redirect(safe_next(request) or self.landing(target))

    def act(self, automation: Automation) -> tuple[str, Automation]:
        raise NotImplementedError

    def landing(self, automation: Automation) -> str:
        """Where the button leads when the page that posted gave no ``next``."""
        return editor_url(automation)


class PublishView(LifecycleView):
    def act(self, automation: Automation) -> tuple[str, Automation]:
        live = automation.live_version
        if live is not None and not has_unpublished_changes(automation):
            return f"Nothing to publish: the draft is version {live.number}.", automation
        version = automation_publish(automation=automation, by=self.membership.user)
        return (
            f"Published version {version.number}. New enrolments follow it; those under way "
            "finish on the version they entered.",
            automation,
        )


class ActivateView(LifecycleView):
    # Once activated, the contacts who already match its trigger: then the automation's
    # page, which offers to enrol them (its backfill), comes next rather than the editor.
    matching = 0

    def act(self, automation: Automation) -> tuple[str, Automation]:
        resuming = automation.state == State.PAUSED
        first = automation.live_version is None
        automation_activate(automation=automation, by=self.membership.user)
        if resuming:
            return f"“{automation.name}” is active again.", automation
        self.matching = backfill_offer(automation)
        published = " (version 1 published)" if first else ""
        return f"“{automation.name}” is active{published}: contacts now enter it.", automation

    def landing(self, automation: Automation) -> str:
        if self.matching:
            return reverse("automation_detail", args=[automation.public_id]) + "#backfill"
        return super().landing(automation)


class PauseView(LifecycleView):
    def act(self, automation: Automation) -> tuple[str, Automation]:
        automation_pause(automation=automation, by=self.membership.user)
        return (
            f"“{automation.name}” is paused: no one enters and nothing is sent until you "
            "resume it.",
            automation,
        )


class DuplicateView(LifecycleView):
    def act(self, automation: Automation) -> tuple[str, Automation]:
        copy = automation_duplicate(automation=automation, by=self.membership.user)
        return f"Created “{copy.name}”, a draft.", copy


class ConfirmedLifecycleView(LifecycleView):
    """A lifecycle button that asks first (confirm.html)."""

    read_role = Role.MARKETER
    title = message = button = ""

    def get(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        context = {
            "automation": automation,
            "action": request.get_full_path(),
            "cancel_url": safe_next(request) or editor_url(automation),
            **self.words(automation),
        }
        return render(request, "confirm.html", context)

    def words(self, automation: Automation) -> dict[str, str]:
        raise NotImplementedError


class DiscardDraftView(ConfirmedLifecycleView):
    def words(self, automation: Automation) -> dict[str, str]:
        live = automation.live_version
        back = (
            f"The draft goes back to version {live.number}, the live one: the changes made "
            "since are lost."
            if live
            else "Nothing is published yet, so there is no version to go back to."
        )
        return {
            "title": f"Discard the draft of “{automation.name}”?",
            "message": back,
            "button": "Discard draft",
        }

    def act(self, automation: Automation) -> tuple[str, Automation]:
        automation_discard_draft(automation=automation, by=self.membership.user)
        number = automation.live_version.number if automation.live_version else 0
        return f"Draft discarded: it is version {number} again.", automation


class ArchiveView(ConfirmedLifecycleView):
    def words(self, automation: Automation) -> dict[str, str]:
        under_way = runs_under_way(automation)
        ending = (
            "No enrolment is under way."
            if not under_way
            else f"{under_way} enrolment{'s' if under_way != 1 else ''} under way will end."
        )
        return {
            "title": f"Archive “{automation.name}”?",
            "message": f"{ending} An archived automation stops for good: it cannot be edited "
            "or activated again, only duplicated.",
            "button": "Archive",
        }

    def act(self, automation: Automation) -> tuple[str, Automation]:
        ended = automation_archive(automation=automation, by=self.membership.user)
        runs = f"{ended} enrolment{'s' if ended != 1 else ''} under way ended."
        return f"“{automation.name}” is archived. {runs}", automation
