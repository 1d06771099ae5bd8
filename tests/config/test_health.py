import pytest
from django.db import OperationalError

from config import health
from config.celery import app as celery_app


@pytest.mark.django_db
def test_it_reports_healthy_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["broker"]["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_it_answers_plain_http_without_redirecting(plain_http_client):
    assert plain_http_client.get("/healthz").status_code == 200
    redirected = plain_http_client.get("/login/")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/login/"


@pytest.mark.django_db
def test_it_names_the_database_when_it_does_not_answer(client, monkeypatch):
    def broken() -> None:
        raise OperationalError("could not connect to server at db.internal:5432 password=s3cret")

    monkeypatch.setattr(health, "check_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert body["message"] == "Not answering: database."
    assert body["checks"]["database"] == {"status": "error", "error": "OperationalError"}
    assert body["checks"]["broker"]["status"] == "ok"
    assert b"s3cret" not in response.content


@pytest.fixture
def unreachable_broker(monkeypatch):
    conf = celery_app.conf
    saved = {
        "broker_url": conf.broker_url,
        "broker_transport_options": conf.broker_transport_options,
    }
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    unreachable = "redis://127.0.0.1:1/0"
    monkeypatch.setenv("CELERY_BROKER_URL", unreachable)  # Celery reads it before its config
    conf.update(broker_url=unreachable, broker_transport_options={})
    yield
    conf.update(saved)


@pytest.mark.django_db
@pytest.mark.usefixtures("unreachable_broker")
def test_it_names_the_broker_when_it_does_not_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    assert response.json()["checks"]["database"]["status"] == "ok"


def test_it_refuses_writes(client):
    assert client.post("/healthz").status_code == 405
