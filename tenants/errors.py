"""Errors are data: services raise these, interfaces turn them into form errors or JSON."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class ApplicationError(Exception):
    """A request that cannot be carried out as asked. Nothing was changed."""

    status = 400
    code = "validation_error"

    def __init__(
        self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code

    def summary(self) -> str:
        """For a flash message: what the fields say, else the message."""
        texts = [text for texts in self.fields.values() for text in texts]
        return " ".join(texts) or self.message

    def describe(self) -> str:
        """One line for a terminal: the message, then what each field says beyond it."""
        details = [
            f"{field}: {text}"
            for field, texts in self.fields.items()
            for text in texts
            if text != self.message
        ]
        return " ".join([self.message, *details])

    @classmethod
    def for_field(cls, field: str, message: str, *, code: str | None = None) -> ApplicationError:
        return cls(message, code=code, fields={field: [message]})


class ConflictError(ApplicationError):
    """The request is well-formed but clashes with the current state."""

    status = 409
    code = "conflict"


class PreconditionFailed(ApplicationError):
    """The client's ``If-Match`` names a version that is no longer the current one."""

    status = 412
    code = "precondition_failed"


class AccessDenied(PermissionDenied):
    """The actor's role does not allow this: a 403 on pages and in the API, with the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
