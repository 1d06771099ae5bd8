from django.urls import path

from messaging import views

urlpatterns = [
    path("", views.MessageListView.as_view(), name="message_list"),
    path("counts/", views.MessageCountsFragment.as_view(), name="message_counts"),
    path("send/<str:contact_id>/", views.SendToContactView.as_view(), name="message_send"),
    path("test/", views.TestSendView.as_view(), name="message_test_send"),
    path(
        "contact/<str:contact_id>/",
        views.ContactMessagesFragment.as_view(),
        name="contact_messages",
    ),
    path("<str:message_id>/", views.MessageDetailView.as_view(), name="message_detail"),
]
