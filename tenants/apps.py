from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Organizations and users"

    def ready(self) -> None:
        from tenants import lookups  # noqa: F401 - registers field__any
