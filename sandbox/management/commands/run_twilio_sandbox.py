from __future__ import annotations

import argparse
import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.server import build_app, describe, serve
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
        parser.add_argument(
            "--http-500-rate", type=rate, default=0.0, help="share of creates answered 500"
        )
        parser.add_argument(
            "--http-500-created-rate",
            type=rate,
            default=1.0,
            help="of those 500s, the share where the message was created first",
        )
        parser.add_argument(
            "--slow-rate",
            type=rate,
            default=0.0,
            help="share of creates stored at once but answered only after --slow-ms",
        )
        parser.add_argument(
            "--slow-ms",
            type=milliseconds,
            default=15_000,
            help="how late a slow create is answered (past the caller's read timeout)",
        )
        parser.add_argument("--shuffle-callbacks", action="store_true")
        parser.add_argument("--duplicate-callbacks", action="store_true")
        parser.add_argument(
            "--hold-callbacks",
            action="store_true",
            help="keep status callbacks back until POST /sandbox/callbacks/release",
        )
        parser.add_argument(
            "--callback-retries",
            type=int,
            default=0,
            help="post a callback again this many times while the web answers 5xx or not at all",
        )
        parser.add_argument(
            "--callback-retry-ms",
            type=milliseconds,
            default=1000,
            help="wait between a callback's attempts",
        )
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
        if options["http_429_rate"] + options["http_500_rate"] + options["slow_rate"] > 1:
            raise CommandError(
                "--http-429-rate, --http-500-rate and --slow-rate add up to more than 1"
            )
        if not 0 <= options["callback_retries"] <= 5:
            raise CommandError("--callback-retries must be between 0 and 5 (as Twilio's #rc=)")
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
            http_500_created_rate=options["http_500_created_rate"],
            slow_rate=options["slow_rate"],
            slow_ms=options["slow_ms"],
            hold_callbacks=options["hold_callbacks"],
            callback_retries=options["callback_retries"],
            callback_retry_ms=options["callback_retry_ms"],
            shuffle_callbacks=options["shuffle_callbacks"],
            duplicate_callbacks=options["duplicate_callbacks"],
            seed=options["seed"],
            callback_concurrency=options["callback_concurrency"],
        )
        url = f"http://{options['host']}:{options['port']}"
        self.stdout.write(describe(config, url))
        self.stdout.flush()
        asyncio.run(serve(build_app(config), options["host"], options["port"]))
