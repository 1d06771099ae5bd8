from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path

from automations import webhooks as automation_webhooks
from config.health import healthz
from messaging import webhooks
from tenants.api_base import api_not_found
from tenants.api_docs import ApiDocsView, ApiSchemaView

# A request Django itself refuses (a body too large, too many fields) answers in the API's
# error shape under /api/.
handler400 = "tenants.api_base.bad_request"

api_v1: list[URLPattern | URLResolver] = [
    path("", include("tenants.api_urls")),
    path("", include("connections.api_urls")),
    path("", include("contacts.api_urls")),
    path("", include("templates_sms.api_urls")),
    path("", include("messaging.api_urls")),
    path("", include("automations.api_urls")),
    path("", include("tenants.outbound.api_urls")),
    path("", include("tenants.audit.api_urls")),
    # The OpenAPI schema and its docs, public (tenants.api_docs).
    path("schema/", ApiSchemaView.as_view(), name="api_schema"),
    path("docs/", ApiDocsView.as_view(), name="api_docs"),
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path(
        "webhooks/twilio/status/<str:message_id>",
        webhooks.status_callback,
        name="twilio_status_callback",
    ),
    path("webhooks/twilio/inbound/<str:inbound_key>", webhooks.inbound, name="twilio_inbound"),
    path(
        "webhooks/automations/<str:automation_id>/<str:secret>",
        automation_webhooks.incoming,
        name="automation_webhook",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("connections/", include("connections.urls")),
    path("contacts/", include("contacts.urls")),
    path("templates/", include("templates_sms.urls")),
    path("messages/", include("messaging.urls")),
    path("automations/", include("automations.urls")),
    path("automations/", include("automations.insight_urls")),
    path("", include("reports.urls")),
    path("", include("tenants.urls")),
]
