"""Automation insight pages: an automation's page (its flow in words, funnel, A/B results and
latest enrolments), the dry run and Enrol now, and the fragments other rooms' pages load by
URL name (they cannot import us): a contact's enrolments, a message's step, a template's
automations, and the message log's automation chip."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from automations.definition import definition_words
from automations.funnels import (
    contact_run_lines,
    dry_run_lines,
    enrolment_summary,
    latest_runs,
    message_step,
    reason_words,
    run_status,
    template_names,
    template_users,
    version_funnel,
)
from automations.models import Automation, RunState, State
from automations.selectors import organization_automations
from automations.services.automations import has_unpublished_changes
from automations.services.dry_run import automation_dry_run
from automations.services.enrolment import contact_enrol
from automations.services.waits import zone_of
from contacts.models import Contact
from contacts.selectors import ContactFilter, contacts_search
from messaging.models import Message
from templates_sms.models import SmsTemplate
from tenants.access import OrganizationView
from tenants.models import Role
from tenants.sources import Source

RUNS_PER_PAGE = 25
CONTACT_RUNS = 20
MATCHES = 10


def _url(name: str, *args: object) -> str:
    """A page of the builder (another part of this room), or "" while it is not there."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def editor_url(automation: Automation) -> str:
    return _url("automation_edit", automation.public_id)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


class AutomationDetailView(OrganizationView):
    """An automation's page. Its queries do not grow with its enrolments or messages."""

    def get(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_scoped_object(
            organization_automations(self.organization), automation_id
        )
        live = automation.live_version
        definitions = [automation.draft] + ([live.definition] if live else [])
        names = template_names(self.organization, definitions)
        unpublished = has_unpublished_changes(automation)
        page = Paginator(latest_runs(automation), RUNS_PER_PAGE).get_page(request.GET.get("page"))
        summary = enrolment_summary(automation)
        funnel = version_funnel(live, names, summary.total) if live else None
        context = {
            "automation": automation,
            "live": live,
            "flow": definition_words(live.definition if live else automation.draft, names),
            "draft_flow": definition_words(automation.draft, names) if live and unpublished else [],
            "unpublished": unpublished,
            "editor_url": editor_url(automation),
            "list_url": _url("automation_list"),
            "funnel": funnel.steps if funnel else [],
            "funnel_counted_at": funnel.counted_at if funnel else None,
            "summary": summary,
            "page": page,
            "runs": [(run, run_status(run)) for run in page.object_list],
            "log_query": f"automation={automation.public_id}",
        }
        return render(request, "automations/insight/detail.html", context)


class DryRunView(OrganizationView):
    """What each step would do for one contact now, found by name, email or phone."""

    def get(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_scoped_object(
            organization_automations(self.organization), automation_id
        )
        q = request.GET.get("q", "").strip()[:100]
        contact = None
        matches: list[Contact] = []
        if request.GET.get("contact"):
            contact = self.get_scoped_object(Contact, request.GET["contact"])
        elif q:
            found = list(contacts_search(self.organization, ContactFilter(q=q))[: MATCHES + 1])
            if len(found) == 1:
                contact = found[0]
            else:
                matches = found[:MATCHES]
        dry = automation_dry_run(automation=automation, contact=contact) if contact else None
        context = {
            "automation": automation,
            "q": q,
            "contact": contact,
            "matches": matches,
            "more": len(matches) == MATCHES,
            "dry": dry,
            "lines": dry_run_lines(dry) if dry else [],
            "refusal": reason_words(dry.refusal, dry.refusal_detail) if dry else "",
            "zone": zone_of(contact.time_zone) if contact else None,
            "can_enrol": self.can(Role.MARKETER) and automation.state == State.ACTIVE,
        }
        return render(request, "automations/insight/dry_run.html", context)


class EnrolNowView(OrganizationView):
    """Enrol now (marketers and above): the contact enters the automation as an event would
    enrol it, with a fresh occurrence key; the page is told the result or the skip's reason."""

    read_role = Role.MARKETER
    http_method_names = ["post"]

    def post(self, request: HttpRequest, automation_id: str = "") -> HttpResponse:
        # The contact page's form names the automation among its fields, the dry run's URL.
        automation = self.get_scoped_object(
            organization_automations(self.organization),
            automation_id or request.POST.get("automation", ""),
        )
        contact = self.get_scoped_object(Contact, request.POST.get("contact", ""))
        target = _safe_next(request) or reverse("automation_detail", args=[automation.public_id])
        if automation.state != State.ACTIVE:
            messages.error(
                request,
                f"“{automation.name}” is {automation.state}: "
                "only an active automation enrols contacts.",
            )
            return redirect(target)
        run = contact_enrol(
            automation=automation, contact_id=contact.pk, key=f"ui:{uuid.uuid4()}", source=Source.UI
        )
        if run is None:
            messages.error(
                request, f"{contact} was not enrolled: the automation stopped meanwhile."
            )
        elif run.state == RunState.SKIPPED:
            messages.error(
                request,
                f"{contact} was not enrolled in “{automation.name}”: "
                f"{reason_words(run.reason, run.detail)}.",
            )
        else:
            messages.success(
                request, f"{contact} was enrolled in “{automation.name}”. {run_status(run)}."
            )
        return redirect(target)


class ContactRunsFragment(OrganizationView):
    """The contact page's "Automations" card: every enrolment and skip, step by step."""

    def get(self, request: HttpRequest, contact_id: str) -> HttpResponse:
        contact = self.get_scoped_object(Contact, contact_id)
        can_enrol = self.can(Role.MARKETER)
        context = {
            "contact": contact,
            "lines": contact_run_lines(self.organization, contact, CONTACT_RUNS),
            "limit": CONTACT_RUNS,
            "can_enrol": can_enrol,
            "startable": list(
                organization_automations(self.organization)
                .filter(state=State.ACTIVE)
                .order_by("name")
            )
            if can_enrol
            else [],
            "next": reverse("contact_detail", args=[contact.public_id]),
        }
        return render(request, "automations/insight/_contact_runs.html", context)


class MessageStepFragment(OrganizationView):
    """The message page's link to the automation, version and step that sent the message."""

    def get(self, request: HttpRequest, message_id: str) -> HttpResponse:
        message = self.get_scoped_object(Message, message_id)
        context = {"found": message_step(self.organization, message)}
        return render(request, "automations/insight/_message_step.html", context)


class TemplateUsageFragment(OrganizationView):
    """The template editor's and delete page's list of the automations that send it."""

    def get(self, request: HttpRequest, template_id: str) -> HttpResponse:
        template = self.get_scoped_object(SmsTemplate, template_id)
        context = {"template": template, "users": template_users(self.organization, template)}
        return render(request, "automations/insight/_template_usage.html", context)


class AutomationChipFragment(OrganizationView):
    """The message log's filter chip: the automation's name, linked to its page."""

    def get(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_scoped_object(Automation, automation_id)
        return render(request, "automations/insight/_chip.html", {"automation": automation})
