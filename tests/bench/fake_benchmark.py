"""A stand-in benchmark for the suite's tests: ``FAKE_BENCHMARK`` says how it behaves
(``ok`` writes two figures, ``fail`` exits 1, ``silent`` writes nothing, ``malformed`` writes
a figure without its target)."""

import json
import sys

from bench.results import Figure, results_dir, write

BEHAVIOUR = __import__("os").environ["FAKE_BENCHMARK"]
NAME = "fake_smoke" if "--smoke" in sys.argv else "fake"

print(f"fake benchmark: {BEHAVIOUR}")  # noqa: T201 - what the suite shows as it comes
if BEHAVIOUR == "fail":
    sys.exit("a correctness check failed: 3 duplicates")
if BEHAVIOUR == "ok":
    write(
        NAME,
        [
            Figure("throughput", 120.0, "messages/s", target=150, limit=160),
            Figure("duplicates", 0, "messages", target=0, higher_is_better=False),
        ],
        postgresql="15.5",
    )
if BEHAVIOUR == "malformed":
    figure = {"name": "throughput", "value": 1, "unit": "x", "limit": None, "ratio": None}
    (results_dir() / f"{NAME}.json").write_text(json.dumps({"figures": [figure]}))
