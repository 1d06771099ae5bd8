"""The sign-in between a right password and a right code, kept in the session.

Nobody is signed in yet: the session holds only who passed the password, with which backend,
where to go afterwards (already checked to be on this site) and until when. The session key
is rotated when it starts and again by ``login()`` when it ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.http import HttpRequest

from tenants.models import User

PENDING_SESSION_KEY = "two_factor_pending"
PENDING_SECONDS = 5 * 60


@dataclass(frozen=True)
class PendingSignIn:
    user: User
    backend: str
    next_url: str


def pending_start(request: HttpRequest, *, user: User, backend: str, next_url: str) -> None:
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {
        "user": user.pk,
        "backend": backend,
        "next": next_url,
        "expires": time.time() + PENDING_SECONDS,
    }


def pending_drop(request: HttpRequest) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)


def pending_get(request: HttpRequest) -> PendingSignIn | None:
    """The pending sign-in, or None when there is none, it expired (then it is dropped) or
    the account has since been deactivated."""
    data = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(data, dict):
        return None
    if float(data.get("expires", 0)) < time.time():
        pending_drop(request)
        return None
    user = User.objects.filter(pk=int(data.get("user") or 0), is_active=True).first()
    if user is None:
        pending_drop(request)
        return None
    return PendingSignIn(user=user, backend=str(data["backend"]), next_url=str(data["next"]))
