"""Every JSON API response is described: the OpenAPI document is the API's typed contract.

A route that returns a plain ``dict`` (or nothing FastAPI can describe) shows up in
``/openapi.json`` as ``{}`` or a bare ``object``; clients then get no schema to generate code or
validate against. Each such route must declare a response model (a read schema in its domain's
``schemas.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

Schema = dict[str, Any]

# (method, path) of the operations still untyped, each with why. Keep it shrinking: the test
# also fails when an operation listed here has become typed.
KNOWN_UNTYPED: set[tuple[str, str]] = set()


def _resolve(schema: Schema, components: dict[str, Schema]) -> Schema:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def untyped(schema: Schema, components: dict[str, Schema]) -> bool:
    """True if a client learns nothing of the shape: ``{}``, an object without properties
    (unless it is a declared map: typed values, or a description saying it is free-form), or a
    list or union of such. Nested fields may be free-form (a ledger body is any JSON)."""
    schema = _resolve(schema, components)
    if not schema:
        return True
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            branches = [b for b in schema[key] if b.get("type") != "null"]
            return not branches or any(untyped(b, components) for b in branches)
    kind = schema.get("type")
    if kind == "array":
        return untyped(schema.get("items", {}), components)
    if kind == "object" and not schema.get("properties"):
        values = schema.get("additionalProperties")
        if isinstance(values, dict) and values and not untyped(values, components):
            return False
        return "description" not in schema
    return kind is None


def untyped_operations(spec: Schema) -> set[tuple[str, str]]:
    components = spec.get("components", {}).get("schemas", {})
    found = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json")
                if not status.startswith("2") or content is None:
                    continue
                if untyped(content.get("schema", {}), components):
                    found.add((method.upper(), path))
    return found


def test_every_2xx_json_response_has_a_schema(client):
    spec = client.get("/openapi.json").json()
    found = untyped_operations(spec)
    known = set(KNOWN_UNTYPED)  # set() even when the literal has been emptied to {}
    assert sorted(found - known) == [], "declare a response model for these"
    assert sorted(known - found) == [], "typed now: remove them from KNOWN_UNTYPED"


MODEL = {"type": "object", "properties": {"id": {"type": "string"}}}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({}, True),
        ({"type": "object", "additionalProperties": True}, True),
        ({"type": "object"}, True),
        ({"type": "array", "items": {"type": "object", "additionalProperties": True}}, True),
        ({"anyOf": [{}, {"type": "null"}]}, True),
        ({"$ref": "#/components/schemas/Empty"}, True),
        ({"$ref": "#/components/schemas/Thing"}, False),
        ({"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}, False),
        ({"anyOf": [{"$ref": "#/components/schemas/Thing"}, {"type": "null"}]}, False),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, False),
        ({"type": "object", "additionalProperties": True, "description": "any labels"}, False),
        ({"type": "string"}, False),
    ],
)
def test_the_check_tells_a_described_response_from_a_bare_one(
    schema: Schema, expected: bool
) -> None:
    components = {"Thing": MODEL, "Empty": {"type": "object", "title": "Empty"}}
    assert untyped(schema, components) is expected
