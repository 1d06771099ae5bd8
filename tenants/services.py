from __future__ import annotations

from django.contrib.sessions.models import Session
from django.utils import timezone

from tenants.models import User


def sessions_clear_expired() -> int:
    """Delete expired sign-in sessions; returns how many were removed."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def demo_user_ensure(*, email: str, password: str) -> tuple[User, bool]:
    """The development login that `make run` prints; created once, password kept in step."""
    user = User.objects.filter(email=email.lower()).first()
    if user is None:
        return User.objects.create_user(email, password, full_name="Demo User"), True
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user, False
