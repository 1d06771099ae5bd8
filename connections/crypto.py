"""The encryption of stored secrets lives in ``tenants.crypto`` (the lowest room), so that
every room can keep a secret (Twilio's Auth Token here, an outbound webhook's signing secret
in ``tenants.outbound``); these names stay importable from here."""

from tenants.crypto import DecryptionError, EncryptedTextField, Secret, decrypt, encrypt, reencrypt

__all__ = ["DecryptionError", "EncryptedTextField", "Secret", "decrypt", "encrypt", "reencrypt"]
