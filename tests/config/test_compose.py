"""docker-compose.yml is the documented production shape; it passes every configured variable."""

from pathlib import Path

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
VARIABLES = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "FIELD_ENCRYPTION_KEYS",
    "PUBLIC_BASE_URL",
    "TWILIO_API_BASE_URL",
    "TWILIO_MESSAGING_BASE_URL",
    "TWILIO_PRICING_BASE_URL",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "TRUSTED_PROXY_COUNT",
}
APP_SERVICES = ("web", "worker", "worker-send", "beat")


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_it_has_the_production_services(services):
    assert {"web", "worker", "worker-send", "beat", "postgres", "redis"} <= set(services)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_process_gets_every_variable(services, name):
    environment = services[name]["environment"]
    assert set(environment) == VARIABLES
    assert environment["DEBUG"] == "false"
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["DATABASE_URL"].endswith("@postgres:5432/smshub")
    assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")


def test_secrets_are_required_from_the_operator_not_written_down(services):
    environment = services["web"]["environment"]
    assert environment["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    assert (
        environment["FIELD_ENCRYPTION_KEYS"]
        == "${FIELD_ENCRYPTION_KEYS:?set FIELD_ENCRYPTION_KEYS}"
    )
    # Password-reset and invitation e-mails need a real mail server in production.
    assert environment["EMAIL_URL"] == "${EMAIL_URL:?set EMAIL_URL}"


def test_it_trusts_the_one_tls_proxy_in_front_by_default(services):
    assert services["web"]["environment"]["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def test_web_runs_gunicorn_and_workers_serve_their_queues(services):
    assert services["web"]["command"][:2] == ["gunicorn", "config.wsgi"]
    worker = " ".join(services["worker"]["command"])
    sender = " ".join(services["worker-send"]["command"])
    assert "-Q default -P prefork" in worker
    assert "-Q send -P threads" in sender
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_stateful_services_keep_their_data_on_volumes(services):
    assert services["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert services["beat"]["volumes"] == ["beat-state:/app/var/beat"]
