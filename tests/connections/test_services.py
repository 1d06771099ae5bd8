import base64
from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from django.utils import timezone

from connections.models import Connection, ConnectionState, TwilioCredentials
from connections.services import connections as svc
from connections.twilio_errors import ErrorKind, TwilioError
from tenants.actor import Actor
from tenants.errors import AccessDenied, ApplicationError
from tests import twilio_mocks as tw
from tests.connections import helpers

pytestmark = pytest.mark.django_db


def admin(personas) -> Actor:
    return Actor.for_membership(personas.membership("admin"))


def twilio_connect(personas, **changes):
    """The service under test, as an admin, with the fixture account's details unless changed;
    Twilio answers whatever the test registered on ``rsps``."""
    values = {
        "organization": personas.org,
        "by": admin(personas),
        "account_sid": tw.ACCOUNT_SID,
        "auth_token": tw.AUTH_TOKEN,
        "phone_number": tw.NUMBER,
    }
    values.update(changes)
    return svc.twilio_connect(**values)


def test_it_saves_a_verified_connection_with_defaults_for_the_sender(personas):
    connection = helpers.connect(personas, "admin")
    credentials = TwilioCredentials.objects.get(connection=connection)
    assert connection.state == ConnectionState.CONNECTED
    assert connection.verified_at is not None
    assert credentials.phone_number == tw.NUMBER
    assert credentials.phone_number_sid == tw.NUMBER_SID
    assert credentials.send_rate == Decimal(1)
    assert credentials.auth_token().reveal() == tw.AUTH_TOKEN
    assert credentials.auth_token_last4 == tw.AUTH_TOKEN[-4:]


def test_only_admins_connect(personas, rsps):
    marketer = Actor.for_membership(personas.membership("marketer"))
    with pytest.raises(AccessDenied):
        twilio_connect(personas, by=marketer)
    assert len(rsps.calls) == 0
    assert not Connection.objects.exists()


def test_a_failing_reconnect_leaves_the_working_connection_untouched(personas, rsps):
    connection = helpers.connect(personas, "admin")
    before = TwilioCredentials.objects.filter(connection=connection).values().get()
    tw.account(rsps)
    tw.incoming_number(rsps, "+14155550123", found=False)
    with pytest.raises(ApplicationError):
        twilio_connect(personas, phone_number="+1 415 555 0123")
    assert TwilioCredentials.objects.filter(connection=connection).values().get() == before
    connection.refresh_from_db()
    assert connection.state == ConnectionState.CONNECTED


def test_reconnecting_after_a_disconnect_reuses_the_row_and_its_inbound_key(personas):
    connection = helpers.connect(personas, "admin")
    key = connection.inbound_key
    svc.connection_disconnect(connection=connection, by=admin(personas))
    assert not TwilioCredentials.objects.exists()
    again = helpers.connect(personas, "admin")
    assert again.pk == connection.pk
    assert again.inbound_key == key
    assert Connection.objects.count() == 1


def test_the_token_may_be_left_out_for_the_same_account_only(personas):
    helpers.connect(personas, "admin")
    expected = "Basic " + base64.b64encode(f"{tw.ACCOUNT_SID}:{tw.AUTH_TOKEN}".encode()).decode()
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        twilio_connect(personas, auth_token="")
        assert {c.request.headers["Authorization"] for c in rsps.calls} == {expected}
    other_sid = "AC" + "2" * 32
    with pytest.raises(ApplicationError) as excinfo:
        twilio_connect(personas, account_sid=other_sid, auth_token="")
    assert "auth_token" in excinfo.value.fields


def test_a_custom_send_rate_survives_reconnecting_with_the_same_kind_of_sender(personas):
    connection = helpers.connect(personas, "admin")
    svc.twilio_set_send_rate(connection=connection, send_rate=Decimal("4.5"), by=admin(personas))
    helpers.connect(personas, "admin")
    assert TwilioCredentials.objects.get().send_rate == Decimal("4.5")


def test_reverify_marks_a_refused_connection_failing_and_recovers(personas, rsps):
    connection = helpers.connect(personas, "admin")
    tw.account_refused(rsps)
    with pytest.raises(ApplicationError):
        svc.twilio_reverify(connection=connection, by=admin(personas))
    connection.refresh_from_db()
    assert connection.state == ConnectionState.FAILING
    assert connection.last_error == "Account SID or Auth Token is wrong."
    assert connection.can_send is True
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps, registered=False)
        svc.twilio_reverify(connection=connection, by=admin(personas))
    connection.refresh_from_db()
    assert (connection.state, connection.last_error) == (ConnectionState.CONNECTED, "")
    assert TwilioCredentials.objects.get().compliance_state == "unregistered"


def test_a_sender_hitting_20003_marks_the_connection_failing(personas):
    connection = helpers.connect(personas, "admin")
    error = TwilioError("Twilio refused", kind=ErrorKind.PERMANENT, code=20003, status=401)
    svc.connection_note_twilio_error(connection=connection, error=error)
    connection.refresh_from_db()
    assert connection.state == ConnectionState.FAILING


def test_a_disconnected_connection_does_not_become_failing(personas):
    connection = helpers.connect(personas, "admin")
    svc.connection_disconnect(connection=connection, by=admin(personas))
    svc.connection_mark_failing(connection=connection, reason="x")
    connection.refresh_from_db()
    assert connection.state == ConnectionState.DISCONNECTED
    assert connection.can_send is False


def seen(connection: Connection) -> dict:
    return {"connection_id": connection.pk, "last_webhook_at": connection.last_webhook_at}


def test_webhook_records_are_written_at_most_once_a_minute(personas):
    connection = helpers.connect(personas, "admin")
    assert svc.connection_record_webhook(**seen(connection), signature_valid=True) is True
    assert svc.connection_record_webhook(**seen(connection), signature_valid=False) is False
    connection.refresh_from_db()
    assert connection.last_webhook_signature_valid is True
    Connection.objects.filter(pk=connection.pk).update(
        last_webhook_at=timezone.now() - timedelta(seconds=61)
    )
    connection.refresh_from_db()  # each webhook request loads the connection afresh
    assert svc.connection_record_webhook(**seen(connection), signature_valid=False) is True
    connection.refresh_from_db()
    assert connection.last_webhook_signature_valid is False


def test_the_inbound_webhook_url_uses_the_public_base_url(personas):
    connection = helpers.connect(personas, "admin")
    assert svc.inbound_webhook_url(connection) == (
        f"https://hub.example.com/webhooks/twilio/inbound/{connection.inbound_key}"
    )


def test_the_token_never_reaches_a_log_line(personas, caplog, capsys, rsps):
    caplog.set_level("DEBUG")
    connection = helpers.connect(personas, "admin")
    tw.account_refused(rsps)
    with pytest.raises(ApplicationError):
        svc.twilio_reverify(connection=connection, by=admin(personas))
    output = capsys.readouterr()
    everything = "\n".join(r.getMessage() for r in caplog.records) + output.out + output.err
    assert "twilio connected" in everything
    assert tw.AUTH_TOKEN not in everything
