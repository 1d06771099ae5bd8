"""``make faults``' runner (bench.faults.suite): each case run as a process with ``--out``, its
outcome read back, the table printed, ``faults.json`` and its history written, and a case that
crashed, hung, is missing or did not hold failing the run, named."""

import json
from pathlib import Path

import pytest

from bench.faults import suite

FAKE = suite.Case(1, "fake", "a stand-in case", module="tests.bench.fake_fault_case")


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BENCH_RESULTS_DIR", str(tmp_path))
    monkeypatch.setattr(suite, "LOGS", tmp_path / "logs")
    return tmp_path


def run(monkeypatch: pytest.MonkeyPatch, behaviour: str, *args: str) -> int:
    monkeypatch.setenv("FAKE_FAULT_CASE", behaviour)
    return suite.main(list(args), cases=[FAKE])


def test_a_held_case_is_tabled_and_recorded_with_history(
    results: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "held", "--smoke") == 0
    assert run(monkeypatch, "held", "--smoke") == 0

    recorded = json.loads((results / "faults.json").read_text())
    assert recorded["held"] is True
    assert recorded["machine"]["size"] == "smoke"
    assert {"cores", "processor", "python", "at", "commit", "seconds"} <= set(recorded["machine"])
    (case,) = recorded["cases"]
    assert case["case"] == "fake"
    assert case["title"] == "a stand-in case"
    assert (case["messages"], case["sent"], case["lost"], case["duplicated"]) == (200, 200, 0, 0)
    assert (case["held"], case["crashed"]) == (True, False)
    assert case["notes"] == ["web answered 40 of 40 requests"]
    assert case["checks"] == {"one enrolment per contact": True}
    history = (results / "faults_history.jsonl").read_text().splitlines()
    assert len(history) == 2
    assert json.loads(history[-1]) == recorded

    printed = capsys.readouterr().out
    assert "  | fake case: held, 200 messages" in printed  # the case's output, as it comes
    header = next(line for line in printed.splitlines() if line.startswith("case"))
    assert header.split()[:7] == [
        "case", "messages", "sent", "lost", "duplicated", "held", "seconds"
    ]  # fmt: skip
    row = next(line for line in printed.splitlines() if line.startswith("1 fake "))
    assert row.split()[2:7] == ["200", "200", "0", "0", "yes"]
    assert row.endswith("web answered 40 of 40 requests")
    assert "fake case: held" in (results / "logs" / "fake_smoke.log").read_text()


def test_the_full_size_is_what_runs_without_smoke(
    results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(monkeypatch, "held") == 0

    recorded = json.loads((results / "faults.json").read_text())
    assert recorded["machine"]["size"] == "full"
    assert recorded["cases"][0]["messages"] == 2000
    assert (results / "logs" / "fake.json").exists()


@pytest.mark.parametrize(
    ("behaviour", "shown"),
    [("lost", ["1997", "3", "0", "NO"]), ("check", ["2000", "0", "0", "NO"])],
)
def test_a_case_that_lost_a_message_or_failed_a_check_fails_the_run(
    results: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    behaviour: str,
    shown: list[str],
) -> None:
    assert run(monkeypatch, behaviour) == 1

    case = json.loads((results / "faults.json").read_text())["cases"][0]
    assert (case["held"], case["crashed"]) == (False, False)
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if line.startswith("1 fake "))
    assert row.split()[3:7] == shown
    if behaviour == "check":
        assert "failed check: one enrolment per contact" in row
    assert "DID NOT HOLD fake" in printed


@pytest.mark.parametrize(
    ("behaviour", "problem"),
    [
        ("fail", "exited with code 1"),
        ("silent", "it wrote no outcome (fake.json)"),
        ("malformed", "fake.json: messages, sent, lost and duplicated must be counts"),
    ],
)
def test_a_case_that_broke_is_a_crash_named_in_the_table(
    results: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    behaviour: str,
    problem: str,
) -> None:
    assert run(monkeypatch, behaviour) == 1

    case = json.loads((results / "faults.json").read_text())["cases"][0]
    assert (case["held"], case["crashed"]) == (False, True)
    assert problem in case["problem"]
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if line.startswith("1 fake "))
    assert "CRASH" in row
    assert problem in row
    assert f"CRASHED fake: {case['problem']}" in printed


def test_an_outcome_left_by_an_earlier_run_is_not_taken_for_this_one(
    results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(monkeypatch, "held") == 0
    assert run(monkeypatch, "silent") == 1

    case = json.loads((results / "faults.json").read_text())["cases"][0]
    assert "fake.json is from an earlier run" in case["problem"]


def test_a_case_that_hangs_is_stopped_and_counted_as_crashed(
    results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(suite.CASE_SECONDS, "full", 2)

    assert run(monkeypatch, "hang") == 1

    case = json.loads((results / "faults.json").read_text())["cases"][0]
    assert "still running after 2 s: stopped" in case["problem"]
    assert case["seconds"] < 30


def test_a_case_without_its_module_is_a_crash_and_the_others_still_run(
    results: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = suite.Case(2, "not_written", "a case nobody wrote")
    monkeypatch.setenv("FAKE_FAULT_CASE", "held")

    assert suite.main([], cases=[missing, FAKE]) == 1

    first, second = json.loads((results / "faults.json").read_text())["cases"]
    assert first["problem"] == "no module bench.faults.not_written: the case is not written yet"
    assert second["held"] is True
    assert "CRASHED not_written" in capsys.readouterr().out


def test_only_runs_the_named_cases_and_records_nothing(
    results: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    other = suite.Case(2, "other", "never run", module="bench.faults.not_written")
    monkeypatch.setenv("FAKE_FAULT_CASE", "held")

    assert suite.main(["--only", "fake"], cases=[FAKE, other]) == 0

    assert not (results / "faults.json").exists()
    assert not (results / "faults_history.jsonl").exists()
    printed = capsys.readouterr().out
    assert "1 fake " in printed
    assert "other" not in printed


def test_only_refuses_a_case_that_does_not_exist(results: Path) -> None:
    with pytest.raises(SystemExit, match="no such case: nope"):
        suite.main(["--only", "fake,nope"], cases=[FAKE])


def test_the_cases_are_the_six_of_the_issue_in_order() -> None:
    assert [(case.number, case.name) for case in suite.CASES] == [
        (1, "send_worker_killed"),
        (2, "default_worker_killed"),
        (3, "redis_outage"),
        (4, "postgres_restart"),
        (5, "twilio_faults"),
        (6, "callbacks_and_races"),
    ]
    assert all(case.module_name == f"bench.faults.{case.name}" for case in suite.CASES)
