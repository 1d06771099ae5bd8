from django.contrib.auth import views as auth_views
from django.urls import include, path

from tenants.views import accounts, api_keys, members, organization, two_factor

urlpatterns = [
    path("signup/", accounts.SignupView.as_view(), name="signup"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("login/two-factor/", two_factor.LoginTwoFactorView.as_view(), name="login_two_factor"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("account/two-factor/", two_factor.TwoFactorView.as_view(), name="two_factor"),
    path(
        "account/two-factor/setup/",
        two_factor.TwoFactorSetupView.as_view(),
        name="two_factor_setup",
    ),
    path("account/two-factor/qr.svg", two_factor.TwoFactorQrView.as_view(), name="two_factor_qr"),
    path(
        "account/two-factor/confirm/",
        two_factor.TwoFactorConfirmView.as_view(),
        name="two_factor_confirm",
    ),
    path(
        "account/two-factor/recovery-codes/",
        two_factor.TwoFactorRecoveryCodesView.as_view(),
        name="two_factor_recovery_codes",
    ),
    path(
        "account/two-factor/turn-off/",
        two_factor.TwoFactorDisableView.as_view(),
        name="two_factor_disable",
    ),
    path("password-reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        accounts.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "invitations/<str:token>/",
        accounts.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    path(
        "organizations/new/",
        organization.OrganizationCreateView.as_view(),
        name="organization_create",
    ),
    path("organizations/switch/", organization.organization_switch, name="organization_switch"),
    path(
        "settings/", organization.OrganizationSettingsView.as_view(), name="organization_settings"
    ),
    path(
        "settings/two-factor/",
        two_factor.OrganizationTwoFactorView.as_view(),
        name="organization_two_factor",
    ),
    path(
        "settings/delete/",
        organization.OrganizationDeleteView.as_view(),
        name="organization_delete",
    ),
    path("settings/members/", members.MembersView.as_view(), name="members"),
    path(
        "settings/members/<str:member_id>/role/",
        members.MemberRoleView.as_view(),
        name="member_role",
    ),
    path(
        "settings/members/<str:member_id>/remove/",
        members.MemberRemoveView.as_view(),
        name="member_remove",
    ),
    path(
        "settings/invitations/<str:invitation_id>/revoke/",
        members.InvitationRevokeView.as_view(),
        name="invitation_revoke",
    ),
    path("settings/api-keys/", api_keys.ApiKeysView.as_view(), name="api_keys"),
    path(
        "settings/api-keys/<str:key_id>/revoke/",
        api_keys.ApiKeyRevokeView.as_view(),
        name="api_key_revoke",
    ),
    path("settings/webhooks/", include("tenants.outbound.urls")),
    path("settings/audit-log/", include("tenants.audit.urls")),
]
