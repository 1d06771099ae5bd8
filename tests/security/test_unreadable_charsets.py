"""A query string Django cannot decode with the request's charset is a 400 before Django."""

from __future__ import annotations

import io
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from tests.messaging import webhook_helpers as wh
from tests.security.fuzzing import (
    FORM,
    snapshot,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("charset", ["rot13", "base64", "hex", "zlib", "punycode", "undefined"])
def test_a_webhook_with_a_query_string_and_a_charset_that_is_no_text_is_a_400(world, charset):
    """Django decodes the query string with the Content-Type's charset while it builds the
    request, outside its own error handling: ``?retry=1`` with ``charset=rot13`` made every
    address a 500 before any view ran. Through the application gunicorn serves, it is a 400
    (the test client builds its requests without it, so this calls it directly)."""
    from config.wsgi import application

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": wh.inbound_path(world.inbound_keys["ours"]),
        "QUERY_STRING": "retry=1",
        "CONTENT_TYPE": f"{FORM}; charset={charset}",
        "CONTENT_LENGTH": "9",
        "wsgi.input": io.BytesIO(b"Body=STOP"),
    }
    setup_testing_defaults(environ)
    answered: list[str] = []
    before = snapshot()

    body = b"".join(application(environ, lambda status, headers: answered.append(status)))

    assert answered == ["400 Bad Request"]
    assert b"charset" in body
    assert snapshot() == before


def test_a_query_string_readable_with_its_charset_reaches_django():
    """The control: a charset Django can read (or one it does not know and ignores), or no
    query string, is passed on to Django untouched."""
    from config.wsgi import refusing_unreadable_queries

    reached: list[str] = []

    def django(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        reached.append(environ["QUERY_STRING"])
        return []

    app = refusing_unreadable_queries(django)
    for content_type, query in [
        (f"{FORM}; charset=utf-8", "retry=1"),
        (f"{FORM}; charset=no-such-charset", "retry=1"),
        (f"{FORM}; charset=rot13", ""),
        ("", "retry=1"),
    ]:
        app({"CONTENT_TYPE": content_type, "QUERY_STRING": query}, lambda *a: None)

    assert reached == ["retry=1", "retry=1", "", "retry=1"]
