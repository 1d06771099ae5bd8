from django.urls import path

from automations import api, api_launches

urlpatterns = [
    path("automations/", api.AutomationsApi.as_view(), name="api_automations"),
    path("automations/<str:automation_id>/", api.AutomationApi.as_view(), name="api_automation"),
    path(
        "automations/<str:automation_id>/publish/",
        api.AutomationPublishApi.as_view(),
        name="api_automation_publish",
    ),
    path(
        "automations/<str:automation_id>/activate/",
        api.AutomationActivateApi.as_view(),
        name="api_automation_activate",
    ),
    path(
        "automations/<str:automation_id>/pause/",
        api.AutomationPauseApi.as_view(),
        name="api_automation_pause",
    ),
    path(
        "automations/<str:automation_id>/runs/",
        api.AutomationRunsApi.as_view(),
        name="api_automation_runs",
    ),
    path(
        "automations/<str:automation_id>/dry-run/",
        api.AutomationDryRunApi.as_view(),
        name="api_automation_dry_run",
    ),
    path(
        "automations/<str:automation_id>/enrol/",
        api.AutomationEnrolApi.as_view(),
        name="api_automation_enrol",
    ),
    path(
        "automations/<str:automation_id>/preflight/",
        api_launches.AutomationPreflightApi.as_view(),
        name="api_automation_preflight",
    ),
    path(
        "automations/<str:automation_id>/launches/",
        api_launches.AutomationLaunchesApi.as_view(),
        name="api_automation_launches",
    ),
    path(
        "automations/<str:automation_id>/launches/<str:launch_id>/",
        api_launches.AutomationLaunchApi.as_view(),
        name="api_automation_launch",
    ),
    path(
        "automations/<str:automation_id>/launches/<str:launch_id>/cancel/",
        api_launches.AutomationLaunchCancelApi.as_view(),
        name="api_automation_launch_cancel",
    ),
]
