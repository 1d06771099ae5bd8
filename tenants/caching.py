"""What caches may keep of our answers.

``no_store`` marks a view whose answers show a secret (a new API key, an invitation link, the
inbound webhook URL with its key): no cache, private or shared, may keep them. On a class,
``method_decorator(no_store, name="dispatch")``; subclasses inherit it.

``PrivateCacheMiddleware`` makes every answer to a signed-in session (or to a request with
credentials in ``Authorization``) ``private``, so no shared cache keeps one person's page for
another. It only adds: a stricter ``no-store`` already set stays, and ``public`` goes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import add_never_cache_headers, patch_cache_control

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def no_store(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        # Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private (and Expires).
        add_never_cache_headers(response)
        return response

    return wrapped  # type: ignore[return-value]


class PrivateCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or "HTTP_AUTHORIZATION" in request.META:
            patch_cache_control(response, private=True)
        return response
