"""The OpenAPI 3.1 document of the HTTP API, generated from the application itself.

Every route the app registers is an operation. What each handler validates is read from
its own code: the pydantic model it hands to `read_json` (or `_validated`) is the request
body's schema, `request.query.get("x")` a query parameter, `require_admin` or
`require_agent` its security; the schemas are pydantic's JSON Schema of those models, so
the document cannot drift from what the handlers accept. Examples come from
`openapi_examples.py`; `tests/test_openapi.py` checks them against the same models.
Served at GET /api/openapi.json.
"""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import textwrap
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from console.web.openapi_examples import EXAMPLES

routes = web.RouteTableDef()

# Calls that validate a request body with the model among their arguments
BODY_READERS = frozenset({"read_json", "_validated"})
# Calls that authenticate, and the security scheme each stands for
ADMIN_AUTH = frozenset({"require_admin"})
AGENT_AUTH = frozenset({"require_agent"})
ENGINE_IO = "/socket.io/"
# How deep to follow a handler's calls into the web package's helpers
MAX_DEPTH = 4
ERROR_REF = {"$ref": "#/components/responses/Error"}
ANY_JSON: dict[str, Any] = {"application/json": {"schema": {}}}
OTHER_CONTENT = {
    "/metrics": "text/plain",
    "/widget.js": "application/javascript",
    "/console/console.js": "application/javascript",
    "/console/console.css": "text/css",
    "/demo/style.css": "text/css",
}
# Attachments (console/web/attachments.py): a multipart upload, files served as they are,
# and a visitor's upload token beside the agent's
UPLOAD_PATH = "/api/chats/{chat_id}/attachments"
FILE_PATHS = frozenset(
    {"/api/attachments/{attachment_id}", "/api/attachments/{attachment_id}/thumbnail"}
)
BINARY = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}


@dataclass
class HandlerFacts:
    """What a handler's code (and the helpers it calls) says about its request."""

    body: type[BaseModel] | None = None
    query: list[str] = field(default_factory=list)
    auth: set[str] = field(default_factory=set)
    status: int = 200
    doc: str = ""


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_query(node: ast.expr) -> bool:
    """`request.query`"""
    return isinstance(node, ast.Attribute) and node.attr == "query"


def _resolve(fn: Callable[..., Any], name: str) -> Any:
    return getattr(fn, "__globals__", {}).get(name)


def _source_tree(fn: Callable[..., Any]) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _model(value: Any) -> type[BaseModel] | None:
    if isinstance(value, type) and issubclass(value, BaseModel):
        return value
    return None


def read_handler(fn: Callable[..., Any]) -> HandlerFacts:
    facts = HandlerFacts(doc=inspect.getdoc(fn) or "")
    seen: set[int] = set()

    def visit(current: Callable[..., Any], depth: int) -> None:
        if id(current) in seen or depth > MAX_DEPTH:
            return
        seen.add(id(current))
        tree = _source_tree(current)
        if tree is None:
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and _is_query(node.value):
                key = node.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    facts.query.append(key.value)
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            if name in {"get", "getall"} and isinstance(node.func, ast.Attribute) and node.args:
                first = node.args[0]
                if _is_query(node.func.value) and isinstance(first, ast.Constant):
                    facts.query.append(str(first.value))
            if name in BODY_READERS and facts.body is None:
                for arg in node.args:
                    if isinstance(arg, ast.Name) and (model := _model(_resolve(current, arg.id))):
                        facts.body = model
            if name in ADMIN_AUTH:
                facts.auth.add("admin")
            if name in AGENT_AUTH:
                facts.auth.add("agent")
            if name == "bearer":  # a token checked by the handler's own helper
                facts.auth.add("bearer")
            if depth == 0:
                for keyword in node.keywords:
                    value = keyword.value
                    if (
                        keyword.arg == "status"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, int)
                        and 200 <= value.value < 300
                    ):
                        facts.status = value.value
            callee = _resolve(current, name) if isinstance(node.func, ast.Name) else None
            if inspect.isfunction(callee) and callee.__module__.startswith("console.web"):
                visit(callee, depth + 1)

    visit(fn, 0)
    facts.query = list(dict.fromkeys(facts.query))
    return facts


def _operations(app: web.Application) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    """(method, path, handler) of every route, HEAD left to its GET (aiohttp adds one to
    each GET route)."""
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method == "HEAD":
            continue
        yield route.method, resource.canonical, route.handler


def _tag(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    if not parts:
        return "pages"
    if parts[0] != "api":
        return {"socket.io": "realtime", "healthz": "health", "livez": "health"}.get(
            parts[0], "health" if parts[0] in ("readyz", "metrics") else "pages"
        )
    rest = parts[1:]
    if rest and rest[0] in ("admin", "operator"):
        return "provider"
    return rest[0] if rest else "api"


def _summary(doc: str, method: str, path: str) -> str:
    first = doc.split("\n\n", maxsplit=1)[0].replace("\n", " ").strip()
    return first if first else f"{method} {path}"


def _operation(
    method: str, path: str, facts: HandlerFacts, refs: dict[type[BaseModel], dict[str, Any]]
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{method.lower()}_{_slug(path)}",
        "summary": _summary(facts.doc, method, path)[:200],
        "tags": [_tag(path)],
    }
    if facts.doc:
        op["description"] = facts.doc
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_names(path)
    ] + [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in facts.query
    ]
    if params:
        op["parameters"] = params
    if facts.body is not None:
        media: dict[str, Any] = {"schema": refs[facts.body]}
        example = EXAMPLES.get((method, path))
        if example is not None:
            media["examples"] = {"example": {"value": example}}
        op["requestBody"] = {"required": True, "content": {"application/json": media}}
    if path == UPLOAD_PATH:
        form = {"type": "object", "properties": {"file": BINARY["schema"]}, "required": ["file"]}
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": form}}}
    provider = path.startswith(("/api/admin", "/api/operator"))
    if "admin" in facts.auth or ("bearer" in facts.auth and provider):
        op["security"] = [{"adminToken": []}]
    elif facts.auth:
        op["security"] = [{"agentToken": []}]
    ok: dict[str, Any] = {"description": "success"}
    if facts.status == 204:
        pass
    elif path in FILE_PATHS:
        ok["content"] = {"application/octet-stream": BINARY}
    elif path.startswith("/api/") or path in ("/healthz", "/livez", "/readyz"):
        ok["content"] = ANY_JSON
    elif path in OTHER_CONTENT:
        ok["content"] = {OTHER_CONTENT[path]: {"schema": {"type": "string"}}}
    op["responses"] = {str(facts.status): ok, "default": ERROR_REF}
    if path == UPLOAD_PATH or path in FILE_PATHS:
        op["security"] = [{"agentToken": []}, {"uploadToken": []}]
    if path == ENGINE_IO:
        op["description"] = (
            "Engine.IO v4 / Socket.IO v5 transport (namespaces /visitor and /agent): "
            "long-polling requests and the WebSocket upgrade. Its events are described in "
            "docs/protocol.md, not here."
        )
        op["responses"] = {"200": {"description": "an Engine.IO payload"}, "default": ERROR_REF}
    return op


def _slug(path: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in path.replace("{", "by_"))
    slug = "_".join(p for p in cleaned.split("_") if p) or "root"
    return f"{slug}_index" if path.endswith("/") and path != "/" else slug


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def build_document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route `app` registers."""
    found = [(method, path, read_handler(handler)) for method, path, handler in _operations(app)]
    models = list(dict.fromkeys(f.body for _m, _p, f in found if f.body is not None))
    keys, defs = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    refs = {m: keys[(m, "validation")] for m in models}
    paths: dict[str, dict[str, Any]] = {}
    for method, path, facts in found:
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, facts, refs)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Charla HTTP API",
            "version": importlib.metadata.version("charla"),
            "description": (
                "Every HTTP route of a Charla hub, generated from the pydantic models its "
                'handlers validate with. Errors are {"error": {"code", "message"}} '
                "(codes in docs/protocol.md). The Socket.IO events are in docs/protocol.md."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "responses": {
                "Error": {
                    "description": "an error: see docs/protocol.md's error codes",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
            "securitySchemes": {
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "CHARLA_ADMIN_TOKEN, or an operator's token from "
                    "POST /api/operator/login",
                },
                "agentToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "an agent's token from POST /api/login",
                },
                "uploadToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "a visitor's upload_token from the /visitor session event: "
                    "their own chats' attachments only",
                },
            },
        },
    }


# One document per application, built at its first request (its routes are frozen by then)
_documents: weakref.WeakKeyDictionary[web.Application, dict[str, Any]] = weakref.WeakKeyDictionary()


@routes.get("/api/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    """This document: the OpenAPI 3.1 description of the HTTP API."""
    app = request.app
    document = _documents.get(app)
    if document is None:
        document = _documents[app] = build_document(app)
    return web.json_response(document)
