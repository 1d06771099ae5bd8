"""A stand-in fault case for the fault suite's tests: ``FAKE_FAULT_CASE`` says how it behaves
(``held`` writes an outcome that held, ``lost`` one that lost 3 messages, ``check`` one whose
own check failed, ``fail`` exits 1, ``silent`` writes nothing, ``malformed`` writes an outcome
with a count that is not one, ``hang`` never ends)."""

import argparse
import json
import os
import time
from pathlib import Path

from bench.faults.outcome import Outcome

parser = argparse.ArgumentParser()
parser.add_argument("--smoke", action="store_true")
parser.add_argument("--out", type=Path, required=True)
options = parser.parse_args()
behaviour = os.environ["FAKE_FAULT_CASE"]
messages = 200 if options.smoke else 2000

print(f"fake case: {behaviour}, {messages} messages")  # noqa: T201 - what the suite shows
if behaviour == "fail":
    raise SystemExit("the send worker did not start")
if behaviour == "hang":
    time.sleep(600)
lost = 3 if behaviour == "lost" else 0
outcome = Outcome(
    case="fake",
    title="a stand-in",
    messages=messages,
    sent=messages - lost,
    lost=lost,
    duplicated=0,
    seconds=1.5,
    notes=["web answered 40 of 40 requests"],
    checks={"one enrolment per contact": behaviour != "check"},
)
if behaviour in {"held", "lost", "check"}:
    outcome.write(options.out)
if behaviour == "malformed":
    options.out.write_text(json.dumps({**json.loads(json.dumps(outcome.__dict__)), "lost": "some"}))
