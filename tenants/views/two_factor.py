"""Two-factor sign-in pages: the account's set-up, the sign-in's second step, and the
organization's requirement (tenants/two_factor/)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from tenants.access import OrganizationView
from tenants.caching import no_store
from tenants.errors import ApplicationError
from tenants.models import Role, User
from tenants.two_factor.forms import CodeForm, DisableForm, RequireTwoFactorForm, SignInCodeForm
from tenants.two_factor.pending import PENDING_SESSION_KEY, pending_drop, pending_get
from tenants.two_factor.qr import qr_svg
from tenants.two_factor.selectors import (
    device_secret_text,
    organizations_requiring_two_factor,
    recovery_codes_left,
    two_factor_device,
    two_factor_pending_device,
)
from tenants.two_factor.services import (
    RECOVERY_CODE_COUNT,
    CodeThrottled,
    organization_two_factor_require,
    recovery_codes_regenerate,
    two_factor_confirm,
    two_factor_disable,
    two_factor_setup_start,
    two_factor_sign_in_check,
)
from tenants.views.forms import apply_error

TEMPLATE = "tenants/two_factor.html"
SECRETS = sensitive_post_parameters("password", "code", "regenerate-code", "disable-code")


def status_page(request: HttpRequest, *, status: int = 200, **forms: Any) -> HttpResponse:
    """The account's two-factor page: off, being set up (the QR code and the secret), or on
    (recovery codes left, new codes, turning off); ``forms`` replace the empty ones."""
    user: User = request.user  # type: ignore[assignment]
    device = two_factor_device(user)
    pending = None if device else two_factor_pending_device(user)
    context: dict[str, Any] = {
        "device": device,
        "pending": pending,
        "secret": device_secret_text(pending) if pending else "",
        "codes_left": recovery_codes_left(user) if device else 0,
        "code_count": RECOVERY_CODE_COUNT,
        "requiring": organizations_requiring_two_factor(user),
        "recovery_codes": None,
        "confirm_form": CodeForm(prefix="confirm"),
        "regenerate_form": CodeForm(prefix="regenerate"),
        "disable_form": DisableForm(prefix="disable"),
        **forms,
    }
    return render(request, TEMPLATE, context, status=status)


# Every answer may show the secret being set up or the recovery codes: nothing may keep one.
@method_decorator(no_store, name="dispatch")
@method_decorator(SECRETS, name="dispatch")
class AccountTwoFactorView(LoginRequiredMixin, View):
    user: User

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.user = request.user  # type: ignore[assignment]
        return super().dispatch(request, *args, **kwargs)


class TwoFactorView(AccountTwoFactorView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return status_page(request)


class TwoFactorSetupView(AccountTwoFactorView):
    """ "Turn on": a new authenticator to scan, confirmed by its first code."""

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            two_factor_setup_start(user=self.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("two_factor")


class TwoFactorQrView(AccountTwoFactorView):
    """The QR code of the signed-in person's own authenticator being set up, and no other."""

    def get(self, request: HttpRequest) -> HttpResponse:
        device = two_factor_pending_device(self.user)
        if device is None:
            raise Http404
        return HttpResponse(qr_svg(device.config_url), content_type="image/svg+xml")


class TwoFactorConfirmView(AccountTwoFactorView):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = CodeForm(request.POST, prefix="confirm")
        if form.is_valid():
            try:
                device, codes = two_factor_confirm(user=self.user, code=form.cleaned_data["code"])
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                otp_login(request, device)  # this session is the one that proved it
                messages.success(request, "Two-factor sign-in is on.")
                return status_page(request, recovery_codes=codes)
        return status_page(request, status=400, confirm_form=form)


class TwoFactorRecoveryCodesView(AccountTwoFactorView):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = CodeForm(request.POST, prefix="regenerate")
        if form.is_valid():
            try:
                codes = recovery_codes_regenerate(user=self.user, code=form.cleaned_data["code"])
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(
                    request, "New recovery codes are ready; the old ones no longer work."
                )
                return status_page(request, recovery_codes=codes)
        return status_page(request, status=400, regenerate_form=form)


class TwoFactorDisableView(AccountTwoFactorView):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = DisableForm(request.POST, prefix="disable")
        if form.is_valid():
            try:
                two_factor_disable(user=self.user, **form.cleaned_data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, "Two-factor sign-in is off.")
                return redirect("two_factor")
        return status_page(request, status=400, disable_form=form)


@method_decorator(SECRETS, name="dispatch")
class LoginTwoFactorView(View):
    """The second step of signing in, after a right password (tenants/two_factor/pending.py)."""

    template_name = "tenants/login_two_factor.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        started = PENDING_SESSION_KEY in request.session
        pending = pending_get(request)
        if pending is None:
            if started:
                messages.error(request, "The sign-in was not finished in 5 minutes. Log in again.")
            return redirect("login")
        self.pending = pending
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, form: SignInCodeForm, status: int = 200) -> HttpResponse:
        context = {"form": form, "email": self.pending.user.email}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(SignInCodeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SignInCodeForm(request.POST)
        if form.is_valid():
            try:
                device = two_factor_sign_in_check(
                    user=self.pending.user, code=form.cleaned_data["code"]
                )
            except CodeThrottled as exc:
                pending_drop(request)
                messages.error(request, exc.message)
                return redirect("login")
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                return self.signed_in(device)
        return self.render_form(form, status=400)

    def signed_in(self, device: Any) -> HttpResponse:
        pending_drop(self.request)
        login(self.request, self.pending.user, backend=self.pending.backend)  # a new session key
        otp_login(self.request, device)
        target = self.pending.next_url
        safe = url_has_allowed_host_and_scheme(
            target,
            allowed_hosts={self.request.get_host()},
            require_https=self.request.is_secure(),
        )
        return redirect(target if target and safe else resolve_url(settings.LOGIN_REDIRECT_URL))


class OrganizationTwoFactorView(OrganizationView):
    """Owners require two-factor sign-in of everyone (a part of the Settings page)."""

    read_role = Role.OWNER
    write_role = Role.OWNER
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RequireTwoFactorForm(request.POST)
        form.is_valid()  # a checkbox: absent is False
        required = bool(form.cleaned_data.get("require_two_factor"))
        try:
            organization_two_factor_require(
                organization=self.organization, by=self.actor, required=required
            )
        except ApplicationError as exc:
            messages.error(request, exc.summary())
        else:
            state = "now required" if required else "no longer required"
            messages.success(request, f"Two-factor sign-in is {state} in {self.organization.name}.")
        return redirect(f"{resolve_url('organization_settings')}#two-factor")
