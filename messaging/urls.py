from django.urls import path

from messaging import views, views_export

urlpatterns = [
    path("", views.MessageListView.as_view(), name="message_list"),
    path("counts/", views.MessageCountsFragment.as_view(), name="message_counts"),
    path("export/", views_export.MessageExportView.as_view(), name="message_export"),
    path("send/<str:contact_id>/", views.SendToContactView.as_view(), name="message_send"),
    path("test/", views.TestSendView.as_view(), name="message_test_send"),
    path(
        "contact/<str:contact_id>/",
        views.ContactMessagesFragment.as_view(),
        name="contact_messages",
    ),
    path("<str:message_id>/", views.MessageDetailView.as_view(), name="message_detail"),
]
