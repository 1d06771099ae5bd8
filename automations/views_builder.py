"""The automation editor. It saves as you go: every part of the draft (name, trigger, rules,
each step) is its own form that posts, saves the draft with ``complete=False`` and comes back
to the editor. On bad input the editor is shown again with that form's errors next to its
fields and the input kept, and nothing is saved. Each form also works with htmx (the editor
swaps itself in place) and without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from automations.definition import MAX_STEPS, MAX_VARIANTS, definition_words, step_words
from automations.forms.base import error_lines
from automations.forms.drafts import (
    draft_with,
    draft_with_new_step,
    draft_with_step,
    draft_without_step,
    step_index,
)
from automations.forms.rules import EntryRulesForm, ExitRulesForm, NameForm, ReentryForm
from automations.forms.steps import (
    STEP_LABELS,
    SendStepForm,
    StepAddForm,
    StepForm,
    TemplateOption,
    step_form,
    template_options,
)
from automations.forms.trigger import TriggerForm
from automations.models import Automation, State
from automations.services.automations import (
    activation_refusal,
    automation_update,
    has_unpublished_changes,
)
from automations.views import AutomationView, editor_url, tag_suggestions
from automations.views_webhook import webhook_card
from connections.catalog import CATALOG
from connections.selectors import sending_connection
from templates_sms.selectors import organization_templates
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Role


@dataclass
class StepCard:
    number: int
    step: dict[str, Any]
    words: str
    form: StepForm
    chosen: list[TemplateOption] = field(default_factory=list)
    missing_template: bool = False
    notice: str = ""


@dataclass(frozen=True)
class Action:
    """An entry of the action picker: an integration of the Connection Center's catalog."""

    name: str
    step_type: str
    ready: bool


class EditorView(AutomationView):
    """Shows the editor; its subclasses save one part of the draft."""

    def get(self, request: HttpRequest, automation_id: str, step_id: str = "") -> HttpResponse:
        """The editor; a step's save and remove URLs show it too (a reload or an opened link
        after a form's answer), changing nothing."""
        return self.render_editor(self.get_automation(automation_id))

    def render_editor(
        self,
        automation: Automation,
        bound: dict[str, forms.Form] | None = None,
        status: int = 200,
    ) -> HttpResponse:
        bound = bound or {}
        draft = automation.draft
        templates = template_options(self.organization, organization_templates(self.organization))
        names = {t.id: t.name for t in templates}
        editable = self.can(Role.MARKETER) and automation.state != State.ARCHIVED
        trigger_type = (draft.get("trigger") or {}).get("type", "")
        context: dict[str, Any] = {
            "automation": automation,
            "draft": draft,
            "words": definition_words(draft, names) if trigger_type else [],
            "can_write": self.can(Role.MARKETER),
            "editable": editable,
            "unpublished": has_unpublished_changes(automation),
            "refusal": activation_refusal(automation),
            "htmx": self.htmx,
            "webhook": webhook_card(automation, can_write=self.can(Role.MARKETER)),
        }
        if editable:
            context.update(self.editor_forms(automation, templates, bound))
        response = render(self.request, "automations/editor.html", context, status=status)
        if context["webhook"] and context["webhook"].shown:
            add_never_cache_headers(response)  # the page shows the webhook's secret
        return response

    def editor_forms(
        self,
        automation: Automation,
        templates: list[TemplateOption],
        bound: dict[str, forms.Form],
    ) -> dict[str, Any]:
        draft = automation.draft
        trigger = draft.get("trigger") or {}
        forms_: dict[str, forms.Form] = {
            "name_form": NameForm(initial={"name": automation.name}),
            "trigger_form": TriggerForm(initial=TriggerForm.initial_for(trigger)),
            "entry_form": EntryRulesForm(initial=EntryRulesForm.initial_for(draft["entry_rules"])),
            "exit_form": ExitRulesForm(initial=draft["exit_rules"]),
            "reentry_form": ReentryForm(initial=draft["reentry"]),
        }
        forms_.update({k: v for k, v in bound.items() if not k.startswith("step:")})
        by_id = {t.id: t for t in templates}
        names = {t.id: t.name for t in templates}
        returning = self.returning(automation, by_id)
        cards = []
        for n, step in enumerate(draft["steps"]):
            initial, notice = returning.get(step["id"], ({}, ""))
            form = bound.get(f"step:{step['id']}")
            if not isinstance(form, StepForm):
                form = step_form(draft, n, templates, initial=initial)
            wanted = [step.get("template")] + [v["template"] for v in step.get("variants", [])]
            wanted = [w for w in wanted if w]
            cards.append(
                StepCard(
                    number=n + 1,
                    step=step,
                    words=step_words(step, names),
                    form=form,
                    chosen=[by_id[w] for w in wanted if w in by_id],
                    missing_template=any(w not in by_id for w in wanted),
                    notice=notice,
                )
            )
        ready = sending_connection(self.organization) is not None
        return {
            **forms_,
            "cards": cards,
            "actions": [Action(i.name, "send_sms", ready) for i in CATALOG],
            "flow_steps": [("wait", STEP_LABELS["wait"]), ("branch", STEP_LABELS["branch"])],
            "room": len(draft["steps"]) < MAX_STEPS,
            "max_steps": MAX_STEPS,
            "tags": tag_suggestions(self.organization),
            "has_tag_trigger": trigger.get("type") == "tag_added"
            or draft["exit_rules"]["on_trigger_tag_removed"],
            "templates": templates,
        }

    def returning(
        self, automation: Automation, templates: dict[str, TemplateOption]
    ) -> dict[str, tuple[dict[str, Any], str]]:
        """Back from the template editor (``?step=s2&template=<new id>``, ``&slot=1`` for a
        row of an A/B split): that step's form with the new template chosen, to be saved."""
        step_id = self.request.GET.get("step", "")
        chosen = templates.get(self.request.GET.get("template", ""))
        found = step_index(automation.draft, step_id)
        if chosen is None or found is None:
            return {}
        step = automation.draft["steps"][found]
        if step["type"] != "send_sms":
            return {}
        slot = self.request.GET.get("slot", "")
        initial: dict[str, Any]
        if slot.isdigit() and int(slot) < MAX_VARIANTS:
            initial = {"mode": "split", f"variant_{slot}_template": chosen.id}
            if not step.get("variants") and step.get("template") and slot != "0":
                initial["variant_0_template"] = step["template"]
        else:
            initial = {"mode": "single", "template": chosen.id}
        return {step_id: (initial, f"“{chosen.name}” is chosen here: save the step to keep it.")}

    # Saving

    def save(
        self,
        automation: Automation,
        form: forms.Form,
        *,
        draft: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> bool:
        """Saves the draft (and/or name); on bad input shows the errors on ``form``."""
        error = self.save_or_error(automation, draft=draft, name=name)
        if error is None:
            return True
        show_error = getattr(form, "show_error", None)
        if show_error is not None:
            show_error(error)
        else:
            form.add_error(None, " ".join(error_lines(error)))
        return False

    def save_or_error(
        self,
        automation: Automation,
        *,
        draft: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> ApplicationError | None:
        try:
            automation_update(
                automation=automation,
                name=name,
                definition=draft,
                complete=False,
                by=self.membership.user,
            )
        except ApplicationError as error:
            if isinstance(error, ConflictError) and not error.fields:
                raise  # the automation is archived: see dispatch
            automation.refresh_from_db()
            return error
        return None

    def saved(self, automation: Automation, anchor: str = "") -> HttpResponse:
        messages.success(self.request, "Draft saved.")
        return redirect(editor_url(automation, anchor))

    def refused(self, automation: Automation, text: str, anchor: str = "") -> HttpResponse:
        messages.error(self.request, text)
        return redirect(editor_url(automation, anchor))

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return super().dispatch(request, *args, **kwargs)
        except ConflictError as error:  # an archived automation is not edited
            messages.error(request, error.message)
            return redirect("automation_edit", kwargs["automation_id"])


class PartSaveView(EditorView):
    """Saves one part of the draft from one form (``form_class``)."""

    form_class: type[forms.Form] = NameForm
    key = ""
    anchor = ""

    def post(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        form = self.form_class(request.POST)
        if form.is_valid() and self.save_part(automation, form):
            return self.saved(automation, self.anchor)
        return self.render_editor(automation, bound={self.key: form}, status=400)

    def save_part(self, automation: Automation, form: Any) -> bool:
        raise NotImplementedError


class NameSaveView(PartSaveView):
    form_class, key, anchor = NameForm, "name_form", "name"

    def save_part(self, automation: Automation, form: NameForm) -> bool:
        return self.save(automation, form, name=form.cleaned_data["name"])


class TriggerSaveView(PartSaveView):
    form_class, key, anchor = TriggerForm, "trigger_form", "trigger"

    def save_part(self, automation: Automation, form: TriggerForm) -> bool:
        return self.save(
            automation, form, draft=draft_with(automation.draft, trigger=form.trigger())
        )


class EntryRulesSaveView(PartSaveView):
    form_class, key, anchor = EntryRulesForm, "entry_form", "entry-rules"

    def save_part(self, automation: Automation, form: EntryRulesForm) -> bool:
        draft = draft_with(automation.draft, entry_rules=form.rules())
        return self.save(automation, form, draft=draft)


class ExitRulesSaveView(PartSaveView):
    form_class, key, anchor = ExitRulesForm, "exit_form", "exit-rules"

    def save_part(self, automation: Automation, form: ExitRulesForm) -> bool:
        return self.save(
            automation, form, draft=draft_with(automation.draft, exit_rules=form.rules())
        )


class ReentrySaveView(PartSaveView):
    form_class, key, anchor = ReentryForm, "reentry_form", "reentry"

    def save_part(self, automation: Automation, form: ReentryForm) -> bool:
        return self.save(
            automation, form, draft=draft_with(automation.draft, reentry=form.reentry())
        )


class StepSaveView(EditorView):
    """Saves one step. Its "Create new SMS template" buttons save it too, then open the
    template editor, which comes back here with the new template chosen in this step."""

    def post(self, request: HttpRequest, automation_id: str, step_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        draft = automation.draft
        found = step_index(draft, step_id)
        if found is None:
            raise Http404
        templates = template_options(self.organization, organization_templates(self.organization))
        form = step_form(draft, found, templates, data=request.POST)
        then = request.POST.get("then", "")
        new_template = then == "new_template" or then.startswith("new_template:")
        if form.is_valid():
            step = form.step()
        elif new_template and isinstance(form, SendStepForm) and form.short_of_a_split():
            # The split's second template is the one about to be created: keep the first.
            step = form.single_step()
        else:
            return self.render_editor(automation, bound={f"step:{step_id}": form}, status=400)
        if not self.save(automation, form, draft=draft_with_step(draft, found, step)):
            return self.render_editor(automation, bound={f"step:{step_id}": form}, status=400)
        if new_template:
            return self.to_template_editor(automation, step_id, then.partition(":")[2])
        return self.saved(automation, f"step-{step_id}")

    def to_template_editor(self, automation: Automation, step_id: str, slot: str) -> HttpResponse:
        back = {"step": step_id, **({"slot": slot} if slot.isdigit() else {})}
        next_url = f"{editor_url(automation)}?{urlencode(back)}#step-{step_id}"
        url = f"{reverse('template_create')}?{urlencode({'next': next_url})}"
        if self.htmx:  # a full page change, not a swap
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)


class StepAddView(EditorView):
    def post(self, request: HttpRequest, automation_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        form = StepAddForm(request.POST)
        if not form.is_valid():
            return self.refused(automation, "Choose a kind of step to add.", "steps")
        step_type, after = form.cleaned_data["type"], form.cleaned_data["after"]
        if step_type == "send_sms" and sending_connection(self.organization) is None:
            return self.refused(
                automation,
                "Twilio SMS needs a working Twilio connection: connect one in the Connection "
                "Center first.",
                "steps",
            )
        live = automation.live_version
        taken = [s["id"] for s in live.definition["steps"]] if live else []
        try:
            draft, step_id = draft_with_new_step(automation.draft, step_type, after, taken)
        except ApplicationError as error:
            return self.refused(automation, error.message, "steps")
        refused = self.save_or_error(automation, draft=draft)
        if refused is not None:
            return self.refused(automation, " ".join(error_lines(refused)), "steps")
        number = len(draft["steps"]) if not after else (step_index(draft, step_id) or 0) + 1
        messages.success(request, f"Added step {number}: {STEP_LABELS[step_type]}.")
        return redirect(editor_url(automation, f"step-{step_id}"))


class StepRemoveView(EditorView):
    def post(self, request: HttpRequest, automation_id: str, step_id: str) -> HttpResponse:
        automation = self.get_automation(automation_id)
        found = step_index(automation.draft, step_id)
        if found is None:
            raise Http404
        try:
            draft = draft_without_step(automation.draft, step_id)
        except ApplicationError as error:
            return self.refused(automation, error.message, f"step-{step_id}")
        refused = self.save_or_error(automation, draft=draft)
        if refused is not None:
            return self.refused(automation, " ".join(error_lines(refused)), "steps")
        messages.success(request, f"Removed step {found + 1}.")
        return redirect(editor_url(automation, "steps"))
