"""The automation builder's pages: the list, a new automation, the editor, and the lifecycle
buttons (publish, discard the draft, activate, pause, archive, duplicate).

The editor saves as you go: every part of the draft (name, trigger, rules, each step) is its
own form that posts, saves the draft with ``complete=False`` and comes back to the editor. On
bad input the editor is shown again with that form's errors next to its fields and the input
kept, and nothing is saved. Each form also works with htmx (the editor swaps itself in place)
and without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse

from automations.definition import MAX_STEPS, MAX_VARIANTS, definition_words, step_words
from automations.forms import (
    STEP_LABELS,
    EntryRulesForm,
    ExitRulesForm,
    NameForm,
    NewAutomationForm,
    ReentryForm,
    SendStepForm,
    StepAddForm,
    StepForm,
    TemplateOption,
    TriggerForm,
    draft_with,
    draft_with_new_step,
    draft_with_step,
    draft_without_step,
    error_lines,
    step_form,
    step_index,
    template_options,
)
from automations.models import Automation, State
from automations.reports import automation_list_stats, runs_under_way
from automations.selectors import organization_automations
from automations.services.automations import (
    activation_refusal,
    automation_activate,
    automation_archive,
    automation_create,
    automation_discard_draft,
    automation_duplicate,
    automation_pause,
    automation_publish,
    automation_update,
    has_unpublished_changes,
)
from connections.catalog import CATALOG
from connections.selectors import sending_connection
from contacts.selectors import organization_tags
from templates_sms.selectors import organization_templates
from templates_sms.views import safe_next
from tenants.access import OrganizationView
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Role

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


def tag_suggestions(organization: Any) -> list[str]:
    return [tag.name for tag in organization_tags(organization) if not tag.is_reserved]


# --- The editor ---------------------------------------------------------------------------------


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

    def get(self, request: HttpRequest, automation_id: str) -> HttpResponse:
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
        }
        if editable:
            context.update(self.editor_forms(automation, templates, bound))
        return render(self.request, "automations/editor.html", context, status=status)

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
        return redirect(safe_next(request) or editor_url(target))

    def act(self, automation: Automation) -> tuple[str, Automation]:
        raise NotImplementedError


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
    def act(self, automation: Automation) -> tuple[str, Automation]:
        resuming = automation.state == State.PAUSED
        first = automation.live_version is None
        automation_activate(automation=automation, by=self.membership.user)
        if resuming:
            return f"“{automation.name}” is active again.", automation
        published = " (version 1 published)" if first else ""
        return f"“{automation.name}” is active{published}: contacts now enter it.", automation


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
