from __future__ import annotations

import argparse
from typing import Any

from aiohttp import web
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.server import build_app, describe
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS, E164, Options


def milliseconds(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("milliseconds cannot be negative")
    return number


def rate(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError("a rate is a fraction between 0 and 1")
    return number


class Command(BaseCommand):
    help = "Run a local stand-in for Twilio's REST API (development, tests and benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8010)
        parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
        parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
        parser.add_argument(
            "--numbers",
            default=",".join(DEFAULT_NUMBERS),
            help="comma-separated E.164 numbers of the account",
        )
        parser.add_argument(
            "--latency-ms", type=milliseconds, default=0, help="delay of each create"
        )
        parser.add_argument(
            "--callback-delay-ms",
            type=milliseconds,
            default=200,
            help="delay before each status callback",
        )
        parser.add_argument("--undelivered-rate", type=rate, default=0.0)
        parser.add_argument("--failed-rate", type=rate, default=0.0)
        parser.add_argument("--http-429-rate", type=rate, default=0.0)
        parser.add_argument("--http-500-rate", type=rate, default=0.0)
        parser.add_argument("--shuffle-callbacks", action="store_true")
        parser.add_argument("--duplicate-callbacks", action="store_true")
        parser.add_argument("--seed", type=int, default=None, help="repeatable random draws")
        parser.add_argument(
            "--callback-concurrency",
            type=int,
            default=16,
            help="webhooks in flight at once; the others wait in the sandbox",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        numbers = tuple(n.strip() for n in options["numbers"].split(",") if n.strip())
        bad = [n for n in numbers if not E164.match(n)]
        if bad or not numbers:
            raise CommandError(f"--numbers must be E.164 numbers such as +14155550100: {bad}")
        if options["callback_concurrency"] < 1:
            raise CommandError("--callback-concurrency must be at least 1")
        if options["undelivered_rate"] + options["failed_rate"] > 1:
            raise CommandError("--undelivered-rate and --failed-rate add up to more than 1")
        config = Options(
            account_sid=options["account_sid"],
            auth_token=options["auth_token"],
            numbers=numbers,
            latency_ms=options["latency_ms"],
            callback_delay_ms=options["callback_delay_ms"],
            undelivered_rate=options["undelivered_rate"],
            failed_rate=options["failed_rate"],
            http_429_rate=options["http_429_rate"],
            http_500_rate=options["http_500_rate"],
            shuffle_callbacks=options["shuffle_callbacks"],
            duplicate_callbacks=options["duplicate_callbacks"],
            seed=options["seed"],
            callback_concurrency=options["callback_concurrency"],
        )
        url = f"http://{options['host']}:{options['port']}"
        self.stdout.write(describe(config, url))
        self.stdout.flush()
        web.run_app(
            build_app(config),
            host=options["host"],
            port=options["port"],
            print=None,
            access_log=None,
        )
