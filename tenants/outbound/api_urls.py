from django.urls import path

from tenants.outbound import api

urlpatterns = [
    path("webhook-endpoints/", api.WebhookEndpointsApi.as_view(), name="api_webhook_endpoints"),
    path(
        "webhook-endpoints/<str:endpoint_id>/",
        api.WebhookEndpointApi.as_view(),
        name="api_webhook_endpoint",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/rotate-secret/",
        api.WebhookEndpointRotateApi.as_view(),
        name="api_webhook_endpoint_rotate",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/test/",
        api.WebhookEndpointTestApi.as_view(),
        name="api_webhook_endpoint_test",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/deliveries/",
        api.WebhookDeliveriesApi.as_view(),
        name="api_webhook_deliveries",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/deliveries/<str:delivery_id>/replay/",
        api.WebhookDeliveryReplayApi.as_view(),
        name="api_webhook_delivery_replay",
    ),
]
