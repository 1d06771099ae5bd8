from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from tenants.errors import ApplicationError
from tenants.models import User, normalize_email
from tenants.services.accounts import user_create
from tenants.services.organizations import organization_create


class Command(BaseCommand):
    help = (
        "Create an organization owned by EMAIL (a new user with PASSWORD, or an existing one). "
        "Prints the organization's slug on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", required=True)
        parser.add_argument("--time-zone", default="UTC")
        parser.add_argument("--country", default="US", help="default country for phone numbers")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        email = normalize_email(options["owner_email"])
        try:
            owner = User.objects.filter(email=email).first()
            if owner is None:
                owner = user_create(email=email, password=options["owner_password"])
            elif not owner.check_password(options["owner_password"]):
                raise CommandError(f"{email} already exists and the password does not match.")
            organization = organization_create(
                name=options["name"],
                owner=owner,
                time_zone=options["time_zone"],
                default_country=options["country"].upper(),
            )
        except ApplicationError as exc:
            raise CommandError(exc.describe()) from exc
        self.stdout.write(organization.slug)
