from django.urls import path

from contacts import api, api_export, api_import

urlpatterns = [
    path("contacts/", api.ContactsApi.as_view(), name="api_contacts"),
    path(
        "contacts/export.csv",
        api_export.ContactExportApi.as_view(),
        name="api_contact_export",
    ),
    path("contacts/imports/", api_import.ContactImportsApi.as_view(), name="api_contact_imports"),
    path(
        "contacts/imports/<str:import_id>/",
        api_import.ContactImportApi.as_view(),
        name="api_contact_import",
    ),
    path(
        "contacts/imports/<str:import_id>/errors.csv",
        api_import.ContactImportErrorsApi.as_view(),
        name="api_contact_import_errors",
    ),
    path(
        "contacts/imports/<str:import_id>/cancel/",
        api_import.ContactImportCancelApi.as_view(),
        name="api_contact_import_cancel",
    ),
    path("contacts/<str:contact_id>/", api.ContactApi.as_view(), name="api_contact"),
    path("contacts/<str:contact_id>/tags/", api.ContactTagsApi.as_view(), name="api_contact_tags"),
    path(
        "contacts/<str:contact_id>/tags/<str:name>/",
        api.ContactTagApi.as_view(),
        name="api_contact_tag",
    ),
    path(
        "contacts/<str:contact_id>/opt-out/",
        api.ContactConsentApi.as_view(opt_in=False),
        name="api_contact_opt_out",
    ),
    path(
        "contacts/<str:contact_id>/opt-in/",
        api.ContactConsentApi.as_view(opt_in=True),
        name="api_contact_opt_in",
    ),
    path("consent/", api.ConsentApi.as_view(), name="api_consent"),
]
