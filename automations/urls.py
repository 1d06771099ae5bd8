"""The builder's pages. Every ``<automation_id>`` is the automation's public id."""

from django.urls import path

from automations import views, views_builder, views_webhook

urlpatterns = [
    path("", views.AutomationListView.as_view(), name="automation_list"),
    path("new/", views.AutomationCreateView.as_view(), name="automation_create"),
    path("<str:automation_id>/edit/", views_builder.EditorView.as_view(), name="automation_edit"),
    path(
        "<str:automation_id>/edit/name/",
        views_builder.NameSaveView.as_view(),
        name="automation_edit_name",
    ),
    path(
        "<str:automation_id>/edit/trigger/",
        views_builder.TriggerSaveView.as_view(),
        name="automation_edit_trigger",
    ),
    path(
        "<str:automation_id>/edit/entry-rules/",
        views_builder.EntryRulesSaveView.as_view(),
        name="automation_edit_entry_rules",
    ),
    path(
        "<str:automation_id>/edit/exit-rules/",
        views_builder.ExitRulesSaveView.as_view(),
        name="automation_edit_exit_rules",
    ),
    path(
        "<str:automation_id>/edit/reentry/",
        views_builder.ReentrySaveView.as_view(),
        name="automation_edit_reentry",
    ),
    path(
        "<str:automation_id>/edit/steps/add/",
        views_builder.StepAddView.as_view(),
        name="automation_step_add",
    ),
    path(
        "<str:automation_id>/edit/steps/<str:step_id>/",
        views_builder.StepSaveView.as_view(),
        name="automation_step_save",
    ),
    path(
        "<str:automation_id>/edit/steps/<str:step_id>/remove/",
        views_builder.StepRemoveView.as_view(),
        name="automation_step_remove",
    ),
    path("<str:automation_id>/publish/", views.PublishView.as_view(), name="automation_publish"),
    path(
        "<str:automation_id>/discard-draft/",
        views.DiscardDraftView.as_view(),
        name="automation_discard_draft",
    ),
    path("<str:automation_id>/activate/", views.ActivateView.as_view(), name="automation_activate"),
    path("<str:automation_id>/pause/", views.PauseView.as_view(), name="automation_pause"),
    path("<str:automation_id>/archive/", views.ArchiveView.as_view(), name="automation_archive"),
    path(
        "<str:automation_id>/webhook/rotate/",
        views_webhook.WebhookRotateView.as_view(),
        name="automation_webhook_rotate",
    ),
    path(
        "<str:automation_id>/duplicate/",
        views.DuplicateView.as_view(),
        name="automation_duplicate",
    ),
]
