"""Checking Twilio details: formats first (no network), then Twilio, then compliance."""

from typing import Any

import pytest
import requests
import responses

from connections.models import ComplianceState, SenderType
from connections.services.twilio_verify import (
    TwilioUnavailable,
    phone_number_clean,
    twilio_input_clean,
    twilio_verify,
)
from tenants.errors import ApplicationError
from tests import twilio_mocks as tw


def clean(**changes):
    values: dict[str, Any] = {
        "account_sid": tw.ACCOUNT_SID,
        "auth_token": tw.AUTH_TOKEN,
        "phone_number": tw.NUMBER,
        "messaging_service_sid": "",
        "default_country": "US",
    }
    values.update(changes)
    return twilio_input_clean(**values)


def verify(**changes):
    return twilio_verify(clean(**changes))


@pytest.mark.parametrize(
    "raw", ["(415) 555-0100", "415.555.0100", "+1 415 555 0100", "415-555-0100", " +14155550100 "]
)
def test_it_reads_any_sensible_number_format(raw):
    assert phone_number_clean(raw, "US") == "+14155550100"


def test_it_reads_national_numbers_with_the_organizations_country():
    assert phone_number_clean("020 7946 0958", "GB") == "+442079460958"


def test_it_keeps_a_short_code_as_digits():
    assert phone_number_clean("894546", "US") == "894546"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("415-555-CALL", "only digits"),
        ("+1 415 555", "not a valid phone number"),
        ("", "Enter the sender's phone number."),
    ],
)
def test_it_refuses_bad_numbers(raw, reason):
    with pytest.raises(ApplicationError) as excinfo:
        phone_number_clean(raw, "US")
    assert reason in excinfo.value.fields["phone_number"][0]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"account_sid": "AC123"}, "account_sid"),
        ({"account_sid": "XX" + "a" * 32}, "account_sid"),
        ({"account_sid": "AC" + "g" * 32}, "account_sid"),
        ({"auth_token": ""}, "auth_token"),
        ({"auth_token": "z" * 32}, "auth_token"),
        ({"auth_token": "abc123"}, "auth_token"),
        ({"phone_number": "", "messaging_service_sid": "MG123"}, "messaging_service_sid"),
        ({"messaging_service_sid": tw.SERVICE_SID}, "phone_number"),
    ],
)
def test_it_refuses_bad_formats_before_asking_twilio(changes, field, rsps):
    with pytest.raises(ApplicationError) as excinfo:
        clean(**changes)
    assert field in excinfo.value.fields
    assert len(rsps.calls) == 0


def test_it_accepts_sids_with_upper_case_hex():
    data = clean(account_sid="AC" + tw.ACCOUNT_SID[2:].upper())
    assert data.account_sid == tw.ACCOUNT_SID


def test_it_checks_account_number_and_10dlc_with_exact_requests():
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        facts = verify(phone_number="(415) 555-0100")
        assert tw.requests_made(rsps) == [
            f"GET /2010-04-01/Accounts/{tw.ACCOUNT_SID}.json",
            f"GET /2010-04-01/Accounts/{tw.ACCOUNT_SID}/IncomingPhoneNumbers.json"
            "?PhoneNumber=%2B14155550100&PageSize=1",
            "GET /v1/Services?PageSize=50",
            f"GET /v1/Services/{tw.SERVICE_SID}/PhoneNumbers?PageSize=1000",
        ]
    assert facts.sender_type == SenderType.LOCAL
    assert facts.sender_country == "US"
    assert facts.phone_number_sid == tw.NUMBER_SID
    assert facts.compliance_state == ComplianceState.REGISTERED
    assert facts.account_type == "Full"


def test_wrong_keys_name_the_token(rsps):
    tw.account_refused(rsps)
    with pytest.raises(ApplicationError) as excinfo:
        verify()
    assert excinfo.value.message == "Account SID or Auth Token is wrong."
    assert excinfo.value.fields == {"auth_token": ["Account SID or Auth Token is wrong."]}


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_it_refuses_a_suspended_or_closed_account(status, rsps):
    tw.account(rsps, status=status)
    with pytest.raises(ApplicationError) as excinfo:
        verify()
    assert f"This Twilio account is {status}." in excinfo.value.fields["account_sid"][0]


def test_a_trial_account_is_accepted():
    with responses.RequestsMock() as rsps:
        tw.account(rsps, type="Trial")
        tw.incoming_number(rsps)
        tw.services(rsps, (tw.SERVICE_SID, True, [tw.NUMBER]))
        assert verify().account_type == "Trial"


def test_a_number_not_in_the_account_is_refused(rsps):
    tw.account(rsps)
    tw.incoming_number(rsps, found=False)
    with pytest.raises(ApplicationError) as excinfo:
        verify()
    assert (
        "+14155550100 is not a number of this Twilio account"
        in excinfo.value.fields["phone_number"][0]
    )


def test_a_number_without_sms_is_refused(rsps):
    tw.account(rsps)
    tw.incoming_number(rsps, sms=False)
    with pytest.raises(ApplicationError) as excinfo:
        verify()
    assert "cannot send SMS" in excinfo.value.fields["phone_number"][0]


def test_a_messaging_service_is_checked_and_its_us_numbers_registration_read():
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.messaging_service(rsps, registered=False)
        tw.service_numbers(rsps)
        facts = verify(phone_number="", messaging_service_sid=tw.SERVICE_SID)
        assert tw.requests_made(rsps) == [
            f"GET /2010-04-01/Accounts/{tw.ACCOUNT_SID}.json",
            f"GET /v1/Services/{tw.SERVICE_SID}",
            f"GET /v1/Services/{tw.SERVICE_SID}/PhoneNumbers?PageSize=1000",
        ]
    assert facts.sender_type == SenderType.MESSAGING_SERVICE
    assert facts.compliance_state == ComplianceState.UNREGISTERED


def test_a_messaging_service_without_us_numbers_needs_no_registration():
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.messaging_service(rsps, registered=False)
        tw.service_numbers(rsps, numbers=["+442079460958"])
        facts = verify(phone_number="", messaging_service_sid=tw.SERVICE_SID)
    assert facts.compliance_state == ComplianceState.NOT_REQUIRED


def test_an_unknown_messaging_service_is_refused(rsps):
    tw.account(rsps)
    tw.messaging_service_missing(rsps)
    with pytest.raises(ApplicationError) as excinfo:
        verify(phone_number="", messaging_service_sid=tw.SERVICE_SID)
    assert (
        "is not a Messaging Service of this Twilio account"
        in (excinfo.value.fields["messaging_service_sid"][0])
    )


def test_a_us_number_in_an_unregistered_service_is_unregistered():
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps, registered=False)
        facts = verify()
    assert facts.compliance_state == ComplianceState.UNREGISTERED
    assert facts.compliance_detail == "in Messaging Service “Acme marketing campaign”"


def test_a_us_number_in_no_service_is_unregistered():
    other = "MG" + "1" * 32
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.incoming_number(rsps)
        tw.services(rsps, (other, True, ["+14155550199"]))
        facts = verify()
    assert facts.compliance_state == ComplianceState.UNREGISTERED
    assert facts.compliance_detail == "not in any Messaging Service"


def test_a_number_outside_the_us_needs_no_registration():
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.incoming_number(rsps, "+442079460958")
        facts = verify(phone_number="+44 20 7946 0958")
        assert len(rsps.calls) == 2
    assert (facts.sender_country, facts.compliance_state) == ("GB", ComplianceState.NOT_REQUIRED)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("TWILIO_APPROVED", ComplianceState.REGISTERED),
        ("IN_REVIEW", ComplianceState.PENDING),
        ("PENDING_REVIEW", ComplianceState.PENDING),
        ("TWILIO_REJECTED", ComplianceState.REJECTED),
        (None, ComplianceState.UNREGISTERED),
    ],
)
def test_a_toll_free_number_reads_its_verification(status, state):
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.incoming_number(rsps, tw.TOLL_FREE, sid=tw.TOLL_FREE_SID)
        tw.toll_free_verification(rsps, status)
        facts = verify(phone_number="(800) 555-0199")
    assert facts.sender_type == SenderType.TOLL_FREE
    assert facts.compliance_state == state


def test_a_short_code_is_found_among_the_accounts_short_codes():
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.short_code(rsps)
        facts = verify(phone_number=tw.SHORT_CODE)
    assert (facts.sender_type, facts.phone_number_sid) == (SenderType.SHORT_CODE, tw.SHORT_CODE_SID)


def test_a_short_code_not_in_the_account_is_refused(rsps):
    tw.account(rsps)
    tw.short_code(rsps, found=False)
    with pytest.raises(ApplicationError) as excinfo:
        verify(phone_number=tw.SHORT_CODE)
    assert "is not in this Twilio account" in excinfo.value.fields["phone_number"][0]


@pytest.mark.parametrize(
    "failure", [requests.ConnectTimeout("timed out"), requests.ReadTimeout("timed out")]
)
def test_twilio_not_answering_is_a_clear_error(failure, rsps):
    rsps.get(tw.ACCOUNT_URL, body=failure)
    with pytest.raises(TwilioUnavailable) as excinfo:
        verify()
    assert excinfo.value.status == 502
    assert "Nothing was saved" in excinfo.value.message


def test_a_compliance_lookup_failure_only_warns():
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.incoming_number(rsps)
        rsps.get(f"{tw.MESSAGING}/Services", json={"message": "oops", "status": 500}, status=500)
        facts = verify()
    assert facts.compliance_state == ComplianceState.UNKNOWN
    assert facts.sender_type == SenderType.LOCAL
