from django.urls import path

from tenants.audit import views

urlpatterns = [
    path("", views.AuditLogView.as_view(), name="audit_log"),
    path("export/", views.AuditExportView.as_view(), name="audit_log_export"),
]
