from django.urls import path

from messaging import api

urlpatterns = [
    path("messages/", api.MessagesApi.as_view(), name="api_messages"),
    path("messages/<str:message_id>/", api.MessageApi.as_view(), name="api_message"),
]
