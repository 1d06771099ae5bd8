from django.apps import AppConfig


class OutboundConfig(AppConfig):
    name = "tenants.outbound"
    label = "outbound"
    verbose_name = "Outbound webhooks"
