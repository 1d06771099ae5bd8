from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tenants.services import demo_user_ensure


class Command(BaseCommand):
    help = "Create the development demo login (used by `make run`) if it does not exist yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", default="demo@example.com")
        parser.add_argument("--password", required=True)

    def handle(self, *args: Any, email: str, password: str, **options: Any) -> None:
        user, created = demo_user_ensure(email=email, password=password)
        verb = "Created" if created else "Found"
        self.stdout.write(f"{verb} demo user {user.email}")
