import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from tenants.models import User
from tenants.tasks import sessions_clear_expired

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return User.objects.create_user("Ada@Example.com", "a-long-passphrase", full_name="Ada")


def test_it_stores_the_email_in_lower_case(user):
    assert user.email == "ada@example.com"


def test_it_shows_the_login_form(client):
    response = client.get("/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<label for="id_username">Email</label>' in page
    assert 'type="email"' in page
    assert 'type="password"' in page


def test_it_logs_in_with_email_in_any_case(client, user):
    response = client.post(
        "/login/", {"username": "ADA@example.com", "password": "a-long-passphrase"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_it_rejects_a_wrong_password(client, user):
    response = client.post("/login/", {"username": "ada@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_it_logs_out_on_post(client, user):
    client.force_login(user)
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_pages_carry_security_headers(client):
    response = client.get("/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert "Secure" in str(response.cookies["csrftoken"])


def test_the_app_serves_its_own_static_files(client):
    page = client.get("/login/").content.decode()
    href = re.search(r'href="(/static/tenants/app\.[0-9a-f]+\.css)"', page)
    assert href, "the stylesheet should be linked under its hashed name"
    response = client.get(href.group(1))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"--accent" in b"".join(response.streaming_content)


def test_it_clears_expired_sessions_only():
    now = timezone.now()
    Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(days=1))
    Session.objects.create(session_key="live", session_data="", expire_date=now + timedelta(days=1))
    assert sessions_clear_expired.delay().get() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
