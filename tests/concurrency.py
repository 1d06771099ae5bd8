"""Running calls at the same time, as separate workers would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_together(*calls: Callable[[], Any], timeout: float = 30) -> list[Any]:
    """Runs each call in a thread of its own (with its own database connection, closed at the
    end) and returns their results in the order given; the first error is raised here."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            results[index] = call()
        except BaseException as exc:  # raised again by the calling thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a call did not finish in time"
    if errors:
        raise errors[0]
    return results
