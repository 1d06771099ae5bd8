"""Loaded with ``-p tests.environment`` before Django reads its settings.

Tests run with production settings (``DEBUG`` off), so they need the two required secrets
and somewhere to send e-mail (kept in memory: pytest-django swaps in its own outbox anyway,
and processes the tests start inherit it). These test-only values apply only where the
environment leaves them unset; DATABASE_URL, CELERY_BROKER_URL and REDIS_URL are taken from
the environment as they are.
"""

import os

os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
# A fixed, test-only Fernet key (32 zero bytes would do as well, but looks too much like one).
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA=")
os.environ.setdefault("PUBLIC_BASE_URL", "https://hub.example.com")
os.environ.setdefault("EMAIL_URL", "locmem://")
# Requests arrive as through docker-compose's TLS-terminating proxy (X-Forwarded-Proto).
os.environ.setdefault("TRUSTED_PROXY_COUNT", "1")
