"""Signing up, in and out, passwords, and accepting invitations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views import View

from tenants.access import switch_organization
from tenants.caching import no_store
from tenants.errors import ApplicationError
from tenants.forms import EmailLoginForm, InvitedSignupForm, SignupForm
from tenants.models import Invitation, User
from tenants.services.accounts import login_failures_clear, user_create, user_signup
from tenants.services.members import invitation_accept, invitation_check, invitation_get_by_token
from tenants.two_factor.pending import pending_start
from tenants.two_factor.selectors import two_factor_enabled
from tenants.views.forms import apply_error

AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"


class LoginView(auth_views.LoginView):
    template_name = "tenants/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: EmailLoginForm) -> HttpResponse:  # type: ignore[override]
        user = form.get_user()
        login_failures_clear(email=user.email)
        if two_factor_enabled(user):
            # Not signed in yet: the code decides (tenants/two_factor/pending.py).
            pending_start(
                self.request,
                user=user,
                backend=user.backend,  # type: ignore[attr-defined]  # set by authenticate()
                next_url=self.get_redirect_url(),
            )
            return redirect("login_two_factor")
        return super().form_valid(form)


class SignupView(View):
    template_name = "tenants/signup.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect("dashboard")
        return render(request, self.template_name, {"form": SignupForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SignupForm(request.POST)
        if form.is_valid():
            try:
                user, organization = user_signup(**form.cleaned_data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                login(request, user, backend=AUTH_BACKEND)
                switch_organization(request, organization)
                messages.success(request, f"Welcome to SMS Hub. {organization.name} is ready.")
                return redirect("dashboard")
        return render(request, self.template_name, {"form": form}, status=400)


@method_decorator(no_store, name="dispatch")  # its address is the secret
class InvitationAcceptView(View):
    """The link in an invitation: join, or create the invited account and join."""

    template_name = "tenants/invitation.html"

    def context(self, request: HttpRequest, token: str) -> dict[str, Any]:
        found = invitation_get_by_token(token)
        context: dict[str, Any] = {"invitation": found, "token": token, "error": None}
        try:
            invitation = invitation_check(found)
        except ApplicationError as exc:
            context["error"] = exc.message
            return context
        context["account_exists"] = User.objects.filter(email=invitation.email).exists()
        if not request.user.is_authenticated and not context["account_exists"]:
            context["form"] = InvitedSignupForm()
        return context

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        context = self.context(request, token)
        return render(request, self.template_name, context, status=410 if context["error"] else 200)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        context = self.context(request, token)
        if context["error"]:
            return render(request, self.template_name, context, status=410)
        invitation: Invitation = context["invitation"]
        user = request.user if request.user.is_authenticated else None
        if user is None:
            if context["account_exists"]:
                return redirect(f"{reverse_lazy('login')}?next={request.path}")
            form = InvitedSignupForm(request.POST)
            context["form"] = form
            if not form.is_valid():
                return render(request, self.template_name, context, status=400)
        try:
            with transaction.atomic():
                if user is None:
                    user = user_create(email=invitation.email, **context["form"].cleaned_data)
                membership = invitation_accept(token=token, user=user)
        except ApplicationError as exc:
            if "form" in context and exc.fields:
                apply_error(context["form"], exc)
            else:
                context["error"] = exc.message
            return render(request, self.template_name, context, status=400)
        if not request.user.is_authenticated:
            login(request, membership.user, backend=AUTH_BACKEND)
        switch_organization(request, membership.organization)
        role = membership.get_role_display().lower()
        messages.success(request, f"You joined {membership.organization.name} as {role}.")
        return redirect("dashboard")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "tenants/password_change.html"
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, "Your password has been changed.")
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "tenants/password_reset.html"
    email_template_name = "tenants/email/password_reset.txt"
    subject_template_name = "tenants/email/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")
    # The link in the email points at the public address, not whatever Host was sent.
    extra_email_context = {"base_url": settings.PUBLIC_BASE_URL}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "tenants/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "tenants/password_reset_confirm.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        # The lock-out message offers a reset as the way back in: make that true.
        login_failures_clear(email=form.user.email)
        messages.success(self.request, "Your password has been reset. Log in with the new one.")
        return super().form_valid(form)
