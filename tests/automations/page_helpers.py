"""Shared by the builder page tests: paths, builders, form data as a browser posts it, and
snapshots of every automation row to prove that nothing changed."""

from __future__ import annotations

import re
from typing import Any

from automations.models import Automation, AutomationVersion
from automations.services.automations import automation_create
from templates_sms.models import SmsTemplate
from templates_sms.services import template_create
from tests.factories import page_text

WRITERS = ["owner", "admin", "marketer"]
LIST = "/automations/"
NEW = "/automations/new/"
TAG_TRIGGER = {"type": "tag_added", "tag": "new-lead"}


def edit_path(automation: Automation | str, tail: str = "") -> str:
    key = automation.public_id if isinstance(automation, Automation) else automation
    return f"/automations/{key}/edit/{tail}"


def action_path(automation: Automation | str, action: str) -> str:
    key = automation.public_id if isinstance(automation, Automation) else automation
    return f"/automations/{key}/{action}/"


def step_path(automation: Automation, step_id: str, tail: str = "") -> str:
    return edit_path(automation, f"steps/{step_id}/{tail}")


def add_template(
    organization: Any, name: str = "Welcome", body: str = "Hi {{ first_name }}!"
) -> SmsTemplate:
    return template_create(organization=organization, name=name, body=body).template


def draft_automation(
    organization: Any,
    *,
    name: str = "Welcome new leads",
    trigger: dict[str, Any] | None = None,
    steps: list[dict[str, Any]] | None = None,
    **definition: Any,
) -> Automation:
    return automation_create(
        organization=organization,
        name=name,
        definition={"trigger": trigger or TAG_TRIGGER, "steps": steps or [], **definition},
    )


def send_step(template: SmsTemplate | None, step_id: str = "s1", **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "send_sms",
        "template": str(template.public_id) if template else None,
        **extra,
    }


def fresh(automation: Automation) -> Automation:
    return Automation.objects.get(pk=automation.pk)


def steps_of(automation: Automation) -> list[dict[str, Any]]:
    """The draft's steps as stored now."""
    steps: list[dict[str, Any]] = fresh(automation).draft["steps"]
    return steps


def branching(organization: Any) -> Automation:
    """A draft with a branch (s2: replied → end) and two steps after it to go to."""
    steps = [
        send_step(None),
        {"id": "s2", "type": "branch", "if": {"replied": True}, "then": "end", "else": "continue"},
        {"id": "s3", "type": "wait", "duration": {"days": 2}},
        send_step(None, "s4"),
    ]
    return draft_automation(organization, steps=steps)


def _step_form(step_id: str, defaults: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    return {f"{step_id}-{key}": value for key, value in {**defaults, **fields}.items()}


def send_data(step_id: str = "s1", **fields: Any) -> dict[str, Any]:
    """A send step's form as posted: one template, quiet hours on, unless ``fields`` say."""
    defaults = {"mode": "single", "template": "", "respect_quiet_hours": "on"}
    return _step_form(step_id, defaults, fields)


def wait_data(step_id: str = "s2", **fields: Any) -> dict[str, Any]:
    """A wait step's form as posted: 1 day, unless ``fields`` say."""
    defaults = {"mode": "duration", "amount": "1", "unit": "days", "time": "", "weekdays": []}
    return _step_form(step_id, defaults, fields)


def branch_data(step_id: str = "s2", **fields: Any) -> dict[str, Any]:
    """A branch step's form as posted: if replied, go on either way, unless ``fields`` say."""
    defaults = {"condition": "replied", "then": "continue", "otherwise": "continue"}
    return _step_form(step_id, defaults, fields)


def live_version(automation: Automation) -> AutomationVersion:
    version = fresh(automation).live_version
    assert version is not None, "the automation has no live version"
    return version


def snapshot() -> list[tuple[Any, ...]]:
    """Every automation and version of every organization, as stored."""
    automations = list(
        Automation.objects.order_by("pk").values_list(
            "pk", "organization_id", "name", "state", "draft", "live_version_id", "updated_at"
        )
    )
    versions = list(AutomationVersion.objects.order_by("pk").values_list("pk", "definition"))
    return [*automations, *versions]


def visible(response: Any) -> str:
    """The page's text without its markup, to read sentences split by inline tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page_text(response))).replace(" .", ".")


def follow(client: Any, response: Any) -> str:
    """The text of the page a redirect leads to (with its flash messages)."""
    assert response.status_code == 302, response.content.decode()[:3000]
    return visible(client.get(response["Location"]))


def section(response: Any, element_id: str) -> str:
    """The HTML of the element with that id, up to the next element of the same tag at the
    same depth (good enough for the editor's cards and step items)."""
    html = page_text(response)
    start = html.index(f'id="{element_id}"')
    tag_start = html.rindex("<", 0, start)
    tag = re.match(r"<(\w+)", html[tag_start:]).group(1)  # type: ignore[union-attr]
    depth, position = 0, tag_start
    pattern = re.compile(rf"<(/?){tag}\b[^>]*>")
    for match in pattern.finditer(html, tag_start):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return html[tag_start : match.end()]
        position = match.end()
    return html[tag_start:position]


def selected(html: str, name: str) -> list[str]:
    """The values chosen in the <select> named ``name`` within ``html``."""
    found = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert found, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"[^>]*selected', found.group(1))
