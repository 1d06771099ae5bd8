"""The Connection Center: the catalog, and connecting and looking after Twilio."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from connections.catalog import CATALOG
from connections.forms import SendRateForm, TwilioConnectForm
from connections.models import Connection, ConnectionState
from connections.selectors import connection_warnings, twilio_connection, twilio_credentials
from connections.services.connections import (
    connection_disconnect,
    connection_rotate_inbound_key,
    inbound_webhook_url,
    twilio_configure_number,
    twilio_connect,
    twilio_reverify,
    twilio_set_send_rate,
)
from tenants.access import OrganizationView
from tenants.caching import no_store
from tenants.errors import ApplicationError
from tenants.models import Role
from tenants.views.forms import apply_error

CONNECTED_MESSAGE = "You have successfully connected your Twilio account."


@method_decorator(no_store, name="dispatch")
class ConnectionCenterView(OrganizationView):
    def get(self, request: HttpRequest) -> HttpResponse:
        connections = {c.kind: c for c in Connection.objects.filter(organization=self.organization)}
        entries = [
            {
                "integration": integration,
                "connection": connections.get(integration.kind),
                "warnings": connection_warnings(connections[integration.kind])
                if integration.kind in connections
                else [],
            }
            for integration in CATALOG
        ]
        context = {"entries": entries, "can_manage": self.can(Role.ADMIN)}
        return render(request, "connections/center.html", context)


@method_decorator(no_store, name="dispatch")  # the inbound webhook URL carries a secret key
class TwilioView(OrganizationView):
    """Pages about this organization's Twilio connection; changing anything is for admins."""

    write_role = Role.ADMIN

    def connection_or_none(self) -> Connection | None:
        return twilio_connection(self.organization)


class TwilioConnectionView(TwilioView):
    def get(self, request: HttpRequest) -> HttpResponse:
        connection = self.connection_or_none()
        if connection is None and self.can(Role.ADMIN):
            return redirect("twilio_connect")
        credentials = twilio_credentials(connection)
        context: dict[str, Any] = {
            "connection": connection,
            "credentials": credentials,
            "warnings": connection_warnings(connection) if connection else [],
            "webhook_url": inbound_webhook_url(connection) if connection else "",
            "can_manage": self.can(Role.ADMIN),
            "send_rate_form": SendRateForm(instance=credentials) if credentials else None,
            "is_connected": connection is not None
            and connection.state != ConnectionState.DISCONNECTED,
        }
        return render(request, "connections/twilio.html", context)


@method_decorator(sensitive_post_parameters("auth_token"), name="dispatch")
class TwilioConnectView(TwilioView):
    read_role = Role.ADMIN
    template_name = "connections/twilio_connect.html"

    def render_form(self, form: TwilioConnectForm, status: int = 200) -> HttpResponse:
        credentials = twilio_credentials(self.connection_or_none())
        context = {"form": form, "credentials": credentials}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        credentials = twilio_credentials(self.connection_or_none())
        initial = {}
        if credentials is not None:
            initial = {
                "account_sid": credentials.account_sid,
                "phone_number": credentials.phone_number,
                "messaging_service_sid": credentials.messaging_service_sid,
            }
        return self.render_form(TwilioConnectForm(initial=initial, keeps_token=bool(credentials)))

    def post(self, request: HttpRequest) -> HttpResponse:
        credentials = twilio_credentials(self.connection_or_none())
        form = TwilioConnectForm(request.POST, keeps_token=bool(credentials))
        if form.is_valid():
            try:
                twilio_connect(organization=self.organization, by=self.actor, **form.cleaned_data)
            except ApplicationError as exc:
                apply_error(form, exc)
                return self.render_form(form, status=exc.status)
            messages.success(request, CONNECTED_MESSAGE)
            return redirect("twilio_connection")
        return self.render_form(form, status=400)


class TwilioActionView(TwilioView):
    """A POST that changes the connection, then back to its page with what happened."""

    def post(self, request: HttpRequest) -> HttpResponse:
        connection = self.connection_or_none()
        if connection is None:
            messages.error(request, "Connect a Twilio account first.")
            return redirect("twilio_connect")
        try:
            done = self.act(connection)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
        return redirect("twilio_connection")

    def act(self, connection: Connection) -> str:
        raise NotImplementedError


class TwilioReverifyView(TwilioActionView):
    def act(self, connection: Connection) -> str:
        twilio_reverify(connection=connection, by=self.actor)
        return "Twilio confirmed the account and the sender."


class TwilioConfigureNumberView(TwilioActionView):
    def act(self, connection: Connection) -> str:
        url = twilio_configure_number(connection=connection, by=self.actor)
        return f"Replies to your number now come to SMS Hub ({url})."


class TwilioSendRateView(TwilioActionView):
    def act(self, connection: Connection) -> str:
        form = SendRateForm(self.request.POST, instance=twilio_credentials(connection))
        if not form.is_valid():
            errors = form.errors.get("send_rate") or ["Enter a send rate."]
            raise ApplicationError(" ".join(str(error) for error in errors))
        rate = form.cleaned_data["send_rate"]
        twilio_set_send_rate(connection=connection, send_rate=rate, by=self.actor)
        return f"Send rate set to {rate} segments per second."


class TwilioConfirmView(TwilioActionView):
    """GET asks for confirmation; POST acts."""

    read_role = Role.ADMIN
    confirm: dict[str, str]

    def get(self, request: HttpRequest) -> HttpResponse:
        if self.connection_or_none() is None:
            return redirect("twilio_connect")
        context = {
            **self.confirm,
            "action": request.path,
            "cancel_url": reverse("twilio_connection"),
        }
        return render(request, "confirm.html", context)


class TwilioRotateKeyView(TwilioConfirmView):
    confirm = {
        "title": "Rotate the inbound webhook URL?",
        "message": "The current URL stops working at once. Replies reach SMS Hub again after "
        "the new URL is set on your number in Twilio (Configure the number for me does it).",
        "button": "Rotate URL",
    }

    def act(self, connection: Connection) -> str:
        connection_rotate_inbound_key(connection=connection, by=self.actor)
        return (
            "The inbound webhook URL changed. Update it in Twilio (or choose Configure the "
            "number for me); the old URL no longer works."
        )


class TwilioDisconnectView(TwilioConfirmView):
    confirm = {
        "title": "Disconnect Twilio?",
        "message": "The Account SID and Auth Token are erased and nothing is sent until someone "
        "connects again. Message history stays, and reconnecting keeps the same inbound "
        "webhook URL.",
        "button": "Disconnect",
    }

    def act(self, connection: Connection) -> str:
        connection_disconnect(connection=connection, by=self.actor)
        return "Twilio is disconnected and its credentials are erased. Nothing will be sent."
