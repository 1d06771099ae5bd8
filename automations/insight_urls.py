"""Automation insight: an automation's page, its dry run and Enrol now, its launches (Run
now, the backfill, their progress and Cancel), and the fragments other rooms' pages load by
URL name. Routes with a fixed first part come first, so that no automation id can shadow
them."""

from django.urls import path

from automations import views_insight as views
from automations import views_launch

urlpatterns = [
    path(
        "contact/<str:contact_id>/",
        views.ContactRunsFragment.as_view(),
        name="automation_contact_runs",
    ),
    path(
        "message/<str:message_id>/",
        views.MessageStepFragment.as_view(),
        name="automation_message_step",
    ),
    path(
        "template/<str:template_id>/",
        views.TemplateUsageFragment.as_view(),
        name="automation_template_usage",
    ),
    path("enrol/", views.EnrolNowView.as_view(), name="automation_enrol_chosen"),
    path("<str:automation_id>/", views.AutomationDetailView.as_view(), name="automation_detail"),
    path("<str:automation_id>/dry-run/", views.DryRunView.as_view(), name="automation_dry_run"),
    path("<str:automation_id>/enrol/", views.EnrolNowView.as_view(), name="automation_enrol"),
    path(
        "<str:automation_id>/chip/", views.AutomationChipFragment.as_view(), name="automation_chip"
    ),
    path("<str:automation_id>/run/", views_launch.RunNowView.as_view(), name="automation_run"),
    path(
        "<str:automation_id>/backfill/",
        views_launch.BackfillView.as_view(),
        name="automation_backfill",
    ),
    path(
        "<str:automation_id>/launches/",
        views_launch.LaunchListView.as_view(),
        name="automation_launches",
    ),
    path(
        "<str:automation_id>/launches/fragment/",
        views_launch.LaunchesFragment.as_view(),
        name="automation_launches_fragment",
    ),
    path(
        "<str:automation_id>/launches/<str:launch_id>/cancel/",
        views_launch.LaunchCancelView.as_view(),
        name="automation_launch_cancel",
    ),
]
