from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from tenants.models import ApiKey, Invitation, Membership, Organization, User


# The stubs bind UserAdmin to AbstractUser; ours is an AbstractBaseUser with the fields it uses.
@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):  # type: ignore[type-var]
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff")
    search_fields = ("email", "full_name")
    readonly_fields = ("public_id", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("public_id", "email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline[Membership, Organization]):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("public_id", "created_at")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ("name", "slug", "time_zone", "created_at", "deletion_requested_at")
    search_fields = ("name", "slug", "public_id")
    readonly_fields = ("public_id", "created_at", "updated_at", "deletion_requested_at")
    inlines = (MembershipInline,)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ("email", "organization", "role", "expires_at", "accepted_at")
    search_fields = ("email", "organization__name")
    # The token hash stays out of the admin: it is useless to read and only invites misuse.
    exclude = ("token_hash",)
    readonly_fields = ("public_id", "invited_by", "accepted_by", "accepted_at", "created_at")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ("name", "prefix", "organization", "role", "last_used_at", "revoked_at")
    search_fields = ("name", "prefix", "organization__name")
    exclude = ("key_hash",)
    readonly_fields = ("public_id", "prefix", "created_by", "created_at", "last_used_at")

    def has_add_permission(self, request: object) -> bool:
        return False  # keys are created on the settings page or with create_api_key
