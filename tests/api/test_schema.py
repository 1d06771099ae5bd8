"""The OpenAPI schema: valid, complete (every route under /api/v1/ is in it), served as JSON
and YAML without a key, and its examples match what they exemplify."""

from __future__ import annotations

import functools
import io
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from django.core.management import call_command

from tests.api.schema_helpers import api_operations, generated_schema

ERROR_SHAPE = "#/components/schemas/Error"


def test_the_schema_is_valid_without_a_warning(tmp_path):
    # drf-spectacular's own check: OpenAPI 3 valid, and nothing it had to guess.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    schema = yaml.load((tmp_path / "schema.yaml").read_text(), Loader=yaml.CSafeLoader)
    assert schema["openapi"].startswith("3.")


def test_every_api_route_is_in_the_schema():
    operations = api_operations()
    assert len(operations) > 40  # the walk found the routes
    paths = generated_schema()["paths"]
    missing = [f"{m.upper()} {p}" for m, p in operations if m not in paths.get(p, {})]
    assert not missing, f"routes missing from the OpenAPI schema: {missing}"


def test_the_schema_has_no_operation_without_a_route():
    operations = set(api_operations())
    documented = {(m, p) for p, ops in generated_schema()["paths"].items() for m in ops}
    assert documented <= operations


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in generated_schema()["paths"].items()
        for method, operation in operations.items()
    ]


@pytest.mark.parametrize(("method", "path", "operation"), _operations())
def test_each_operation_says_its_role_auth_and_errors(method, path, operation):
    assert operation["security"] == [{"ApiKey": []}]
    assert "**Role:**" in operation["description"]
    responses = operation["responses"]
    assert {"400", "401", "429"} <= set(responses)
    if "{" in path:
        assert {"400", "404"} <= set(responses)
    if "requestBody" in operation:
        assert {"400", "413"} <= set(responses)
    for status, response in responses.items():
        if status >= "400":
            assert response["content"]["application/json"]["schema"]["$ref"] == ERROR_SHAPE
    success = [s for s in responses if s < "300"]
    assert success, "no success answer"
    for status in success:
        content = responses[status].get("content", {})
        if "application/json" in content:
            assert content["application/json"].get("examples"), f"{status} has no example"


def test_the_roles_come_from_the_views():
    paths = generated_schema()["paths"]
    assert "any key" in paths["/api/v1/contacts/"]["get"]["description"]
    assert "a marketer key or higher" in paths["/api/v1/contacts/"]["post"]["description"]
    assert "an admin key" in paths["/api/v1/api-keys/"]["get"]["description"]
    # A preview changes nothing: viewers may post it, and it has no 403.
    preview = paths["/api/v1/templates/{template_id}/preview/"]["post"]
    assert "any key" in preview["description"]
    assert "403" not in preview["responses"]


def test_lists_have_the_envelope_and_the_cursor():
    operation = generated_schema()["paths"]["/api/v1/contacts/"]["get"]
    assert {"cursor", "limit", "q", "tag", "phone", "opted_out"} <= {
        p["name"] for p in operation["parameters"]
    }
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    envelope = generated_schema()["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(envelope["required"]) == {"results", "next", "previous"}


def test_answers_say_the_rate_limit():
    responses = generated_schema()["paths"]["/api/v1/contacts/"]["get"]["responses"]
    assert "RateLimit-Remaining" in responses["200"]["headers"]
    assert "Retry-After" in responses["429"]["headers"]
    assert "headers" not in responses["401"]  # no valid key, nothing counted


def test_the_idempotency_key_is_where_it_is_honoured():
    paths = generated_schema()["paths"]
    honoured = {
        (m, p)
        for p, ops in paths.items()
        for m, op in ops.items()
        if any(x["name"] == "Idempotency-Key" for x in op.get("parameters", []))
    }
    assert honoured >= {
        ("post", "/api/v1/messages/"),
        ("post", "/api/v1/automations/{automation_id}/enrol/"),
        ("post", "/api/v1/automations/{automation_id}/launches/"),
    }


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema says it."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        return {"anyOf": [node, {"type": "null"}]}
    return node


def _examples() -> list[tuple[str, dict[str, Any], Any]]:
    found = []
    for method, path, operation in _operations():
        bodies = [("request", operation.get("requestBody", {}).get("content", {}))]
        bodies += [(s, r.get("content", {})) for s, r in operation["responses"].items()]
        for where, content in bodies:
            media = content.get("application/json", {})
            for name, example in media.get("examples", {}).items():
                found.append((f"{method} {path} {where} {name}", media["schema"], example))
    return found


@functools.cache
def _components() -> dict[str, Any]:
    components: dict[str, Any] = _nullable(generated_schema()["components"])
    return components


def test_each_example_matches_its_schema():
    examples = _examples()
    assert len(examples) > 300
    wrong = []
    for where, schema, example in examples:
        validator = jsonschema.Draft202012Validator(
            {**_nullable(schema), "components": _components()},
            format_checker=jsonschema.FormatChecker(),
        )
        wrong += [
            f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(example["value"])
        ]
    assert not wrong


class TestServed:
    def test_the_schema_is_json_by_default_and_needs_no_key(self, client):
        response = client.get("/api/v1/schema/")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        schema = response.json()
        assert schema["info"]["title"] == "SMS Hub API"
        assert "/api/v1/contacts/" in schema["paths"]
        assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"

    def test_a_bad_key_does_not_stop_the_schema(self, client):
        response = client.get("/api/v1/schema/", HTTP_AUTHORIZATION="Bearer nope")
        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("query", "accept"),
        [
            ("?format=yaml", "*/*"),
            ("", "application/yaml"),
            ("", "application/vnd.oai.openapi"),
        ],
    )
    def test_it_answers_yaml_when_asked(self, client, query, accept):
        response = client.get(f"/api/v1/schema/{query}", HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert "yaml" in response["Content-Type"] or "openapi" in response["Content-Type"]
        schema = yaml.load(io.BytesIO(response.content), Loader=yaml.CSafeLoader)
        assert schema["paths"].keys() == generated_schema()["paths"].keys()

    def test_the_docs_page_serves_swagger_ui_from_the_app(self, client):
        response = client.get("/api/v1/docs/")
        assert response.status_code == 200
        page = response.content.decode()
        assert 'data-schema-url="/api/v1/schema/"' in page
        assert "<script>" not in page  # the CSP allows no inline script
        assets = [
            part.split('"')[1]
            for part in page.split(" ")
            if part.startswith(("src=", "href=")) and "/static/" in part
        ]
        assert any("swagger-ui-bundle" in a for a in assets)
        assert any("api-docs" in a and a.endswith(".js") for a in assets)
        for asset in assets:
            assert asset.startswith("/static/"), asset  # no CDN

    def test_a_signed_in_member_reads_the_docs(self, personas):
        response = personas.client("viewer").get("/api/v1/docs/")
        assert response.status_code == 200
        assert "API reference" in response.content.decode()
