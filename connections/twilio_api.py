"""The Twilio seam: the only module that calls Twilio's REST API.

It builds ``twilio.rest.Client`` pointed at ``TWILIO_API_BASE_URL``,
``TWILIO_MESSAGING_BASE_URL`` and ``TWILIO_PRICING_BASE_URL`` (never at Twilio's edge or
region options), with explicit
timeouts and no hidden retries, and turns every failure into one exception, ``TwilioError``
(``connections.twilio_errors``), whose ``kind`` says what a caller may do next.

Credentials arrive as a ``Secret`` and are revealed only to build the client. Results come
back as small typed records, never as Twilio's objects (an account fetch carries the token).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from functools import partial
from typing import Any, TypeVar

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from connections.crypto import Secret
from connections.twilio_errors import (
    ErrorKind,
    TwilioError,
    classify_page,
    classify_rest,
    classify_transport,
)
from connections.twilio_prices import MessagingPrices, outbound_sms_prices
from connections.twilio_records import (
    Account,
    CreatedMessage,
    IncomingNumber,
    MessageRecord,
    MessagingService,
    ServiceNumber,
    ShortCode,
    TollFreeVerification,
    UsageRecord,
    message_record,
    usage_record,
)

logger = logging.getLogger(__name__)

# (connect, read) in seconds. A send must not hold a worker thread for long.
TIMEOUTS = (3.05, 10.0)

T = TypeVar("T")
NO_EDGE_OR_REGION = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}


_local = threading.local()


def _http_client() -> TwilioHttpClient:
    """One HTTP client (and connection pool) per thread; sends run on a thread pool."""
    client: TwilioHttpClient | None = getattr(_local, "http_client", None)
    if client is None:
        # The environment's proxy and CA settings are read once per thread, not on every
        # request: requests' per-request lookup (``trust_env``) walked os.environ twice a
        # call, 15% of the send task's CPU in bench.send_cpu's profile.
        proxies = requests.utils.get_environ_proxies(settings.TWILIO_API_BASE_URL)
        client = TwilioHttpClient(proxy=proxies or None)
        assert client.session is not None  # noqa: S101 - pooled: the library's default
        client.session.trust_env = False
        client.session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        # requests takes (connect, read); the library passes self.timeout through untouched
        # but its constructor accepts only one number, hence the attribute.
        client.timeout = TIMEOUTS
        _local.http_client = client
    return client


class TwilioGateway:
    """One Twilio account, as the rest of the project sees it."""

    @sensitive_variables("auth_token", "token")
    def __init__(self, account_sid: str, auth_token: Secret) -> None:
        self.account_sid = account_sid
        token = auth_token.reveal()
        # An environment of our own (the library reads os.environ when given an empty one)
        # keeps TWILIO_EDGE / TWILIO_REGION from rewriting the base URLs.
        self._client = Client(
            account_sid, token, http_client=_http_client(), environment=dict(NO_EDGE_OR_REGION)
        )
        self._client.api.base_url = settings.TWILIO_API_BASE_URL
        self._client.messaging.base_url = settings.TWILIO_MESSAGING_BASE_URL
        self._client.pricing.base_url = settings.TWILIO_PRICING_BASE_URL

    def __repr__(self) -> str:
        return f"<TwilioGateway {self.account_sid}>"

    def _call(self, what: str, call: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            result = call()
        except (TwilioRestException, TwilioServiceException) as exc:
            error = classify_rest(exc)
        except TwilioException as exc:
            error = classify_page(exc)
        except requests.RequestException as exc:
            error = classify_transport(exc)
        else:
            elapsed = (time.perf_counter() - started) * 1000
            logger.info("twilio %s ok account=%s %.0fms", what, self.account_sid, elapsed)
            return result
        elapsed = (time.perf_counter() - started) * 1000
        logger.warning(
            "twilio %s failed account=%s %.0fms: %s", what, self.account_sid, elapsed, error
        )
        raise error

    @property
    def _account(self) -> Any:
        return self._client.api.v2010.accounts(self.account_sid)

    def fetch_account(self) -> Account:
        instance = self._call("account fetch", lambda: self._account.fetch())
        return Account(
            sid=instance.sid,
            name=instance.friendly_name or "",
            status=instance.status or "",
            type=instance.type or "",
        )

    def find_incoming_number(self, phone_number: str) -> IncomingNumber | None:
        found = self._call(
            "incoming number lookup",
            lambda: self._account.incoming_phone_numbers.list(phone_number=phone_number, limit=1),
        )
        if not found:
            return None
        number = found[0]
        return IncomingNumber(
            sid=number.sid,
            phone_number=number.phone_number,
            sms=bool((number.capabilities or {}).get("sms")),
            sms_url=number.sms_url or "",
        )

    def find_short_code(self, short_code: str) -> ShortCode | None:
        found = self._call(
            "short code lookup",
            lambda: self._account.short_codes.list(short_code=short_code, limit=1),
        )
        if not found:
            return None
        return ShortCode(
            sid=found[0].sid, short_code=found[0].short_code, sms_url=found[0].sms_url or ""
        )

    def set_number_sms_url(self, number_sid: str, url: str) -> None:
        self._call(
            "incoming number update",
            lambda: self._account.incoming_phone_numbers(number_sid).update(
                sms_url=url, sms_method="POST"
            ),
        )

    def set_short_code_sms_url(self, short_code_sid: str, url: str) -> None:
        self._call(
            "short code update",
            lambda: self._account.short_codes(short_code_sid).update(
                sms_url=url, sms_method="POST"
            ),
        )

    def fetch_messaging_service(self, service_sid: str) -> MessagingService | None:
        """The service, or None when this account has no such service."""
        try:
            service = self._call(
                "messaging service fetch",
                lambda: self._client.messaging.v1.services(service_sid).fetch(),
            )
        except TwilioError as error:
            if error.status == 404:
                return None
            raise
        return MessagingService(
            sid=service.sid,
            name=service.friendly_name or "",
            us_a2p_registered=bool(service.us_app_to_person_registered),
        )

    def iter_messaging_services(self, limit: int = 100) -> Iterator[MessagingService]:
        services = self._call(
            "messaging service list",
            lambda: self._client.messaging.v1.services.list(limit=limit, page_size=50),
        )
        for service in services:
            yield MessagingService(
                sid=service.sid,
                name=service.friendly_name or "",
                us_a2p_registered=bool(service.us_app_to_person_registered),
            )

    def list_service_numbers(self, service_sid: str, limit: int = 1000) -> list[ServiceNumber]:
        numbers = self._call(
            "messaging service numbers",
            lambda: self._client.messaging.v1.services(service_sid).phone_numbers.list(
                limit=limit, page_size=1000
            ),
        )
        return [
            ServiceNumber(sid=n.sid, phone_number=n.phone_number, country_code=n.country_code or "")
            for n in numbers
        ]

    def find_toll_free_verification(self, number_sid: str) -> TollFreeVerification | None:
        found = self._call(
            "toll-free verification lookup",
            lambda: self._client.messaging.v1.tollfree_verifications.list(
                tollfree_phone_number_sid=number_sid, limit=1
            ),
        )
        if not found:
            return None
        return TollFreeVerification(sid=found[0].sid, status=found[0].status or "")

    def create_message(
        self,
        *,
        to: str,
        body: str,
        status_callback: str,
        from_: str = "",
        messaging_service_sid: str = "",
        media_url: str = "",
    ) -> CreatedMessage:
        """Sends one message: ``From`` or ``MessagingServiceSid``, never both."""
        params: dict[str, Any] = {"to": to, "body": body, "status_callback": status_callback}
        if messaging_service_sid:
            params["messaging_service_sid"] = messaging_service_sid
        else:
            params["from_"] = from_
        if media_url:
            params["media_url"] = [media_url]
        created = self._call("message create", lambda: self._account.messages.create(**params))
        segments = created.num_segments
        return CreatedMessage(
            sid=created.sid,
            status=created.status or "",
            num_segments=int(segments) if segments not in (None, "") else None,
        )

    def list_messages(self, *, to: str, from_: str = "", limit: int = 50) -> list[MessageRecord]:
        """The account's newest messages to ``to`` (and from ``from_`` when given), newest first.

        No date filter: Twilio filters on the date a message was *sent*, which a message still
        queued on Twilio's side does not have yet, and a reconciliation must see it."""
        params: dict[str, Any] = {"to": to, "limit": limit, "page_size": limit}
        if from_:
            params["from_"] = from_
        found = self._call("message list", lambda: self._account.messages.list(**params))
        return [message_record(message) for message in found]

    def fetch_message(self, sid: str) -> MessageRecord | None:
        """The message, or None when this account has no message with that SID."""
        try:
            message = self._call("message fetch", lambda: self._account.messages(sid).fetch())
        except TwilioError as error:
            if error.status == 404:
                return None
            raise
        return message_record(message)

    def fetch_messaging_prices(self, iso_country: str) -> MessagingPrices | None:
        """What this account pays to text ``iso_country`` (two capital letters), or None when
        Twilio has no prices for it (a 404: not a country it messages)."""
        try:
            country = self._call(
                f"messaging prices fetch {iso_country}",
                lambda: self._client.pricing.v1.messaging.countries(iso_country).fetch(),
            )
        except TwilioError as error:
            if error.status == 404:
                return None
            raise
        return MessagingPrices(
            iso_country=country.iso_country or iso_country,
            country=country.country or "",
            price_unit=(country.price_unit or "").upper(),
            outbound_sms=outbound_sms_prices(country.outbound_sms_prices),
        )

    def _daily_usage(self, category: str, start: date, end: date, page_size: int) -> list[Any]:
        found: list[Any] = self._account.usage.records.daily.list(
            category=category,
            start_date=start,
            end_date=end,
            include_subaccounts=False,
            page_size=page_size,
        )
        return found

    def list_daily_usage(
        self, *, start: date, end: date, categories: Sequence[str], page_size: int = 100
    ) -> list[UsageRecord]:
        """The account's usage per day from ``start`` to ``end`` (both included, UTC days) for
        each of ``categories``, every page of Twilio's answer read (``next_page_uri``).

        One request per category: Twilio's ``Category`` takes one. Only this account's own
        usage (``IncludeSubaccounts=false``): what the hub sends goes through this account,
        and a subaccount's texting belongs to whatever else uses it."""
        records: list[UsageRecord] = []
        for category in categories:
            try:
                found = self._call(
                    f"usage records {category}",
                    partial(self._daily_usage, category, start, end, page_size),
                )
                records.extend(usage_record(record) for record in found)
            except (ArithmeticError, TypeError, ValueError) as exc:
                # A figure that is not a number (the library reads prices as it pages).
                raise TwilioError(
                    f"Twilio's usage records could not be read ({type(exc).__name__}).",
                    kind=ErrorKind.PERMANENT,
                ) from exc
        return records
