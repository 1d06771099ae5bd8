from django.urls import path

from connections import api

urlpatterns = [
    path("connections/twilio/", api.TwilioConnectionApi.as_view(), name="api_twilio_connection"),
]
