from django.urls import path

from tenants import api

urlpatterns = [
    path("organization/", api.OrganizationApi.as_view(), name="api_organization"),
    path("members/", api.MembersApi.as_view(), name="api_members"),
    path("members/<str:member_id>/", api.MemberApi.as_view(), name="api_member"),
    path("api-keys/", api.ApiKeysApi.as_view(), name="api_api_keys"),
    path("api-keys/<str:key_id>/", api.ApiKeyApi.as_view(), name="api_api_key"),
]
