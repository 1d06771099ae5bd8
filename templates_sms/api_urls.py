from django.urls import path

from templates_sms import api

urlpatterns = [
    path("templates/", api.TemplatesApi.as_view(), name="api_templates"),
    path("templates/<str:template_id>/", api.TemplateApi.as_view(), name="api_template"),
    path(
        "templates/<str:template_id>/preview/",
        api.TemplatePreviewApi.as_view(),
        name="api_template_preview",
    ),
]
