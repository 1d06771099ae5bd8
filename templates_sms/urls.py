from django.urls import path

from templates_sms import views

urlpatterns = [
    path("", views.TemplateListView.as_view(), name="template_list"),
    path("new/", views.TemplateCreateView.as_view(), name="template_create"),
    path("preview/", views.TemplatePreviewView.as_view(), name="template_preview"),
    path("<str:template_id>/edit/", views.TemplateEditView.as_view(), name="template_edit"),
    path(
        "<str:template_id>/duplicate/",
        views.TemplateDuplicateView.as_view(),
        name="template_duplicate",
    ),
    path("<str:template_id>/delete/", views.TemplateDeleteView.as_view(), name="template_delete"),
]
