from django.urls import path

from tenants.audit import api

urlpatterns = [
    path("audit-events/", api.AuditEventsApi.as_view(), name="api_audit_events"),
    path("audit-events/<str:event_id>/", api.AuditEventApi.as_view(), name="api_audit_event"),
]
