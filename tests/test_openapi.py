"""The OpenAPI document (GET /api/openapi.json): every route the app registers is in it, an
OpenAPI 3.1 validator accepts it, and each example in it is accepted by the model its
handler validates with (and by the handler itself, on a live hub, for the provider's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from console.app import create_app
from console.contract.agreement import parse_agreement
from console.web.openapi import build_document, read_handler
from console.web.openapi_examples import EXAMPLES
from tests.conftest import make_settings
from tests.support.harness import ADMIN_TOKEN, LiveHub


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> web.Application:
    """The real application, never started: its routes are all it needs."""
    return create_app(make_settings(tmp_path_factory.mktemp("openapi")))


@pytest.fixture(scope="module")
def document(app: web.Application) -> dict[str, Any]:
    return build_document(app)


def _routes(app: web.Application) -> list[tuple[str, str, Any]]:
    return [
        (r.method, r.resource.canonical, r.handler)
        for r in app.router.routes()
        if r.resource is not None and r.method != "HEAD"
    ]


def test_every_route_of_the_app_is_in_the_document(
    app: web.Application, document: dict[str, Any]
) -> None:
    routes = _routes(app)
    assert len(routes) > 90  # the whole API, Engine.IO's transport and the pages
    missing = [
        f"{method} {path}"
        for method, path, _h in routes
        if method.lower() not in document["paths"].get(path, {})
    ]
    assert [] == missing
    # and nothing else: HEAD is answered by every GET route (aiohttp adds it)
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert documented == {(m, p) for m, p, _h in routes}
    assert "/api/openapi.json" in document["paths"]


def test_an_openapi_validator_accepts_the_document(document: dict[str, Any]) -> None:
    assert "3.1.0" == document["openapi"]
    validate(document)  # raises on any fault


def test_bodies_are_the_models_the_handlers_validate_with(
    app: web.Application, document: dict[str, Any]
) -> None:
    body = document["paths"]["/api/admin/tenants"]["post"]["requestBody"]
    assert {"$ref": "#/components/schemas/TenantCreate"} == body["content"]["application/json"][
        "schema"
    ]
    schema = document["components"]["schemas"]["TenantCreate"]
    assert {"name", "plan", "languages", "allowed_origins"} <= set(schema["required"])
    login = document["paths"]["/api/login"]["post"]
    assert "security" not in login
    assert [{"adminToken": []}] == document["paths"]["/api/admin/tenants"]["get"]["security"]
    assert [{"agentToken": []}] == document["paths"]["/api/tenant"]["patch"]["security"]
    leads = document["paths"]["/api/leads"]["get"]["parameters"]
    assert {"delivery_status", "limit"} == {p["name"] for p in leads if p["in"] == "query"}
    # every handler that reads a JSON body says so in the document
    with_body = {(m, p) for m, p, h in _routes(app) if read_handler(h).body is not None}
    assert len(with_body) >= 25
    for method, path in with_body:
        assert "requestBody" in document["paths"][path][method.lower()], (method, path)


def test_each_example_is_accepted_by_its_handler_s_model(
    app: web.Application, document: dict[str, Any]
) -> None:
    handlers = {(m, p): h for m, p, h in _routes(app)}
    with_body = {key for key, h in handlers.items() if read_handler(h).body is not None}
    assert set() == with_body - set(EXAMPLES), "operations with a body but no example"
    assert set() == set(EXAMPLES) - with_body, "examples of no operation with a body"
    for (method, path), example in EXAMPLES.items():
        model = read_handler(handlers[(method, path)]).body
        assert model is not None
        model.model_validate(example)  # raises, naming the field, if refused
        op = document["paths"][path][method.lower()]
        media = op["requestBody"]["content"]["application/json"]
        assert example == media["examples"]["example"]["value"]
        # the published JSON Schema agrees with the model about it
        published = {"components": document["components"], **media["schema"]}
        OAS31Validator(published).validate(example)
    parse_agreement(EXAMPLES[("PUT", "/api/admin/tenants/{tenant_id}/agreement")])


async def test_the_hub_serves_it_and_its_provider_examples_work(hub: LiveHub) -> None:
    status, served = await hub.request("GET", "/api/openapi.json")
    assert 200 == status
    assert build_document(hub.app) == served
    assert (200, served) == await hub.request("GET", "/api/openapi.json")  # built once

    example = EXAMPLES[("POST", "/api/admin/tenants")]
    status, tenant = await hub.request(
        "POST", "/api/admin/tenants", token=ADMIN_TOKEN, json=example
    )
    assert 201 == status, tenant
    base = f"/api/admin/tenants/{tenant['id']}"
    for method, path in [
        ("POST", "/api/admin/tenants/{tenant_id}/agents"),
        ("PATCH", "/api/admin/tenants/{tenant_id}"),
        ("PUT", "/api/admin/tenants/{tenant_id}/agreement"),
        ("PUT", "/api/admin/tenants/{tenant_id}/closures/{day}"),
    ]:
        url = path.replace("/api/admin/tenants/{tenant_id}", base).replace("{day}", "2026-12-24")
        status, body = await hub.request(
            method, url, token=ADMIN_TOKEN, json=EXAMPLES[(method, path)]
        )
        assert status in (200, 201), (method, path, body)


def test_the_document_is_linked_from_the_protocol_guide() -> None:
    guide = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
    assert "/api/openapi.json" in guide.read_text(encoding="utf-8")
