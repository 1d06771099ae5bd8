"""SMS templates: the library, the editor with its live counter and preview."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from contacts.models import Contact
from templates_sms.forms import TemplateForm
from templates_sms.models import SmsTemplate
from templates_sms.preview import SAMPLE, template_preview
from templates_sms.segments import REPLACEMENTS
from templates_sms.selectors import organization_templates, preview_contacts
from templates_sms.services import (
    template_create,
    template_delete,
    template_duplicate,
    template_update,
)
from tenants.access import OrganizationView
from tenants.errors import ApplicationError
from tenants.models import Role
from tenants.views.forms import apply_error


def safe_next(request: HttpRequest) -> str:
    """The editor's ``next``: a URL of this site only, never another host."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return ""


def with_template(url: str, template: SmsTemplate) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"template": template.public_id})) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class TemplateListView(OrganizationView):
    def get(self, request: HttpRequest) -> HttpResponse:
        page = Paginator(organization_templates(self.organization), 50).get_page(
            request.GET.get("page")
        )
        rows = []
        for template in page.object_list:
            preview = template_preview(
                organization=self.organization,
                body=template.body,
                append_footer=template.append_opt_out_footer,
            )
            rows.append((template, preview.info))
        context = {"page": page, "rows": rows, "can_write": self.can(Role.MARKETER), "query": ""}
        return render(request, "templates_sms/list.html", context)


class TemplateEditorView(OrganizationView):
    read_role = Role.MARKETER
    template_name = "templates_sms/editor.html"

    def render_editor(
        self, form: TemplateForm, template: SmsTemplate | None, status: int = 200
    ) -> HttpResponse:
        context = {
            "form": form,
            "template": template,
            "next": safe_next(self.request),
            "contacts": preview_contacts(self.organization),
            "editor_config": json.dumps(
                {
                    "sample": {**SAMPLE, "organization.name": self.organization.name},
                    "footer": self.organization.opt_out_footer,
                    "replacements": REPLACEMENTS,
                    "preview_url": reverse("template_preview"),
                }
            ),
        }
        return render(self.request, self.template_name, context, status=status)

    def saved(self, template: SmsTemplate, warnings: list[str], verb: str) -> HttpResponse:
        for warning in warnings:
            messages.warning(self.request, warning)
        messages.success(self.request, f"Template “{template.name}” {verb}.")
        target = safe_next(self.request)
        if target:
            return redirect(with_template(target, template))
        return redirect("template_list")


class TemplateCreateView(TemplateEditorView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_editor(TemplateForm(), None)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                saved = template_create(
                    organization=self.organization, by=self.membership.user, **form.cleaned_data
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                return self.saved(saved.template, saved.warnings, "created")
        return self.render_editor(form, None, status=400)


class TemplateEditView(TemplateEditorView):
    def get(self, request: HttpRequest, template_id: str) -> HttpResponse:
        template = self.get_scoped_object(SmsTemplate, template_id)
        initial = {
            "name": template.name,
            "body": template.body,
            "media_url": template.media_url,
            "append_opt_out_footer": template.append_opt_out_footer,
        }
        return self.render_editor(TemplateForm(initial=initial), template)

    def post(self, request: HttpRequest, template_id: str) -> HttpResponse:
        template = self.get_scoped_object(SmsTemplate, template_id)
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                saved = template_update(
                    template=template, by=self.membership.user, **form.cleaned_data
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                return self.saved(saved.template, saved.warnings, "saved")
        return self.render_editor(form, template, status=400)


class TemplatePreviewView(OrganizationView):
    """The editor's preview panel (a fragment), for a chosen contact or the sample one."""

    read_role = Role.MARKETER
    write_role = Role.MARKETER

    def post(self, request: HttpRequest) -> HttpResponse:
        contact = None
        if request.POST.get("contact"):
            contact = self.get_scoped_object(Contact, request.POST["contact"])
        context: dict[str, Any] = {"contact": contact}
        try:
            context["preview"] = template_preview(
                organization=self.organization,
                body=request.POST.get("body", "")[:2000],
                append_footer=request.POST.get("append_opt_out_footer") in ("on", "true", "1"),
                contact=contact,
            )
        except ApplicationError as exc:
            context["error"] = exc.summary()
        return render(request, "templates_sms/_preview.html", context)


class TemplateDuplicateView(OrganizationView):
    def post(self, request: HttpRequest, template_id: str) -> HttpResponse:
        template = self.get_scoped_object(SmsTemplate, template_id)
        copy = template_duplicate(template=template, by=self.membership.user)
        messages.success(request, f"Created “{copy.name}”.")
        return redirect("template_edit", copy.public_id)


class TemplateDeleteView(OrganizationView):
    read_role = Role.MARKETER

    def get(self, request: HttpRequest, template_id: str) -> HttpResponse:
        template = self.get_scoped_object(SmsTemplate, template_id)
        context = {
            "title": f"Delete “{template.name}”?",
            "message": "The template is deleted. Messages already sent with it keep their text.",
            "button": "Delete template",
            "action": request.path,
            "cancel_url": reverse("template_list"),
            "template": template,
        }
        return render(request, "templates_sms/delete.html", context)

    def post(self, request: HttpRequest, template_id: str) -> HttpResponse:
        template = self.get_scoped_object(SmsTemplate, template_id)
        try:
            template_delete(template=template)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"“{template.name}” was deleted.")
        return redirect("template_list")
