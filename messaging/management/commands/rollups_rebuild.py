import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messaging.rollup_sql import rollup_rebuild
from tenants.models import Organization


class Command(BaseCommand):
    help = (
        "Recount the dashboard's message rollup from the messages, for one organization "
        "(--organization, its public id) or every one. The rollup is kept by database "
        "triggers; this is for after a manual change to the database. On PostgreSQL, writers "
        "wait for the recount (seconds for a million messages)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", help="the organization's public id (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization_id = None
        if options["organization"]:
            try:
                public_id = uuid.UUID(options["organization"])
            except ValueError:
                organization = None
            else:
                organization = Organization.objects.filter(public_id=public_id).first()
            if organization is None:
                raise CommandError(f"No organization has the id {options['organization']!r}.")
            organization_id = organization.pk
        rows = rollup_rebuild(organization_id)
        self.stdout.write(f"Rollup rebuilt: {rows} row(s).")
