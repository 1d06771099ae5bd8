"""Reads of automations and their enrolments, always through an organization."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from automations.models import Automation, AutomationRun, RunStep
from contacts.models import Contact
from tenants.models import Organization


def organization_automations(organization: Organization) -> QuerySet[Automation]:
    return Automation.objects.filter(organization=organization).select_related("live_version")


def runs_with_steps(runs: QuerySet[AutomationRun]) -> QuerySet[AutomationRun]:
    """Enrolments with their contact, version and ledger (and each step's message) in 3
    queries for any number of them."""
    return runs.select_related("contact", "version", "automation").prefetch_related(
        Prefetch(
            "steps",
            queryset=RunStep.objects.select_related("message").order_by("at", "pk"),
        )
    )


def automation_runs(
    automation: Automation, *, contact: Contact | None = None, state: str | None = None
) -> QuerySet[AutomationRun]:
    runs = AutomationRun.objects.filter(automation=automation)
    if contact is not None:
        runs = runs.filter(contact=contact)
    if state:
        runs = runs.filter(state=state)
    return runs_with_steps(runs.order_by("-created_at", "-pk"))


def contact_runs(organization: Organization, contact: Contact) -> QuerySet[AutomationRun]:
    """Every enrolment and skip of a contact, newest first ("why didn't they get it?")."""
    return runs_with_steps(
        AutomationRun.objects.filter(organization=organization, contact=contact).order_by(
            "-created_at", "-pk"
        )
    )
