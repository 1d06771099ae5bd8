"""Contract test: schemathesis generates requests from the live schema (/api/v1/schema/) for
every operation and checks each answer against it (no 5xx, the status is documented, the body
matches its schema, the media type is the documented one), with a key of each role.

Repeatable and bounded: Hypothesis derandomized (the same cases on every run), a few examples
per operation and kind of case, no example database; schemathesis's coverage cases are a fixed
list. Each operation gets its schema's own examples, valid and invalid cases with the world's
objects in the path (so that the handlers run, not only their 404s) and with generated paths.
Twilio is mocked (tests/api/contract_world.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.contract_world import ROLES, World, make_world, twilio

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(600)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
HTTPS = {"X-Forwarded-Proto": "https"}
EXAMPLES = 4  # per operation and kind of case (generated paths, the world's ids)
# Of the coverage cases (about 3,000), every COVERAGE_STRIDE-th: all would take a minute more.
COVERAGE_STRIDE = 2
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def live_schema(settings: Any) -> Iterator[Any]:
    """The schema as the app serves it, its operations called through the app's WSGI handler
    in this test's transaction (as Django's test client does, the handler keeps the test's
    database connection instead of closing it after each request)."""
    from config.wsgi import application  # here: made with the tests' settings

    settings.ALLOWED_HOSTS = ["localhost"]
    settings.API_RATE_LIMIT = settings.API_BURST = 1_000_000  # the contract, not the limit
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/", application, headers=HTTPS)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _operations(schema: Any) -> list[Any]:
    """Every operation, the deletions last (they take the world's objects away)."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda operation: operation.method.upper() == "DELETE")


def _strategies(operation: Any, world: World) -> list[Any]:
    ours = {
        name: world.ids[name]
        for name in (p.name for p in operation.path_parameters)
        if name in world.ids
    }
    strategies = [operation.as_strategy()]
    if ours:
        strategies.append(operation.as_strategy(path_parameters=ours))
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=ours))
    strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    examples = operation.get_strategies_from_examples()
    if examples:
        strategies.append(st.one_of(examples).map(lambda case: _in_the_world(case, ours)))
    return strategies


def _in_the_world(case: Any, ours: dict[str, str]) -> Any:
    """The schema's example, about the world's objects (generated ids would be 404s)."""
    case.path_parameters = {**(case.path_parameters or {}), **ours}
    return case


def _validate(case: Any, headers: dict[str, str]) -> None:
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)


def _check(strategy: Any, headers: dict[str, str]) -> None:
    @HYPOTHESIS
    @given(case=strategy)
    def check(case: Any) -> None:
        _validate(case, headers)

    check()


def _headers(world: World, role: str) -> dict[str, str]:
    return {**HTTPS, "Authorization": f"Bearer {world.keys[role]}"}


@pytest.mark.parametrize("role", [str(role) for role in ROLES])
def test_every_operation_keeps_the_schema(role, personas, live_schema):
    """Generated cases (valid and not), the schema's examples, for a key of each role."""
    world = make_world(personas)
    broken = []
    for _twilio in twilio():
        for operation in _operations(live_schema):
            for strategy in _strategies(operation, world):
                try:
                    _check(strategy, _headers(world, role))
                except (Exception, BaseExceptionGroup) as exc:  # every operation is reported
                    broken.append(f"{operation.label}: {exc}")
                    break
    assert not broken, "\n\n".join(broken)


def test_the_boundary_cases_keep_the_schema(personas, live_schema):
    """schemathesis's coverage cases (each parameter and field at its limits, missing, of
    the wrong type), with an admin key: the one that reaches every handler."""
    world = make_world(personas)
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    broken = []
    for _twilio in twilio():
        for operation in _operations(live_schema):
            config = live_schema.config.generation_for(operation=operation, phase="coverage")
            cases = itertools.islice(
                live_schema.iter_coverage_cases(
                    operation, generation_modes=modes, generation_config=config
                ),
                0,
                None,
                COVERAGE_STRIDE,
            )
            try:
                for case in cases:
                    _validate(case, _headers(world, "admin"))
            except (Exception, BaseExceptionGroup) as exc:
                broken.append(f"{operation.label}: {exc}")
    assert not broken, "\n\n".join(broken)
