"""What the API takes: JSON bodies no deeper than ``JSON_MAX_DEPTH`` and without NUL or a
lone surrogate escape (no database can store either), and for an upload a multipart form
held to the same rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import DataAndFiles, JSONParser, MultiPartParser

from tenants.errors import ApplicationError

# Deeper than any resource's body (a contact's custom fields are two levels down).
JSON_MAX_DEPTH = 32
NUL_REFUSED = "NUL characters are not allowed."


class _Refused(Exception):
    def __init__(
        self, *, field: str | None = None, depth: bool = False, surrogate: bool = False
    ) -> None:
        self.field, self.depth, self.surrogate = field, depth, surrogate


def _has_surrogate(text: str) -> bool:
    """A lone surrogate (JSON's ``"\\ud800"``): no text, so no column can store it."""
    if text.isascii():
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _json_check(data: Any) -> None:
    """Raises ``_Refused`` for a body nested too deeply, with a lone surrogate (no text), or
    with NUL in a string or a key (``field``: the top-level key it is under, None when the
    body is not an object).
    Iterative, so that a body as deep as Python's parser allows costs no recursion here."""
    stack: list[tuple[Any, int, str | None]] = [(data, 1, None)]
    while stack:
        value, depth, field = stack.pop()
        if depth > JSON_MAX_DEPTH:
            raise _Refused(depth=True)
        if isinstance(value, str):
            if "\x00" in value:
                raise _Refused(field=field)
            if _has_surrogate(value):
                raise _Refused(surrogate=True)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                name = key.replace("\x00", "\ufffd") if field is None else field
                if "\x00" in key:
                    raise _Refused(field=name)
                if _has_surrogate(key):
                    raise _Refused(surrogate=True)
                stack.append((item, depth + 1, name))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, field) for item in value)


class StrictJSONParser(JSONParser):
    """JSON that the API can take: at most ``JSON_MAX_DEPTH`` levels (a parse error, like
    a body deep enough to exhaust Python's own parser) and no NUL in any string or key
    (a validation error naming the top-level field)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                f"JSON parse error - the body is nested more than {JSON_MAX_DEPTH} levels deep."
            ) from None
        try:
            _json_check(data)
        except _Refused as refused:
            if refused.depth:
                raise exceptions.ParseError(
                    f"JSON parse error - the body is nested more than {JSON_MAX_DEPTH} levels deep."
                ) from None
            if refused.surrogate:
                raise exceptions.ParseError(
                    "JSON parse error - a string has a lone surrogate escape (such as \\ud800), "
                    "which is no text."
                ) from None
            if refused.field is None:
                raise exceptions.ValidationError(
                    [f"The body has a NUL character in a string. {NUL_REFUSED}"]
                ) from None
            raise exceptions.ValidationError({refused.field: [NUL_REFUSED]}) from None
        return data


def _nul_field(name: str) -> ApplicationError:
    shown = name.replace("\x00", "\ufffd")
    return ApplicationError(
        f"The field “{shown}” contains a NUL character, which is not allowed.",
        fields={shown: [NUL_REFUSED]},
    )


class StrictMultiPartParser(MultiPartParser):
    """A multipart form (an upload) that the API can take: no NUL in a field's name or value
    or in a file's field name (a 400 naming the field), as ``NulRefusalMiddleware`` refuses
    for the pages' forms. Django keeps a file over ``FILE_UPLOAD_MAX_MEMORY_SIZE`` in a
    temporary file; the other fields count towards ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413).
    For the views that take an upload only: the API is JSON otherwise."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> DataAndFiles[Any, Any]:
        parsed = super().parse(stream, media_type, parser_context)
        for name, values in parsed.data.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise _nul_field(name)
        for name in parsed.files:
            if "\x00" in name:  # file names: Django drops their unprintable characters
                raise _nul_field(name)
        return parsed


def json_field(data: Mapping[str, Any], field: str) -> Any:
    """A form field that holds JSON (an upload's settings), parsed and checked as a JSON body
    is (depth, NUL); None when it is absent or blank, a 400 naming the field otherwise."""
    raw = data.get(field)
    if raw is None or not str(raw).strip():
        return None
    deep = f"“{field}” is nested more than {JSON_MAX_DEPTH} levels deep."
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApplicationError.for_field(
            field, f"“{field}” is not valid JSON ({exc.msg}, at character {exc.pos + 1})."
        ) from None
    except RecursionError:
        raise ApplicationError.for_field(field, deep) from None
    try:
        _json_check(value)
    except _Refused as refused:
        message = (
            deep
            if refused.depth
            else f"“{field}” has a lone surrogate escape (such as \\ud800), which is no text."
            if refused.surrogate
            else f"“{field}” has a NUL character. {NUL_REFUSED}"
        )
        raise ApplicationError.for_field(field, message) from None
    return value
