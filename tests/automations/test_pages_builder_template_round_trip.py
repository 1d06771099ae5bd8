"""CREATE NEW SMS TEMPLATE from a send step: the step is saved, the template editor opens with
``next`` back to the editor, and on return the new template is chosen in that same step."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from templates_sms.models import SmsTemplate
from tests.automations.page_helpers import (
    add_template,
    draft_automation,
    edit_path,
    fresh,
    section,
    selected,
    send_data,
    send_step,
    snapshot,
    step_path,
    visible,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db

WAIT = {"id": "s2", "type": "wait", "duration": {"days": 2}}


def create_template(client, editor_link, name="Spring promo"):
    """Follows the link to the template editor and creates a template there."""
    page = client.get(editor_link)
    assert page.status_code == 200
    next_url = parse_qs(urlsplit(editor_link).query)["next"][0]
    assert f'name="next" value="{next_url}"' in page_text(page)
    body = {"name": name, "body": "Spring is here, {{ first_name }}!", "media_url": ""}
    response = client.post(
        "/templates/new/", {**body, "append_opt_out_footer": "on", "next": next_url}
    )
    assert response.status_code == 302
    return SmsTemplate.objects.get(name=name), response["Location"]


def test_it_saves_the_step_opens_the_template_editor_and_comes_back_with_it_chosen(personas):
    automation = draft_automation(
        personas.org, steps=[send_step(None), WAIT, send_step(None, "s3")]
    )
    client = personas.client("marketer")

    leave = client.post(
        step_path(automation, "s3"),
        {**send_data("s3", respect_quiet_hours=""), "then": "new_template"},
    )

    assert leave.status_code == 302
    location = urlsplit(leave["Location"])
    assert location.path == "/templates/new/"
    back = f"{edit_path(automation)}?step=s3#step-s3"
    assert parse_qs(location.query) == {"next": [back]}
    # The draft is kept, with what the step's form held (quiet hours turned off).
    draft = fresh(automation).draft
    assert draft["steps"][2] == {
        "id": "s3",
        "type": "send_sms",
        "template": None,
        "respect_quiet_hours": False,
    }
    assert draft["steps"][1] == WAIT

    template, returned = create_template(client, leave["Location"])

    assert returned == f"{edit_path(automation)}?step=s3&template={template.public_id}#step-s3"
    editor = client.get(returned)
    assert editor.status_code == 200
    step = section(editor, "step-s3")
    assert selected(step, "s3-template") == [str(template.public_id)]
    assert "“Spring promo” is chosen here: save the step to keep it." in step
    assert "data-save-now" in step
    assert selected(section(editor, "step-s1"), "s1-template") == [""]
    assert "Template “Spring promo” created." in visible(editor)

    saved = client.post(
        step_path(automation, "s3"), send_data("s3", template=str(template.public_id))
    )

    assert saved.status_code == 302
    assert fresh(automation).draft["steps"][2]["template"] == str(template.public_id)
    assert fresh(automation).draft["steps"][0]["template"] is None


def test_it_keeps_the_first_template_of_a_split_while_the_second_is_created(personas):
    first = add_template(personas.org, "First")
    automation = draft_automation(personas.org, steps=[send_step(None)])
    client = personas.client("marketer")

    leave = client.post(
        step_path(automation, "s1"),
        {
            **send_data(
                "s1", mode="split", variant_0_template=str(first.public_id), variant_0_weight="60"
            ),
            "then": "new_template:1",
        },
    )

    assert leave.status_code == 302
    assert parse_qs(urlsplit(leave["Location"]).query)["next"] == [
        f"{edit_path(automation)}?step=s1&slot=1#step-s1"
    ]
    assert fresh(automation).draft["steps"][0]["template"] == str(first.public_id)

    second, returned = create_template(client, leave["Location"], "Second")
    step = section(client.get(returned), "step-s1")

    assert re.search(r'value="split"[^>]*checked', step)
    assert selected(step, "s1-variant_0_template") == [str(first.public_id)]
    assert selected(step, "s1-variant_1_template") == [str(second.public_id)]

    client.post(
        step_path(automation, "s1"),
        send_data(
            "s1",
            mode="split",
            variant_0_template=str(first.public_id),
            variant_0_weight="60",
            variant_1_template=str(second.public_id),
            variant_1_weight="40",
        ),
    )
    assert fresh(automation).draft["steps"][0]["variants"] == [
        {"template": str(first.public_id), "weight": 60},
        {"template": str(second.public_id), "weight": 40},
    ]


def test_it_does_not_leave_for_the_template_editor_on_bad_input(personas):
    automation = draft_automation(personas.org, steps=[send_step(None)])
    before = snapshot()

    response = personas.client("marketer").post(
        step_path(automation, "s1"),
        {**send_data("s1", template="not-a-template"), "then": "new_template"},
    )

    assert response.status_code == 400
    assert "Select a valid choice." in section(response, "step-s1")
    assert snapshot() == before


def test_it_asks_htmx_for_a_full_page_change_to_the_template_editor(personas):
    automation = draft_automation(personas.org, steps=[send_step(None)])

    response = personas.client("marketer").post(
        step_path(automation, "s1"),
        {**send_data("s1"), "then": "new_template"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 204
    assert urlsplit(response["HX-Redirect"]).path == "/templates/new/"


@pytest.mark.parametrize("where", ["other-organization", "unknown-step", "wait-step"])
def test_it_ignores_a_return_it_cannot_place(personas, where):
    mine = add_template(personas.org, "Mine")
    theirs = add_template(personas.other_org, "Theirs")
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT])
    template, step_id = {
        "other-organization": (theirs, "s1"),
        "unknown-step": (mine, "s9"),
        "wait-step": (mine, "s2"),
    }[where]

    editor = personas.client("marketer").get(
        f"{edit_path(automation)}?step={step_id}&template={template.public_id}"
    )

    assert editor.status_code == 200
    assert selected(section(editor, "step-s1"), "s1-template") == [""]
    assert "is chosen here" not in visible(editor)
    assert "Theirs" not in visible(editor)
