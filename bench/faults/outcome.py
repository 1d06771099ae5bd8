"""What a fault case measures and writes: sent, lost and duplicated messages.

- **sent**: messages Twilio (the sandbox) created at least once.
- **duplicated**: messages the sandbox created more than once, counted from its per-message
  create counts (one status-callback URL per message, so the URL names the message).
- **lost**: messages of the case that are neither in a final state nor marked
  ``needs_attention`` (or ``suppressed``, which a rule decided on purpose) once the sweeper has
  had its passes: work the product dropped without telling anyone.

Targets: lost = 0 and duplicated = 0 in every case.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Outcome:
    case: str
    title: str
    messages: int
    sent: int
    lost: int
    duplicated: int
    seconds: float
    # Case-specific facts worth a line in the table's notes: "web answered 412 of 412 requests
    # while Redis was down", "callbacks refused meanwhile: 37, made good by the sweeper".
    notes: list[str] = field(default_factory=list)
    # Correctness checks beyond the three counts (True = held); any False fails the case.
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and all(self.checks.values())

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**asdict(self), "held": self.held}, indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> Outcome:
        data: dict[str, Any] = json.loads(path.read_text())
        data.pop("held", None)
        return cls(**data)


def duplicated_of(creates: Mapping[str, int], message_ids: Iterable[str]) -> tuple[int, int]:
    """(sent, duplicated) among ``message_ids`` (public ids) from the sandbox's ``/sandbox/stats``
    ``creates`` map (status-callback URL → creates): the URL ends with the message's id."""
    by_id = {url.rstrip("/").rsplit("/", 1)[-1]: count for url, count in creates.items()}
    counts = [by_id.get(str(message_id), 0) for message_id in message_ids]
    return sum(1 for c in counts if c >= 1), sum(1 for c in counts if c > 1)
