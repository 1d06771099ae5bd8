from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from connections.crypto import DecryptionError, Secret, decrypt, encrypt
from connections.models import Connection, ConnectionKind, SenderType, TwilioCredentials

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def test_it_round_trips_and_never_stores_plaintext(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    ciphertext = encrypt("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert "0f1e2d3c4b5a" not in ciphertext
    assert decrypt(ciphertext).reveal() == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def test_a_secret_shows_nothing_of_itself():
    secret = Secret("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert repr(secret) == str(secret) == f"{secret}" == "Secret('********')"


def test_any_configured_key_decrypts_and_the_first_encrypts(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    old = encrypt("token")
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert decrypt(old).reveal() == "token"
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(DecryptionError):
        decrypt(old)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Fernet(NEW_KEY).decrypt(encrypt("x").encode()) == b"x"


@pytest.mark.django_db
def test_rotation_re_encrypts_every_secret_so_the_old_key_can_go(settings, personas):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    tokens = []
    for n, org in enumerate((personas.org, personas.other_org)):
        token = f"{n:032x}"
        tokens.append(token)
        connection = Connection.objects.create(organization=org, kind=ConnectionKind.TWILIO)
        TwilioCredentials.objects.create(
            connection=connection,
            account_sid="AC" + "1" * 32,
            auth_token_encrypted=encrypt(token),
            auth_token_last4=token[-4:],
            sender_type=SenderType.LOCAL,
            send_rate=1,
        )

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "connections.TwilioCredentials: 2 row(s) re-encrypted" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    stored = TwilioCredentials.objects.order_by("connection__organization__name")
    assert [c.auth_token().reveal() for c in stored] == tokens


@pytest.mark.django_db
def test_rotation_stops_with_a_clear_error_when_a_key_is_missing(settings, personas):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    connection = Connection.objects.create(organization=personas.org, kind=ConnectionKind.TWILIO)
    TwilioCredentials.objects.create(
        connection=connection,
        account_sid="AC" + "1" * 32,
        auth_token_encrypted=encrypt("f" * 32),
        auth_token_last4="ffff",
        sender_type=SenderType.LOCAL,
        send_rate=1,
    )
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_encryption_keys", stdout=StringIO())


@pytest.mark.django_db
def test_credentials_repr_and_str_show_at_most_the_last_four(settings, personas):
    connection = Connection.objects.create(organization=personas.org, kind=ConnectionKind.TWILIO)
    token = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    credentials = TwilioCredentials.objects.create(
        connection=connection,
        account_sid="AC" + "1" * 32,
        auth_token_encrypted=encrypt(token),
        auth_token_last4=token[-4:],
        phone_number="+14155550100",
        sender_type=SenderType.LOCAL,
        send_rate=1,
    )
    for text in (repr(credentials), str(credentials), repr(connection), str(connection)):
        assert token[:-4] not in text
        assert credentials.auth_token_encrypted not in text
