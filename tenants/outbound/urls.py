from django.urls import path

from tenants.outbound import views, views_endpoint

urlpatterns = [
    path("", views.WebhooksView.as_view(), name="webhooks"),
    path("new/", views.EndpointCreateView.as_view(), name="webhook_create"),
    path("<str:endpoint_id>/", views_endpoint.EndpointView.as_view(), name="webhook_endpoint"),
    path("<str:endpoint_id>/edit/", views.EndpointEditView.as_view(), name="webhook_edit"),
    path(
        "<str:endpoint_id>/rotate-secret/",
        views.EndpointRotateView.as_view(),
        name="webhook_rotate",
    ),
    path("<str:endpoint_id>/delete/", views.EndpointDeleteView.as_view(), name="webhook_delete"),
    path(
        "<str:endpoint_id>/disable/",
        views_endpoint.EndpointDisableView.as_view(),
        name="webhook_disable",
    ),
    path(
        "<str:endpoint_id>/enable/",
        views_endpoint.EndpointEnableView.as_view(),
        name="webhook_enable",
    ),
    path("<str:endpoint_id>/test/", views_endpoint.EndpointTestView.as_view(), name="webhook_test"),
    path(
        "<str:endpoint_id>/attempts/<str:delivery_id>/replay/",
        views_endpoint.DeliveryReplayView.as_view(),
        name="webhook_replay",
    ),
]
