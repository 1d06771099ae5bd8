from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from automations.demo import demo_fill
from tenants.services.accounts import demo_ensure


class Command(BaseCommand):
    help = (
        "Create the development demo login and its organization (used by `make run`); with "
        "--with-data, fill it with contacts, templates, automations and a history sent through "
        "the Twilio sandbox. Safe to run again: nothing is made twice. Prints the "
        "organization's slug on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", default="demo@example.com")
        parser.add_argument("--password", required=True)
        parser.add_argument(
            "--with-data",
            action="store_true",
            help="Also fill the organization with the demo's contacts, templates and automations.",
        )
        parser.add_argument(
            "--sandbox",
            default="",
            metavar="URL",
            help=(
                "The running Twilio sandbox (such as http://127.0.0.1:8010), to send the "
                "history through; the web server and workers must be running to take its "
                "webhooks."
            ),
        )

    def handle(
        self, *args: Any, email: str, password: str, with_data: bool, sandbox: str, **options: Any
    ) -> None:
        user, organization = demo_ensure(email=email, password=password)
        self.stdout.write(f"Demo login {user.email} owns “{organization.name}”.")
        if with_data:
            filled = demo_fill(organization=organization, user=user, sandbox_url=sandbox)
            if filled.changed:
                self.stdout.write(
                    f"Demo data: {filled.contacts} contacts, {filled.templates} templates and "
                    f"{filled.automations} automations added."
                )
            else:
                self.stdout.write("Demo data: all there already; nothing changed.")
            self.stdout.write(f"History: {filled.history}.")
        self.stdout.write("Its slug:")
        self.stdout.write(organization.slug)
