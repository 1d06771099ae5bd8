from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messages"

    def ready(self) -> None:
        from messaging.services.outbound import message_from_snapshot
        from tenants.outbound.services.events import renderer_register

        renderer_register("message", message_from_snapshot)
