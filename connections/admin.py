from django.contrib import admin

from connections.models import Connection, TwilioCredentials


class TwilioCredentialsInline(admin.StackedInline[TwilioCredentials, Connection]):
    model = TwilioCredentials
    can_delete = False
    # The token's ciphertext stays out of the admin; its last 4 characters identify it.
    exclude = ("auth_token_encrypted",)
    readonly_fields = (
        "account_sid",
        "auth_token_last4",
        "account_type",
        "account_name",
        "phone_number",
        "phone_number_sid",
        "messaging_service_sid",
        "sender_type",
        "sender_country",
        "sms_capable",
        "compliance_state",
        "compliance_detail",
    )


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin[Connection]):
    list_display = ("organization", "kind", "state", "verified_at", "last_webhook_at")
    list_filter = ("kind", "state")
    search_fields = ("organization__name", "twilio__account_sid", "twilio__phone_number")
    exclude = ("inbound_key",)
    readonly_fields = (
        "public_id",
        "organization",
        "kind",
        "verified_at",
        "last_error",
        "last_webhook_at",
        "last_webhook_signature_valid",
        "created_at",
        "updated_at",
    )
    inlines = (TwilioCredentialsInline,)

    def has_add_permission(self, request: object) -> bool:
        return False  # connections are made through the Connection Center, which verifies them
