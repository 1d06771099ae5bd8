"""The API's OpenAPI schema as the app generates it, and the API's routes as Django resolves
them, for the tests of tests/api."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from tenants.api_docs import api_schema

API_PREFIX = "api/v1/"
# Routes under /api/v1/ that are not operations: the schema and its docs, and the catch-all.
NOT_OPERATIONS = {"api_schema", "api_docs"}
SKIPPED_METHODS = {"options", "head"}


def generated_schema() -> dict[str, Any]:
    """The schema /api/v1/schema/ serves."""
    return api_schema()


def _walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def api_operations() -> list[tuple[str, str]]:
    """Every (method, OpenAPI path) that a route under /api/v1/ answers: the methods its view
    defines, with ``<str:contact_id>`` written ``{contact_id}``."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns, ""):
        if not route.startswith(API_PREFIX) or pattern.name in NOT_OPERATIONS:
            continue
        view = getattr(pattern.callback, "view_class", None)
        if view is None or route.startswith(f"{API_PREFIX}^"):  # the catch-all (a function)
            continue
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        for method in view.http_method_names:
            if method not in SKIPPED_METHODS and callable(getattr(view, method, None)):
                found.append((method, path))
    return found
