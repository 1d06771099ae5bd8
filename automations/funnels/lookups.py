"""The step a message came from, and the automations a template is protected by."""

from __future__ import annotations

from dataclasses import dataclass

from automations.definition import step_words
from automations.funnels.words import template_names, variant_label
from automations.models import Automation, AutomationRun, RunStep, VersionTemplate
from messaging.models import Message
from templates_sms.models import SmsTemplate
from tenants.models import Organization


@dataclass
class MessageStep:
    step: RunStep
    words: str

    @property
    def run(self) -> AutomationRun:
        return self.step.run

    @property
    def variant(self) -> str:
        return variant_label(self.step.variant)


def message_step(organization: Organization, message: Message) -> MessageStep | None:
    """The ledger row that created this message, with its automation and version: 2
    queries."""
    step = (
        RunStep.objects.filter(message=message, run__organization=organization)
        .select_related("run__automation", "run__version", "run__contact")
        .first()
    )
    if step is None:
        return None
    definition = step.run.version.step(step.step_id)
    names = template_names(organization, [step.run.version.definition])
    return MessageStep(step, step_words(definition, names) if definition else "")


@dataclass
class TemplateUser:
    automation: Automation
    versions: list[int]  # the version numbers that send the template
    live: bool  # the live version is one of them


def template_users(organization: Organization, template: SmsTemplate) -> list[TemplateUser]:
    """The automations whose published versions send this template (what keeps it from being
    deleted): 1 query."""
    links = (
        VersionTemplate.objects.filter(
            template=template, version__automation__organization=organization
        )
        .select_related("version__automation")
        .order_by("version__automation__name", "version__number")
    )
    users: dict[int, TemplateUser] = {}
    for link in links:
        automation = link.version.automation
        user = users.setdefault(automation.pk, TemplateUser(automation, [], False))
        user.versions.append(link.version.number)
        user.live = user.live or automation.live_version_id == link.version_id
    return list(users.values())
