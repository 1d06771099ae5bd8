from typing import Any

from django.http import HttpRequest

from tenants.selectors import user_memberships


def shell(request: HttpRequest) -> dict[str, Any]:
    """The organization switcher's list, for pages inside the app shell."""
    if getattr(request, "organization", None) is None:
        return {}
    return {"shell_memberships": user_memberships(request.user)}  # type: ignore[arg-type]
