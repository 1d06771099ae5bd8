from django.urls import path

from contacts import views, views_consent, views_export, views_import

urlpatterns = [
    path("", views.ContactListView.as_view(), name="contact_list"),
    path("new/", views.ContactCreateView.as_view(), name="contact_create"),
    path("bulk-tag/", views.ContactBulkTagView.as_view(), name="contact_bulk_tag"),
    path("export/", views_export.ContactExportView.as_view(), name="contact_export"),
    path("consent/export/", views_consent.ConsentExportView.as_view(), name="consent_export"),
    path("import/", views_import.ImportListView.as_view(), name="contact_imports"),
    path("import/<str:import_id>/", views_import.ImportDetailView.as_view(), name="contact_import"),
    path(
        "import/<str:import_id>/start/",
        views_import.ImportStartView.as_view(),
        name="contact_import_start",
    ),
    path(
        "import/<str:import_id>/progress/",
        views_import.ImportProgressFragment.as_view(),
        name="contact_import_progress",
    ),
    path(
        "import/<str:import_id>/cancel/",
        views_import.ImportCancelView.as_view(),
        name="contact_import_cancel",
    ),
    path(
        "import/<str:import_id>/resume/",
        views_import.ImportResumeView.as_view(),
        name="contact_import_resume",
    ),
    path(
        "import/<str:import_id>/discard/",
        views_import.ImportDiscardView.as_view(),
        name="contact_import_discard",
    ),
    path(
        "import/<str:import_id>/errors.csv",
        views_import.ImportErrorsView.as_view(),
        name="contact_import_errors",
    ),
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
