import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.errors import ApplicationError
from tenants.models import API_KEY_ROLES, Organization
from tenants.services.api_keys import api_key_create


@contextmanager
def logs_to_stderr() -> Iterator[None]:
    """For the block, log handlers writing to stdout write to stderr instead.

    Logs go to stdout, but this command's stdout is its answer, which scripts capture: the
    event is still logged, only not into the answer.
    """
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    handlers = {id(h): h for logger in loggers for h in logger.handlers}.values()
    moved = [
        (handler, handler.setStream(sys.stderr))
        for handler in handlers
        if isinstance(handler, logging.StreamHandler)
        and handler.stream in (sys.stdout, sys.__stdout__)
    ]
    try:
        yield
    finally:
        for handler, stream in moved:
            handler.setStream(stream)


class Command(BaseCommand):
    help = "Create an API key for an organization and print it (only the key; it is shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", metavar="org-slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", default="admin", choices=[str(r) for r in API_KEY_ROLES])

    def handle(self, *args: Any, organization: str, name: str, role: str, **options: Any) -> None:
        org = Organization.objects.active().filter(slug=organization).first()
        if org is None:
            raise CommandError(f"No organization with the slug “{organization}”.")
        with logs_to_stderr():
            try:
                _api_key, key = api_key_create(organization=org, name=name, role=role)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(key)
