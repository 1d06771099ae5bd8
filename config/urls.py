from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path

from config.health import healthz
from tenants.api_base import api_not_found

api_v1: list[URLPattern | URLResolver] = [
    path("", include("tenants.api_urls")),
    path("", include("connections.api_urls")),
    path("", include("contacts.api_urls")),
    path("", include("templates_sms.api_urls")),
    path("", include("messaging.api_urls")),
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("connections/", include("connections.urls")),
    path("contacts/", include("contacts.urls")),
    path("templates/", include("templates_sms.urls")),
    path("messages/", include("messaging.urls")),
    path("", include("tenants.urls")),
]
