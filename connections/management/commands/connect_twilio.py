from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connections.selectors import twilio_connection
from connections.services.connections import twilio_configure_number, twilio_connect
from tenants.actor import Actor
from tenants.errors import ApplicationError
from tenants.models import Organization, Role


class Command(BaseCommand):
    help = (
        "Connect an organization to a Twilio account through the normal, verified connect "
        "flow (for scripted set-up); prints the inbound webhook URL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", metavar="org-slug")
        parser.add_argument("--account-sid", required=True)
        parser.add_argument("--auth-token", required=True)
        sender = parser.add_mutually_exclusive_group(required=True)
        sender.add_argument("--phone-number")
        sender.add_argument("--messaging-service-sid")
        parser.add_argument(
            "--configure-number",
            action="store_true",
            help="also point the number's incoming-SMS webhook at this app",
        )
        parser.add_argument(
            "--if-not-connected",
            action="store_true",
            help="do nothing when the organization already has a Twilio connection",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.active().filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No organization with the slug “{options['organization']}”.")
        if options["if_not_connected"] and twilio_connection(organization) is not None:
            self.stdout.write(f"{organization.slug} already has a Twilio connection.")
            return
        # The operator running the command acts with the owner's authority.
        operator = Actor(organization=organization, role=Role.OWNER)
        try:
            connection = twilio_connect(
                organization=organization,
                by=operator,
                account_sid=options["account_sid"],
                auth_token=options["auth_token"],
                phone_number=options["phone_number"] or "",
                messaging_service_sid=options["messaging_service_sid"] or "",
            )
            self.stdout.write("You have successfully connected your Twilio account.")
            if options["configure_number"]:
                url = twilio_configure_number(connection=connection, by=operator)
                self.stdout.write(f"Incoming SMS of the number now go to {url}")
        except ApplicationError as exc:
            raise CommandError(exc.describe()) from exc
