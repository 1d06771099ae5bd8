from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messaging.services.retention import BATCH_SIZE, messages_delete_expired


class Command(BaseCommand):
    help = (
        "Delete messages, and their events, older than their organization's retention period "
        "(Settings → message retention, 400 days unless changed), in batches. Beat runs this "
        "every night."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"messages deleted per transaction (default {BATCH_SIZE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        count = messages_delete_expired(batch_size=options["batch_size"])
        self.stdout.write(f"{count} expired message(s) deleted.")
