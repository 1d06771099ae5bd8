"""A step's form for each kind of step (Twilio SMS, wait, branch), and the template
drop-down's options with their cost and text for the sample contact."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.forms.boundfield import BoundField

from automations.definition import BRANCH_STATUSES, MAX_VARIANTS, WEEKDAYS, Definition, step_words
from automations.forms.base import DraftForm, hide_optional, tag_input
from messaging.models import Status
from templates_sms.models import SmsTemplate
from templates_sms.preview import contact_values, message_text
from templates_sms.segments import count_segments
from tenants.errors import ApplicationError
from tenants.models import Organization

STEP_LABELS = {"send_sms": "Twilio SMS", "wait": "Wait", "branch": "Branch"}


@dataclass(frozen=True)
class TemplateOption:
    """A template of the drop-down: its cost and text for the sample contact."""

    id: str
    name: str
    segments: int
    encoding: str
    text: str

    @property
    def label(self) -> str:
        word = "segment" if self.segments == 1 else "segments"
        return f"{self.name} · {self.segments} {word}"


def template_options(
    organization: Organization, templates: Iterable[SmsTemplate]
) -> list[TemplateOption]:
    values = contact_values(None, organization)
    options = []
    for template in templates:
        try:
            text = message_text(
                body=template.body,
                append_footer=template.append_opt_out_footer,
                organization=organization,
                values=values,
            )
        except ApplicationError:  # a merge field the renderer no longer knows
            text = template.body
        info = count_segments(text)
        options.append(
            TemplateOption(
                str(template.public_id), template.name, info.segments, info.encoding, text
            )
        )
    return options


@dataclass
class StepContext:
    """What a step's form offers: the templates, and the steps a branch may jump to."""

    templates: list[TemplateOption] = field(default_factory=list)
    later: list[tuple[str, str]] = field(default_factory=list)


class StepForm(DraftForm):
    def __init__(
        self,
        data: Any = None,
        *,
        step: Mapping[str, Any],
        index: int,
        context: StepContext,
        initial: dict[str, Any] | None = None,
    ) -> None:
        self.step_id = str(step["id"])
        self.index = index
        self.context = context
        super().__init__(
            data, prefix=self.step_id, initial={**self.initial_for(step), **(initial or {})}
        )
        hide_optional(self)

    def initial_for(self, step: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def body(self) -> dict[str, Any]:
        raise NotImplementedError

    def step(self) -> dict[str, Any]:
        return {"id": self.step_id, "type": self.step_type, **self.body()}

    step_type = ""
    suffixes: Mapping[str, str] = {}

    def field_for(self, path: str) -> str | None:
        here = f"steps[{self.index}]"
        if not path.startswith(here):
            return None
        return self.suffix_field(path.removeprefix(here))

    def suffix_field(self, suffix: str) -> str | None:
        return self.suffixes.get(suffix)


def template_choices(context: StepContext) -> list[tuple[str, str]]:
    return [("", "Choose a template…")] + [(t.id, t.label) for t in context.templates]


class SendStepForm(StepForm):
    step_type = "send_sms"
    mode = forms.ChoiceField(
        label="Send",
        widget=forms.RadioSelect(attrs={"data-no-autosave": ""}),
        choices=[("single", "One template"), ("split", f"An A/B split of 2 to {MAX_VARIANTS}")],
        initial="single",
    )
    template = forms.ChoiceField(label="SMS template", required=False)
    respect_quiet_hours = forms.BooleanField(
        label="Respect quiet hours",
        required=False,
        initial=True,
        help_text="Outside the organization's sending hours the message waits until they open "
        "again, in the contact's time zone.",
    )
    suffixes = {".template": "template", ".respect_quiet_hours": "respect_quiet_hours"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = template_choices(self.context)
        self.fields["template"].choices = choices  # type: ignore[attr-defined]
        for n in range(MAX_VARIANTS):
            self.fields[f"variant_{n}_template"] = forms.ChoiceField(
                label=f"Template {chr(ord('A') + n)}", required=False, choices=choices
            )
            self.fields[f"variant_{n}_weight"] = forms.IntegerField(
                label="Weight", required=False, min_value=1, max_value=100, initial=50
            )
        self.rows: list[int] = []  # the filled variant rows, in order
        hide_optional(self)

    def initial_for(self, step: Mapping[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "respect_quiet_hours": step.get("respect_quiet_hours", True) is not False
        }
        variants = step.get("variants") or []
        if variants:
            initial["mode"] = "split"
            for n, variant in enumerate(variants[:MAX_VARIANTS]):
                initial[f"variant_{n}_template"] = variant.get("template") or ""
                initial[f"variant_{n}_weight"] = variant.get("weight", 50)
        else:
            initial["mode"] = "single"
            initial["template"] = step.get("template") or ""
        return initial

    def variant_rows(self) -> list[tuple[BoundField, BoundField]]:
        return [
            (self[f"variant_{n}_template"], self[f"variant_{n}_weight"])
            for n in range(MAX_VARIANTS)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == "split":
            self.rows = [n for n in range(MAX_VARIANTS) if data.get(f"variant_{n}_template")]
            if len(self.rows) < 2:
                empty = next(n for n in range(MAX_VARIANTS) if n not in self.rows)
                self.add_error(
                    f"variant_{empty}_template",
                    "An A/B split needs at least two templates: choose another one.",
                )
        return data

    def body(self) -> dict[str, Any]:
        data = self.cleaned_data
        quiet = bool(data.get("respect_quiet_hours"))
        if data.get("mode") == "split":
            variants = [
                {
                    "template": data[f"variant_{n}_template"],
                    "weight": data.get(f"variant_{n}_weight") or 50,
                }
                for n in self.rows
            ]
            return {"variants": variants, "respect_quiet_hours": quiet}
        return {"template": data.get("template") or None, "respect_quiet_hours": quiet}

    def short_of_a_split(self) -> bool:
        """Whether the only problem is an A/B split with one template chosen so far."""
        return (
            self.cleaned_data.get("mode") == "split"
            and len(self.rows) == 1
            and len(self.errors) == 1
            and not self.non_field_errors()
        )

    def single_step(self) -> dict[str, Any]:
        """The step with the split's one chosen template, while another is being created."""
        return {
            "id": self.step_id,
            "type": self.step_type,
            "template": self.cleaned_data[f"variant_{self.rows[0]}_template"],
            "respect_quiet_hours": bool(self.cleaned_data.get("respect_quiet_hours")),
        }

    def suffix_field(self, suffix: str) -> str | None:
        variant = re.match(r"^\.variants\[(\d+)\]\.(template|weight)$", suffix)
        if variant:
            n = int(variant.group(1))
            row = self.rows[n] if n < len(self.rows) else n
            return f"variant_{row}_{variant.group(2)}"
        if suffix == ".variants":
            return "variant_0_template"
        return super().suffix_field(suffix)


class WaitStepForm(StepForm):
    step_type = "wait"
    mode = forms.ChoiceField(
        label="Wait",
        widget=forms.RadioSelect(attrs={"data-no-autosave": ""}),
        choices=[("duration", "For a length of time"), ("until", "Until a time of day")],
        initial="duration",
    )
    amount = forms.IntegerField(label="For", required=False, min_value=1)
    unit = forms.ChoiceField(
        label="Unit",
        choices=[("minutes", "minutes"), ("hours", "hours"), ("days", "days")],
        initial="days",
    )
    time = forms.CharField(
        label="Until",
        required=False,
        max_length=5,
        widget=forms.TextInput(attrs={"type": "time", "placeholder": "HH:MM"}),
        help_text="24-hour time, in the contact's time zone.",
    )
    weekdays = forms.MultipleChoiceField(
        label="On",
        required=False,
        choices=[(d, d.capitalize()) for d in WEEKDAYS],
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: the next day that time comes.",
    )
    suffixes = {
        ".duration": "amount",
        ".duration.minutes": "amount",
        ".duration.hours": "amount",
        ".duration.days": "amount",
        ".until.time": "time",
        ".until.weekdays": "weekdays",
    }

    def initial_for(self, step: Mapping[str, Any]) -> dict[str, Any]:
        until = step.get("until")
        if isinstance(until, Mapping):
            return {
                "mode": "until",
                "time": until.get("time"),
                "weekdays": until.get("weekdays"),
                "amount": 1,
                "unit": "days",
            }
        [(unit, amount)] = (step.get("duration") or {"days": 1}).items()
        return {"mode": "duration", "amount": amount, "unit": unit, "time": "09:00"}

    def body(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data["mode"] == "until":
            return {"until": {"time": data.get("time") or "", "weekdays": data["weekdays"]}}
        return {"duration": {data["unit"]: data.get("amount")}}


CONDITION_CHOICES = [
    ("replied", "The contact replied"),
    ("not_replied", "The contact did not reply"),
    ("has_tag", "The contact has the tag"),
    ("lacks_tag", "The contact lacks the tag"),
    ("custom_field", "A custom field equals"),
    ("last_status_in", "The last message's status is one of"),
]


class BranchStepForm(StepForm):
    step_type = "branch"
    condition = forms.ChoiceField(label="If", choices=CONDITION_CHOICES)
    tag = forms.CharField(label="Tag", required=False, max_length=64, widget=tag_input())
    field_key = forms.CharField(label="Custom field", required=False, max_length=50)
    field_value = forms.CharField(label="Equals", required=False, max_length=1000)
    statuses = forms.MultipleChoiceField(
        label="Statuses",
        required=False,
        choices=[(s, Status(s).label) for s in BRANCH_STATUSES],
        widget=forms.CheckboxSelectMultiple,
    )
    then = forms.ChoiceField(label="Then")
    otherwise = forms.ChoiceField(label="Otherwise")
    suffixes = {
        ".if": "condition",
        ".if.has_tag": "tag",
        ".if.lacks_tag": "tag",
        ".if.custom_field": "field_key",
        ".if.last_status_in": "statuses",
        ".then": "then",
        ".else": "otherwise",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        targets = [("continue", "Go on to the next step"), ("end", "End the automation")]
        targets += [(step_id, f"Go to {words}") for step_id, words in self.context.later]
        self.fields["then"].choices = targets  # type: ignore[attr-defined]
        self.fields["otherwise"].choices = targets  # type: ignore[attr-defined]

    def initial_for(self, step: Mapping[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "then": step.get("then", "continue"),
            "otherwise": step.get("else", "continue"),
        }
        [(kind, arg)] = (step.get("if") or {"replied": True}).items()
        if kind == "replied":
            initial["condition"] = "replied" if arg else "not_replied"
        else:
            initial["condition"] = kind
        if kind in ("has_tag", "lacks_tag"):
            initial["tag"] = arg
        elif kind == "custom_field":
            initial["field_key"], initial["field_value"] = arg.get("key"), arg.get("equals")
        elif kind == "last_status_in":
            initial["statuses"] = arg
        return initial

    def body(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["condition"]
        condition: dict[str, Any]
        if kind in ("replied", "not_replied"):
            condition = {"replied": kind == "replied"}
        elif kind in ("has_tag", "lacks_tag"):
            condition = {kind: data.get("tag") or ""}
        elif kind == "custom_field":
            condition = {
                kind: {"key": data.get("field_key") or "", "equals": data.get("field_value")}
            }
        else:
            condition = {kind: data.get("statuses") or []}
        return {"if": condition, "then": data["then"], "else": data["otherwise"]}


STEP_FORMS: dict[str, type[StepForm]] = {
    "send_sms": SendStepForm,
    "wait": WaitStepForm,
    "branch": BranchStepForm,
}


def step_context(draft: Definition, index: int, templates: list[TemplateOption]) -> StepContext:
    names = {t.id: t.name for t in templates}
    later = [
        (str(step["id"]), f"step {n + 1}: {step_words(step, names)}")
        for n, step in enumerate(draft["steps"])
        if n > index
    ]
    return StepContext(templates=templates, later=later)


def step_form(
    draft: Definition,
    index: int,
    templates: list[TemplateOption],
    data: Any = None,
    initial: dict[str, Any] | None = None,
) -> StepForm:
    step = draft["steps"][index]
    form_class = STEP_FORMS[step["type"]]
    return form_class(
        data,
        step=step,
        index=index,
        context=step_context(draft, index, templates),
        initial=initial,
    )


class StepAddForm(forms.Form):
    type = forms.ChoiceField(choices=list(STEP_LABELS.items()))
    after = forms.CharField(required=False, max_length=32)
