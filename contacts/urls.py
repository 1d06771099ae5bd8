from django.urls import path

from contacts import views, views_export

urlpatterns = [
    path("", views.ContactListView.as_view(), name="contact_list"),
    path("new/", views.ContactCreateView.as_view(), name="contact_create"),
    path("bulk-tag/", views.ContactBulkTagView.as_view(), name="contact_bulk_tag"),
    path("export/", views_export.ContactExportView.as_view(), name="contact_export"),
    path("<str:contact_id>/", views.ContactDetailView.as_view(), name="contact_detail"),
    path("<str:contact_id>/edit/", views.ContactEditView.as_view(), name="contact_edit"),
    path("<str:contact_id>/delete/", views.ContactDeleteView.as_view(), name="contact_delete"),
    path("<str:contact_id>/tags/", views.ContactTagAddView.as_view(), name="contact_tag_add"),
    path(
        "<str:contact_id>/tags/<str:name>/remove/",
        views.ContactTagRemoveView.as_view(),
        name="contact_tag_remove",
    ),
    path("<str:contact_id>/opt-out/", views.ContactOptOutView.as_view(), name="contact_opt_out"),
    path("<str:contact_id>/opt-in/", views.ContactOptInView.as_view(), name="contact_opt_in"),
]
