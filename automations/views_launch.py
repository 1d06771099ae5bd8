"""Launches from the automation's page: **Run now** (a manual automation sent to an audience)
and the backfill its activation offers, each through a confirmation with the preflight's
figures; the launches' progress (a fragment the page polls while one is open), every launch
of an automation, and Cancel.

The confirmation's figures travel in its form signed (``django.core.signing``), with the
audience they were counted for: what the launch records is what the page showed, and a
changed audience is refused by ``launch_create`` rather than sent on old figures.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from automations.definition.audience import audience_words
from automations.forms.audience import AudienceForm
from automations.launch_figures import figures_words, launch_rows, progress_context
from automations.models import Automation, Launch, LaunchKind
from automations.selectors import organization_automations
from automations.services.launches import (
    backfill_audience,
    launch_cancel,
    launch_create,
    launch_preflight,
    launch_refusal,
)
from automations.triggers.manual import TRIGGER as MANUAL_TRIGGER
from automations.views import tag_suggestions
from tenants.access import OrganizationView
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Role
from tenants.sources import Source

PER_PAGE = 25  # on the page of every launch
# How long a confirmation's figures may be sent back: after that they are counted again.
CONFIRMATION_SECONDS = 30 * 60


# --- Run now and the backfill --------------------------------------------------------------------


class LaunchView(OrganizationView):
    def get_automation(self, automation_id: str) -> Automation:
        return self.get_scoped_object(organization_automations(self.organization), automation_id)

    def page_url(self, automation: Automation, anchor: str = "") -> str:
        """The automation's page (at one of its sections)."""
        url = reverse("automation_detail", args=[automation.public_id])
        return f"{url}#{anchor}" if anchor else url


class ConfirmLaunchView(LaunchView):
    """The confirmation before a launch of ``kind``: the preflight's figures, then the button
    that starts it on them (marketers and above)."""

    read_role = Role.MARKETER
    kind: str = ""

    def salt(self, automation: Automation) -> str:
        # The figures of one automation's run cannot confirm another's, nor its backfill.
        return f"automations.launch:{automation.public_id}:{self.kind}"

    def refusal(self, automation: Automation) -> str:
        """Why this automation cannot be launched so ("" when it can)."""
        return launch_refusal(automation)

    def refused(self, automation: Automation, text: str) -> HttpResponse:
        messages.error(self.request, text)
        return redirect(self.page_url(automation))

    def confirmation(
        self,
        automation: Automation,
        audience: Mapping[str, Any] | None,
        *,
        notice: str = "",
        status: int = 200,
    ) -> HttpResponse:
        """Counts the preflight now and shows it, with the form that confirms it."""
        try:
            figures = launch_preflight(
                automation=automation, audience=audience, kind=self.kind
            ).as_dict()
        except ConflictError as error:
            return self.refused(automation, error.message)
        # ``once``: this confirmation's key, so that sending it twice starts one launch.
        payload = {"audience": audience, "preflight": figures, "once": uuid.uuid4().hex}
        shown = backfill_audience(automation) if audience is None else audience
        change = (
            urlencode({**AudienceForm.data_for(audience), "change": "1"})
            if audience is not None
            else ""
        )
        context = {
            "automation": automation,
            "backfill": self.kind == LaunchKind.BACKFILL,
            "audience_words": audience_words(shown or {}),
            "change_query": change,
            "figures": figures_words(figures),
            "signed": signing.dumps(payload, salt=self.salt(automation), compress=True),
            "notice": notice,
            "cancel_url": self.page_url(automation),
        }
        return render(self.request, "automations/launch/confirm.html", context, status=status)

    def post(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        if refusal := self.refusal(automation):
            return self.refused(automation, refusal)
        try:
            payload = signing.loads(
                request.POST.get("confirmation", ""),
                salt=self.salt(automation),
                max_age=CONFIRMATION_SECONDS,
            )
        except signing.BadSignature:
            return self.unconfirmed(automation)
        audience = payload["audience"]
        try:
            launch = launch_create(
                automation=automation,
                audience=audience,
                kind=self.kind,
                by=self.membership.user,
                source=Source.UI,
                preflight=payload["preflight"],
                once=payload.get("once", ""),
            )
        except ConflictError as error:
            if error.code != "preflight_stale":
                return self.refused(automation, error.message)
            return self.confirmation(automation, audience, notice=error.message, status=409)
        except ApplicationError as error:  # the audience no longer passes its checks
            return self.audience_errors(automation, audience, error)
        messages.success(request, self.started(launch))
        return redirect(self.page_url(automation, "launches"))

    def unconfirmed(self, automation: Automation) -> HttpResponse:
        """The form came back without figures this page signed, or with figures too old."""
        raise NotImplementedError

    def audience_errors(
        self, automation: Automation, audience: Mapping[str, Any] | None, error: ApplicationError
    ) -> HttpResponse:
        return self.refused(automation, error.summary())

    def started(self, launch: Launch) -> str:
        raise NotImplementedError


class RunNowView(ConfirmLaunchView):
    """Run now: the audience form; submitted (a GET, for nothing changes yet), the
    confirmation."""

    kind = LaunchKind.MANUAL

    def refusal(self, automation: Automation) -> str:
        if automation.trigger_type != MANUAL_TRIGGER.type:
            return (
                "Run now is for an automation with the Run now trigger: this one starts "
                "when its trigger fires."
            )
        return super().refusal(automation)

    def audience_page(
        self, automation: Automation, form: AudienceForm, *, notice: str = "", status: int = 200
    ) -> HttpResponse:
        context = {
            "automation": automation,
            "form": form,
            "notice": notice,
            "tags": tag_suggestions(self.organization),
            "cancel_url": self.page_url(automation),
        }
        return render(self.request, "automations/launch/run.html", context, status=status)

    def get(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        if refusal := self.refusal(automation):
            return self.refused(automation, refusal)
        if not request.GET:
            return self.audience_page(automation, AudienceForm())
        form = AudienceForm(request.GET)
        if "change" in request.GET:
            return self.audience_page(automation, form)
        if not form.is_valid():
            return self.audience_page(automation, form, status=400)
        audience = form.audience()
        try:
            return self.confirmation(automation, audience)
        except ApplicationError as error:
            return self.audience_errors(automation, audience, error)

    def unconfirmed(self, automation: Automation) -> HttpResponse:
        notice = "These figures are too old to send on: choose the audience and check again."
        return self.audience_page(automation, AudienceForm(), notice=notice, status=400)

    def audience_errors(
        self, automation: Automation, audience: Mapping[str, Any] | None, error: ApplicationError
    ) -> HttpResponse:
        form = AudienceForm(AudienceForm.data_for(audience or {}))
        if form.is_valid():
            form.show_error(error)
        return self.audience_page(automation, form, status=400)

    def started(self, launch: Launch) -> str:
        return (
            f"Run now started for the {launch.total:,} contacts of the audience: Launches "
            "shows how far it has got."
        )


class BackfillView(ConfirmLaunchView):
    """The backfill on activation: the contacts who already match the trigger (a tag's, or a
    date that fell lately) enrolled as if it had just fired for them."""

    kind = LaunchKind.BACKFILL

    def get(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        if refusal := self.refusal(automation):
            return self.refused(automation, refusal)
        return self.confirmation(automation, None)

    def unconfirmed(self, automation: Automation) -> HttpResponse:
        notice = "These figures are too old to enrol on: here they are again."
        return self.confirmation(automation, None, notice=notice, status=400)

    def started(self, launch: Launch) -> str:
        return (
            f"Enrolling the {launch.total:,} contacts who already match: Launches shows how "
            "far it has got."
        )


# --- Progress, every launch, and Cancel ------------------------------------------------------


class LaunchesFragment(LaunchView):
    """The launches' progress, which the automation's page polls while one is open (the
    answer without a trigger stops the polling)."""

    def get(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        context = progress_context(automation, can_write=self.can(Role.MARKETER))
        return render(request, "automations/launch/_progress.html", context)


class LaunchListView(LaunchView):
    def get(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        page = Paginator(automation.launches.select_related("created_by"), PER_PAGE).get_page(
            request.GET.get("page")
        )
        context = {
            "automation": automation,
            "page": page,
            "rows": launch_rows(list(page.object_list)),
            "can_write": self.can(Role.MARKETER),
        }
        return render(request, "automations/launch/list.html", context)


class LaunchCancelView(LaunchView):
    """Cancel asks first; the launch stops before its next chunk, and the contacts it has
    enrolled carry on through the automation."""

    read_role = Role.MARKETER

    def get_launch(self, automation: Automation, launch_id: str) -> Launch:
        return self.get_scoped_object(automation.launches.all(), launch_id)

    def get(self, request: HttpRequest, automation_id: str, launch_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        launch = self.get_launch(automation, launch_id)
        if not launch.is_open:
            messages.info(request, f"This launch has ended ({launch.get_state_display()}).")
            return redirect(self.page_url(automation, "launches"))
        remaining = max(launch.total - launch.done, 0)
        context = {
            "title": f"Cancel the launch of “{automation.name}”?",
            "message": f"Stop sending to the remaining {remaining:,} contacts? "
            "Those already enrolled carry on.",
            "button": "Stop sending",
            "action": request.get_full_path(),
            "cancel_url": self.page_url(automation, "launches"),
        }
        return render(request, "confirm.html", context)

    def post(self, request: HttpRequest, automation_id: str, launch_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        launch = self.get_launch(automation, launch_id)
        try:
            cancelled = launch_cancel(launch=launch, by=self.membership.user)
        except ConflictError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"Cancelled: nobody else is enrolled. The {cancelled.enrolled:,} enrolled "
                "so far carry on.",
            )
        return redirect(self.page_url(automation, "launches"))
