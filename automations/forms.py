"""The builder's forms. Each one edits one part of an automation's draft: it turns what the page
posted into that part of the definition, and ``definition_clean`` (through the service) judges
the whole. Its errors name paths (``trigger.tag``, ``steps[2].variants[1].template``); each form
says which of its fields a path belongs to, so that the error shows next to that field.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.forms.boundfield import BoundField, BoundWidget

from automations.definition import (
    BRANCH_STATUSES,
    MAX_STEPS,
    MAX_VARIANTS,
    WEEKDAYS,
    Definition,
    step_words,
)
from automations.services.automations import MAX_NAME
from automations.triggers import Trigger, all_triggers
from messaging.models import Status
from templates_sms.models import SmsTemplate
from templates_sms.preview import contact_values, message_text
from templates_sms.segments import count_segments
from tenants.errors import ApplicationError
from tenants.models import Organization

TAGS_LIST = "organization-tags"  # the id of the page's <datalist> of the organization's tags
STEP_LABELS = {"send_sms": "Twilio SMS", "wait": "Wait", "branch": "Branch"}


def path_words(path: str) -> str:
    """Which part of the automation a definition path names, for an error shown elsewhere."""
    step = re.match(r"^steps\[(\d+)\]", path)
    if step:
        return f"Step {int(step.group(1)) + 1}"
    for prefix, words in (
        ("trigger", "Trigger"),
        ("entry_rules", "Entry rules"),
        ("exit_rules", "Exit rules"),
        ("reentry", "Re-entry"),
        ("steps", "Steps"),
    ):
        if path.startswith(prefix):
            return words
    return ""


def error_lines(error: ApplicationError) -> list[str]:
    """Every problem of a definition error, each said with the part it belongs to."""
    lines: list[str] = []
    for path, texts in error.fields.items():
        where = path_words(path)
        lines.extend(f"{where}: {text}" if where else text for text in texts)
    return lines or [error.message]


class DraftForm(forms.Form):
    """A form for one part of the draft. ``paths`` maps a definition path to a field."""

    paths: Mapping[str, str] = {}

    def field_for(self, path: str) -> str | None:
        return self.paths.get(path)

    def show_error(self, error: ApplicationError) -> None:
        for path, texts in error.fields.items():
            name = self.field_for(path)
            if name is not None and name in self.fields:
                for text in texts:
                    self.add_error(name, text)
            else:
                where = path_words(path)
                for text in texts:
                    self.add_error(None, f"{where}: {text}" if where else text)
        if not error.fields:
            self.add_error(None, error.message)


def hide_optional(form: forms.Form) -> None:
    """No "(optional)" on fields that only look optional: each is needed when its card, mode
    or condition is the chosen one, and the definition says so when it is missing."""
    for form_field in form.fields.values():
        form_field.hide_optional = True  # type: ignore[attr-defined]


class TagsField(forms.CharField):
    """Tag names separated by commas; each one is checked by the definition."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault("help_text", "Separate tags with commas.")
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [name.strip() for name in text.split(",") if name.strip()]

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value


def tag_input(**attrs: str) -> forms.TextInput:
    return forms.TextInput(attrs={"list": TAGS_LIST, "autocomplete": "off", **attrs})


# --- The trigger ---------------------------------------------------------------------------

# The settings each trigger type takes on a page (the trigger modules check them).
SETTINGS_FIELDS: dict[str, tuple[str, ...]] = {
    "contact_created": ("sources",),
    "tag_added": ("tag",),
    "tag_removed": ("tag",),
    "inbound_keyword": ("keywords", "match"),
}
MATCH_CHOICES = [
    ("exact", "The whole text is the keyword"),
    ("first_word", "The text starts with the keyword (JOIN NOW matches JOIN)"),
]


def source_choices() -> list[tuple[str, str]]:
    # Imported here, after the registry has loaded every trigger module: it loads them only
    # while it is empty, so importing one module first would leave the others unregistered.
    all_triggers()
    from automations.triggers.contact_created import SOURCES

    return [(s.value, s.label) for s in SOURCES]


def _setting_field(setting: str) -> forms.Field:
    if setting == "tag":
        return forms.CharField(label="Tag", required=False, max_length=64, widget=tag_input())
    if setting == "sources":
        return forms.MultipleChoiceField(
            label="Only contacts created by",
            required=False,
            choices=source_choices(),
            widget=forms.CheckboxSelectMultiple,
            help_text="None ticked: a contact created in any way.",
        )
    if setting == "keywords":
        return forms.CharField(
            label="Keywords",
            required=False,
            max_length=1000,
            help_text="Separate keywords with commas, such as JOIN, PRICES. Case does not matter.",
        )
    return forms.ChoiceField(
        label="Match",
        required=False,
        choices=MATCH_CHOICES,
        initial="exact",
        widget=forms.RadioSelect,
    )


@dataclass
class TriggerCard:
    trigger: Trigger
    radio: BoundWidget
    fields: list[BoundField]


class TriggerForm(DraftForm):
    """A trigger card to pick and its settings. Each card's settings have their own names
    (``tag_added_tag``), so that every card can show its fields in one form."""

    trigger_type = forms.ChoiceField(
        label="Trigger",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a trigger.", "invalid_choice": "Choose a trigger."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.triggers = all_triggers()
        self.fields["trigger_type"].choices = [(t.type, t.label) for t in self.triggers]  # type: ignore[attr-defined]
        for trigger in self.triggers:
            for setting in SETTINGS_FIELDS.get(trigger.type, ()):
                self.fields[f"{trigger.type}_{setting}"] = _setting_field(setting)
        hide_optional(self)

    @staticmethod
    def initial_for(trigger: Mapping[str, Any]) -> dict[str, Any]:
        kind = trigger.get("type")
        if not kind:
            return {}
        initial: dict[str, Any] = {"trigger_type": kind}
        for setting in SETTINGS_FIELDS.get(kind, ()):
            value = trigger.get(setting)
            initial[f"{kind}_{setting}"] = (
                ", ".join(value or []) if setting == "keywords" else value
            )
        return initial

    def trigger(self) -> dict[str, Any]:
        kind = self.cleaned_data["trigger_type"]
        data: dict[str, Any] = {"type": kind}
        for setting in SETTINGS_FIELDS.get(kind, ()):
            data[setting] = self.cleaned_data.get(f"{kind}_{setting}")
        return data

    def field_for(self, path: str) -> str | None:
        if path == "name":
            return "name"
        if not path.startswith("trigger"):
            return None
        kind = self.data.get(self.add_prefix("trigger_type"), "")
        setting = path.removeprefix("trigger").removeprefix(".")
        name = f"{kind}_{setting}"
        return name if setting and name in self.fields else "trigger_type"

    def cards(self) -> list[TriggerCard]:
        radios = {str(radio.data["value"]): radio for radio in self["trigger_type"]}
        return [
            TriggerCard(
                trigger=trigger,
                radio=radios[trigger.type],
                fields=[self[f"{trigger.type}_{s}"] for s in SETTINGS_FIELDS.get(trigger.type, ())],
            )
            for trigger in self.triggers
        ]


class NewAutomationForm(TriggerForm):
    name = forms.CharField(label="Name", max_length=MAX_NAME)
    field_order = ["name", "trigger_type"]


class NameForm(DraftForm):
    name = forms.CharField(label="Name", max_length=MAX_NAME)
    paths = {"name": "name"}


# --- Rules -----------------------------------------------------------------------------------


class EntryRulesForm(DraftForm):
    has_all_tags = TagsField(label="Has all of these tags", widget=tag_input())
    has_any_tags = TagsField(label="Has at least one of these tags", widget=tag_input())
    lacks_tags = TagsField(label="Has none of these tags", widget=tag_input())
    custom_fields = forms.CharField(
        label="Custom fields equal",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: field = value, such as plan = pro.",
    )
    paths = {
        "entry_rules.has_all_tags": "has_all_tags",
        "entry_rules.has_any_tags": "has_any_tags",
        "entry_rules.lacks_tags": "lacks_tags",
        "entry_rules.custom_fields": "custom_fields",
    }

    @staticmethod
    def initial_for(rules: Mapping[str, Any]) -> dict[str, Any]:
        custom = rules.get("custom_fields") or {}
        return {
            "has_all_tags": rules.get("has_all_tags", []),
            "has_any_tags": rules.get("has_any_tags", []),
            "lacks_tags": rules.get("lacks_tags", []),
            "custom_fields": "\n".join(f"{k} = {v}" for k, v in custom.items()),
        }

    def clean_custom_fields(self) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for line in self.cleaned_data["custom_fields"].splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"“{line.strip()}”: write field = value.")
            pairs[key.strip()] = value.strip()
        return pairs

    def rules(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in self.fields}


class ExitRulesForm(DraftForm):
    on_reply = forms.BooleanField(label="The contact replies", required=False)
    on_tag_added = TagsField(label="The contact gains one of these tags", widget=tag_input())
    on_trigger_tag_removed = forms.BooleanField(
        label="The contact loses the trigger's tag", required=False
    )
    paths = {
        "exit_rules.on_reply": "on_reply",
        "exit_rules.on_tag_added": "on_tag_added",
        "exit_rules.on_trigger_tag_removed": "on_trigger_tag_removed",
    }

    def rules(self) -> dict[str, Any]:
        return {
            "on_reply": self.cleaned_data["on_reply"],
            "on_tag_added": self.cleaned_data["on_tag_added"],
            "on_trigger_tag_removed": self.cleaned_data["on_trigger_tag_removed"],
        }


class ReentryForm(DraftForm):
    policy = forms.ChoiceField(
        label="A contact can enter",
        widget=forms.RadioSelect,
        choices=[
            ("once", "Once: at most once ever"),
            ("every_time", "Every time the trigger fires"),
            ("after_days", "Again, some days after entering"),
        ],
    )
    days = forms.IntegerField(
        label="Days before entering again", required=False, min_value=1, max_value=3650
    )
    paths = {"reentry.policy": "policy", "reentry.days": "days", "reentry": "policy"}

    def reentry(self) -> dict[str, Any]:
        policy = self.cleaned_data["policy"]
        if policy == "after_days":
            return {"policy": policy, "days": self.cleaned_data["days"]}
        return {"policy": policy}


# --- Steps -------------------------------------------------------------------------------------


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


# --- Changing the draft's steps --------------------------------------------------------------


def new_step(step_type: str, step_id: str) -> dict[str, Any]:
    if step_type == "send_sms":
        return {"id": step_id, "type": step_type, "template": None, "respect_quiet_hours": True}
    if step_type == "wait":
        return {"id": step_id, "type": step_type, "duration": {"days": 1}}
    return {
        "id": step_id,
        "type": step_type,
        "if": {"replied": True},
        "then": "end",
        "else": "continue",
    }


def next_step_id(steps: Sequence[Mapping[str, Any]], taken: Sequence[str] = ()) -> str:
    """``s<n>`` after the highest such id of the draft and of ``taken`` (the live version's),
    so that a removed step's id does not come back as a different step in the next version:
    the reports of both versions keep telling their steps apart."""
    ids = [str(s["id"]) for s in steps] + list(taken)
    numbers = [int(m.group(1)) for i in ids if (m := re.match(r"^s(\d+)$", i))]
    return f"s{max(numbers, default=0) + 1}"


def step_index(draft: Definition, step_id: str) -> int | None:
    return next((n for n, s in enumerate(draft["steps"]) if s["id"] == step_id), None)


def draft_with(draft: Definition, **parts: Any) -> Definition:
    changed = copy.deepcopy(draft)
    changed.update(parts)
    return changed


def draft_with_step(draft: Definition, index: int, step: dict[str, Any]) -> Definition:
    steps = copy.deepcopy(draft["steps"])
    steps[index] = step
    return draft_with(draft, steps=steps)


def draft_with_new_step(
    draft: Definition, step_type: str, after: str, taken: Sequence[str] = ()
) -> tuple[Definition, str]:
    """The draft with a new step of that type after the step ``after`` (at the end for "").
    Raises ``ApplicationError`` when the draft is full or that step is not there."""
    steps = copy.deepcopy(draft["steps"])
    if len(steps) >= MAX_STEPS:
        raise ApplicationError(f"An automation has at most {MAX_STEPS} steps.")
    position = len(steps)
    if after:
        found = step_index(draft, after)
        if found is None:
            raise ApplicationError("That step is no longer in the draft.")
        position = found + 1
    step_id = next_step_id(steps, taken)
    steps.insert(position, new_step(step_type, step_id))
    return draft_with(draft, steps=steps), step_id


def draft_without_step(draft: Definition, step_id: str) -> Definition:
    """The draft without that step. A branch that jumps to it must be changed first: it is
    refused rather than pointed elsewhere behind the person's back."""
    for n, step in enumerate(draft["steps"]):
        if step["type"] == "branch" and step_id in (step.get("then"), step.get("else")):
            raise ApplicationError(
                f"Step {n + 1} (a branch) goes to this step: change where it goes first."
            )
    steps = [copy.deepcopy(s) for s in draft["steps"] if s["id"] != step_id]
    return draft_with(draft, steps=steps)
