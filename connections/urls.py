from django.urls import path

from connections import views

urlpatterns = [
    path("", views.ConnectionCenterView.as_view(), name="connection_center"),
    path("twilio/", views.TwilioConnectionView.as_view(), name="twilio_connection"),
    path("twilio/connect/", views.TwilioConnectView.as_view(), name="twilio_connect"),
    path("twilio/verify/", views.TwilioReverifyView.as_view(), name="twilio_reverify"),
    path(
        "twilio/configure-number/",
        views.TwilioConfigureNumberView.as_view(),
        name="twilio_configure_number",
    ),
    path("twilio/send-rate/", views.TwilioSendRateView.as_view(), name="twilio_send_rate"),
    path("twilio/rotate-key/", views.TwilioRotateKeyView.as_view(), name="twilio_rotate_key"),
    path("twilio/disconnect/", views.TwilioDisconnectView.as_view(), name="twilio_disconnect"),
]
