"""Contact pages: the list (search, filters, bulk tag), detail, create, edit, delete, consent."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse

from contacts.forms import BulkTagForm, ContactForm, TagForm
from contacts.models import ConsentSource, Contact
from contacts.selectors import (
    SORTS,
    ContactFilter,
    consent_history,
    consent_state_of,
    contacts_search,
    contacts_with_consent,
    organization_tags,
)
from contacts.services.consent import consent_opt_in, consent_opt_out
from contacts.services.contacts import contact_create, contact_delete, contact_update
from contacts.services.phones import phone_display
from contacts.services.tags import contact_tags_add, contact_tags_remove, contacts_tag_bulk_add
from tenants.access import OrganizationView
from tenants.errors import ApplicationError
from tenants.models import Role
from tenants.views.forms import apply_error

PAGE_SIZE = 50


def list_filter(query: QueryDict) -> ContactFilter:
    opted_out = {"yes": True, "no": False}.get(query.get("opted_out", ""))
    sort = query.get("sort", "newest")
    return ContactFilter(
        q=query.get("q", "")[:100],
        tag=query.get("tag", "")[:64],
        opted_out=opted_out,
        sort=sort if sort in SORTS else "newest",
    )


class ContactListView(OrganizationView):
    def get(self, request: HttpRequest) -> HttpResponse:
        filters = list_filter(request.GET)
        contacts = contacts_search(self.organization, filters)
        page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
        keep = {k: v for k, v in request.GET.items() if k != "page" and v}
        context = {
            "page": page,
            "filters": filters,
            "tags": organization_tags(self.organization),
            "sorts": [
                ("newest", "Newest"),
                ("oldest", "Oldest"),
                ("name", "Name, A to Z"),
                ("-name", "Name, Z to A"),
                ("phone", "Phone"),
            ],
            "query": urlencode(keep),
            "filtered": bool(filters.q or filters.tag or filters.opted_out is not None),
            "bulk_form": BulkTagForm(),
            "can_write": self.can(Role.MARKETER),
        }
        return render(request, "contacts/list.html", context)


class ContactBulkTagView(OrganizationView):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = BulkTagForm(request.POST)
        back = reverse("contact_list") + (
            "?" + request.POST["query"] if request.POST.get("query") else ""
        )
        if not form.is_valid():
            messages.error(request, "Give a tag name and choose which contacts to tag.")
            return redirect(back)
        if form.cleaned_data["scope"] == "matching":
            selection = contacts_search(
                self.organization, list_filter(QueryDict(request.POST.get("query", "")))
            )
        else:
            ids = []
            for value in request.POST.getlist("contact"):
                try:
                    ids.append(UUID(value))
                except ValueError:
                    continue
            selection = Contact.objects.filter(public_id__in=ids)
        try:
            count = contacts_tag_bulk_add(
                organization=self.organization,
                contacts=selection,
                name=form.cleaned_data["name"],
                source="ui",
            )
        except ApplicationError as exc:
            messages.error(request, exc.summary())
        else:
            messages.success(
                request,
                f"Tagged {count} contact{'s' if count != 1 else ''} “{form.cleaned_data['name']}”.",
            )
        return redirect(back)


class ContactFormView(OrganizationView):
    read_role = Role.MARKETER  # the form is only useful to those who may submit it
    template_name = "contacts/form.html"

    def render_form(
        self, form: ContactForm, contact: Contact | None, status: int = 200
    ) -> HttpResponse:
        return render(
            self.request, self.template_name, {"form": form, "contact": contact}, status=status
        )


class ContactCreateView(ContactFormView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(ContactForm(), None)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                contact = contact_create(
                    organization=self.organization, source="ui", **form.service_data()
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"{contact} was added.")
                return redirect("contact_detail", contact.public_id)
        return self.render_form(form, None, status=400)


class ContactEditView(ContactFormView):
    def get(self, request: HttpRequest, contact_id: str) -> HttpResponse:
        contact = self.get_scoped_object(Contact, contact_id)
        return self.render_form(ContactForm.for_contact(contact), contact)

    def post(self, request: HttpRequest, contact_id: str) -> HttpResponse:
        contact = self.get_scoped_object(Contact, contact_id)
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                contact_update(contact=contact, source="ui", **form.service_data())
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, "Changes saved.")
                return redirect("contact_detail", contact.public_id)
        return self.render_form(form, contact, status=400)


class ContactDetailView(OrganizationView):
    def get(self, request: HttpRequest, contact_id: str) -> HttpResponse:
        contact = self.get_scoped_object(contacts_with_consent(self.organization), contact_id)
        state = consent_state_of(self.organization, contact.phone)
        context: dict[str, Any] = {
            "contact": contact,
            "phone_display": phone_display(contact.phone),
            "state": state,
            "history": consent_history(self.organization, contact.phone)[:50],
            "tag_form": TagForm(),
            "can_write": self.can(Role.MARKETER),
        }
        return render(request, "contacts/detail.html", context)


class ContactDeleteView(OrganizationView):
    read_role = Role.MARKETER

    def get(self, request: HttpRequest, contact_id: str) -> HttpResponse:
        contact = self.get_scoped_object(Contact, contact_id)
        context = {
            "title": f"Delete {contact}?",
            "message": "The contact and its tags are deleted. If the number opted out, it stays "
            "on the do-not-text list, and comes back opted out if added again.",
            "button": "Delete contact",
            "action": request.path,
            "cancel_url": reverse("contact_detail", args=[contact.public_id]),
        }
        return render(request, "confirm.html", context)

    def post(self, request: HttpRequest, contact_id: str) -> HttpResponse:
        contact = self.get_scoped_object(Contact, contact_id)
        contact_delete(contact=contact, source="ui")
        messages.success(request, f"{contact} was deleted.")
        return redirect("contact_list")


class ContactActionView(OrganizationView):
    """A POST on one contact, then back to its page with what happened."""

    def post(self, request: HttpRequest, contact_id: str, **kwargs: str) -> HttpResponse:
        contact = self.get_scoped_object(Contact, contact_id)
        try:
            done = self.act(contact, **kwargs)
        except ApplicationError as exc:
            messages.error(request, exc.summary())
        else:
            messages.success(request, done)
        return redirect("contact_detail", contact.public_id)

    def act(self, contact: Contact, **kwargs: str) -> str:
        raise NotImplementedError


class ContactTagAddView(ContactActionView):
    def act(self, contact: Contact, **kwargs: str) -> str:
        name = self.request.POST.get("name", "")
        added = contact_tags_add(contact=contact, names=[name], source="ui")
        return f"Tagged “{added[0]}”." if added else "The contact already has that tag."


class ContactTagRemoveView(ContactActionView):
    def act(self, contact: Contact, **kwargs: str) -> str:
        removed = contact_tags_remove(contact=contact, names=[kwargs["name"]], source="ui")
        return f"Removed “{removed[0]}”." if removed else "The contact did not have that tag."


class ContactOptOutView(ContactActionView):
    def act(self, contact: Contact, **kwargs: str) -> str:
        changed = consent_opt_out(
            organization=self.organization,
            phone=contact.phone,
            source=ConsentSource.USER,
            user=self.membership.user,
            event_source="ui",
        )
        return (
            "Opted out: nothing will be sent to this number." if changed else "Already opted out."
        )


class ContactOptInView(ContactActionView):
    def act(self, contact: Contact, **kwargs: str) -> str:
        changed = consent_opt_in(
            organization=self.organization,
            phone=contact.phone,
            source=ConsentSource.USER,
            user=self.membership.user,
            event_source="ui",
        )
        return "Opted back in." if changed else "This number was not opted out."
