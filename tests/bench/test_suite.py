"""``make bench``'s gathering (bench.suite): each part run as a process, its figures read
back and checked, ``latest.json`` written in the published shape and ``history.jsonl``
growing by one line a run, a broken part failing the run."""

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import suite
from bench.results import ROOT

FAKE = suite.Part(1, "send throughput", "fake", module="tests.bench.fake_benchmark")
FIGURE_KEYS = {"name", "value", "unit", "limit", "ratio", "target", "met"}


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where the run writes; PostgreSQL and Redis stand in by a port that listens (the fake
    benchmark uses neither)."""
    monkeypatch.setenv("BENCH_RESULTS_DIR", str(tmp_path))
    monkeypatch.setattr(suite, "LOGS", tmp_path / "logs")
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        host, port = listening.getsockname()
        monkeypatch.setenv("DATABASE_URL", f"postgres://postgres@{host}:{port}/smshub")
        monkeypatch.setattr(suite, "REDIS", (host, port))
        yield tmp_path


def run(monkeypatch: pytest.MonkeyPatch, behaviour: str, *args: str) -> int:
    monkeypatch.setenv("FAKE_BENCHMARK", behaviour)
    return suite.main(list(args), parts=[FAKE])


def test_a_run_writes_latest_json_and_appends_to_history(
    results: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "ok", "--smoke") == 0
    assert run(monkeypatch, "ok", "--smoke") == 0

    latest = json.loads((results / "latest.json").read_text())
    assert latest["machine"]["size"] == "smoke"
    assert latest["machine"]["postgresql"] == "15.5"
    assert latest["machine"]["parts"]["fake"]["ok"] is True
    assert {"cores", "processor", "python", "at", "commit"} <= set(latest["machine"])
    throughput, duplicates, wall_time = latest["figures"]
    assert set(throughput) >= FIGURE_KEYS
    assert throughput | {"part": None} == {
        "name": "1. throughput",
        "value": 120.0,
        "unit": "messages/s",
        "limit": 160,
        "ratio": 0.75,
        "target": 150,
        "met": False,
        "part": None,
    }
    assert throughput["part"] == "1 send throughput"
    assert (duplicates["name"], duplicates["met"]) == ("1. duplicates", True)
    assert wall_time["name"] == "make bench: wall time of every part"
    assert wall_time["target"] == 900
    assert wall_time["met"] is True

    history = (results / "history.jsonl").read_text().splitlines()
    assert len(history) == 2
    assert json.loads(history[-1]) == latest

    printed = capsys.readouterr().out
    assert "  | fake benchmark: ok" in printed  # the part's output, as it comes
    assert "1. throughput" in printed
    assert " NO" in printed
    # the run's own output is kept too
    assert "fake benchmark: ok" in (results / "logs" / "fake_smoke.log").read_text()


def test_a_part_that_exits_non_zero_fails_the_run_and_is_named(
    results: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "fail") == 1

    latest = json.loads((results / "latest.json").read_text())
    assert latest["machine"]["size"] == "full"
    assert latest["machine"]["parts"]["fake"]["ok"] is False
    assert "exited with code 1" in latest["machine"]["parts"]["fake"]["problem"]
    assert [figure["name"] for figure in latest["figures"]] == [
        "make bench: wall time of every part"
    ]
    printed = capsys.readouterr().out
    assert "FAILED 1 send throughput: exited with code 1" in printed
    assert "a correctness check failed: 3 duplicates" in printed


@pytest.mark.parametrize(
    ("behaviour", "problem"),
    [("silent", "it wrote no fake.json"), ("malformed", "throughput: no 'target'")],
)
def test_a_part_without_fresh_well_formed_figures_fails_the_run(
    results: Path, monkeypatch: pytest.MonkeyPatch, behaviour: str, problem: str
) -> None:
    assert run(monkeypatch, behaviour) == 1

    part = json.loads((results / "latest.json").read_text())["machine"]["parts"]["fake"]
    assert problem in part["problem"]


def test_figures_left_by_an_earlier_run_are_not_taken_for_this_one(
    results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(monkeypatch, "ok") == 0
    assert run(monkeypatch, "silent") == 1

    part = json.loads((results / "latest.json").read_text())["machine"]["parts"]["fake"]
    assert "fake.json is from an earlier run" in part["problem"]


def test_only_prints_and_records_nothing(
    results: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "ok", "--only", "fake") == 0

    assert not (results / "latest.json").exists()
    assert not (results / "history.jsonl").exists()
    assert "1. throughput" in capsys.readouterr().out


def test_every_part_names_a_benchmark_that_exists() -> None:
    for part in suite.PARTS:
        assert (ROOT / "bench" / f"{part.benchmark}.py").exists(), part.benchmark


def test_it_says_which_service_does_not_answer_and_runs_nothing(
    results: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgres://postgres@127.0.0.1:{port}/smshub")

    assert run(monkeypatch, "ok") == 2

    assert f"PostgreSQL (DATABASE_URL) does not answer at 127.0.0.1:{port}" in (
        capsys.readouterr().out
    )
    assert not (results / "latest.json").exists()
    assert not (results / "fake.json").exists()
