"""Reading the CSV downloads (contacts, messages, consent) as a spreadsheet would."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import StreamingHttpResponse


def download(response: Any) -> str:
    """The file's text after its BOM (which must come first, for Excel)."""
    assert response.status_code == 200, getattr(response, "content", b"")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = response.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf")
    return raw[3:].decode("utf-8")


def rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(download(response), newline="")))


def records(response: Any) -> list[dict[str, str]]:
    """Each row by the header's names."""
    [head, *body] = rows(response)
    return [dict(zip(head, row, strict=True)) for row in body]
