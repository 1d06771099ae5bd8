from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tenants.services.accounts import demo_ensure


class Command(BaseCommand):
    help = (
        "Create the development demo login and its organization (used by `make run`). "
        "Prints the organization's slug on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", default="demo@example.com")
        parser.add_argument("--password", required=True)

    def handle(self, *args: Any, email: str, password: str, **options: Any) -> None:
        user, organization = demo_ensure(email=email, password=password)
        self.stdout.write(f"Demo login {user.email} owns “{organization.name}”; its slug:")
        self.stdout.write(organization.slug)
