"""Where a tenant's leads and events go: Salesforce, ADF e-mail, webhooks; and the outbox.

Settings are the tenant admin's (plan-gated); retrying a parked delivery is for supervisors
and admins. Secrets go in and never come out: not in answers, not in logs.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from console.contact import normalize_email
from console.errors import ProtocolError
from console.outbox import wake_outbox
from console.types import Agent
from console.web.http import read_json, require_agent, require_tenant_admin
from console.web.keys import REDIS, SETTINGS, STORE
from integrations.netguard import literal_problem
from integrations.salesforce.mapping import field_map_problem

log = structlog.get_logger("charla.integrations")
MAX_WEBHOOKS = 10
CA_MAX = 1024 * 1024

Secret = Annotated[str, StringConstraints(min_length=8, max_length=500)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
WebhookEvent = Literal["lead.qualified", "chat.closed"]


class _In(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


def _url(value: str, *, https_only: bool, field: str) -> str:
    parts = urlsplit(value)
    schemes = ("https",) if https_only else ("https", "http")
    if parts.scheme not in schemes or not parts.hostname:
        wanted = "an https:// URL" if https_only else "an http:// or https:// URL"
        raise ValueError(f"{field} must be {wanted}")
    if parts.username or parts.password:
        raise ValueError(f"{field} must not carry a user or password")
    return value


class SalesforceIn(_In):
    login_url: Annotated[str, StringConstraints(max_length=500)]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    # omitted: keep the secret stored before (to change only the mapping)
    client_secret: Secret | None = None
    ca_bundle: Annotated[str, StringConstraints(max_length=500)] | None = None
    lead_source: ShortText | None = None
    default_company: ShortText | None = None
    field_map: dict[str, str] | None = None
    api_version: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}\.0$")] | None = None

    @field_validator("client_secret", mode="before")
    @classmethod
    def _blank_keeps(cls, value: object) -> object:
        """A form left blank (the console's) keeps the stored secret, like leaving it out."""
        return None if value == "" else value

    @field_validator("login_url")
    @classmethod
    def _login_url(cls, value: str) -> str:
        return _url(value, https_only=True, field="login_url").rstrip("/")

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            # a regular, small file: a device or a huge file would stall the hub
            path = Path(value)
            if not path.is_absolute() or not path.is_file() or path.stat().st_size > CA_MAX:
                raise ValueError(value)
            ssl.create_default_context(cafile=value)
        except (OSError, ssl.SSLError, ValueError):
            raise ValueError(
                "ca_bundle must be the path of a readable PEM file of CA certificates on the hub"
            ) from None
        return value

    @field_validator("field_map")
    @classmethod
    def _field_map(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            problem = field_map_problem(value)
            if problem:
                raise ValueError(problem)
        return value


class AdfIn(_In):
    to: Annotated[str, StringConstraints(max_length=254)]
    vendor_name: ShortText

    @field_validator("to")
    @classmethod
    def _to(cls, value: str) -> str:
        try:
            return normalize_email(value.strip())
        except ValueError as exc:
            raise ValueError(f"to: not a valid e-mail address: {exc}") from None


class WebhookIn(_In):
    url: Annotated[str, StringConstraints(max_length=2000)]
    secret: Annotated[str, StringConstraints(min_length=16, max_length=500)]
    events: list[WebhookEvent]

    @field_validator("url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        return _url(value, https_only=False, field="url")

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("events must name at least one of lead.qualified, chat.closed")
        return list(dict.fromkeys(value))


# -- settings ----------------------------------------------------------------------------


def _public_only(request: web.Request, url: str, field: str) -> None:
    """Refuse an address on the provider's own network now (names are checked again at
    each delivery, in integrations/netguard.py)."""
    if request.app[SETTINGS].outbox.allow_private:
        return
    problem = literal_problem(urlsplit(url).hostname or "")
    if problem:
        raise ProtocolError("invalid_payload", f"{field}: {problem}; use the public URL")


async def put_salesforce(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request, plan="premium")
    body = await read_json(request, SalesforceIn)
    _public_only(request, body.login_url, "login_url")
    store = request.app[STORE]
    existing = await store.integrations.get(agent.tenant_id, "salesforce")
    if body.client_secret is None and (existing is None or not existing.has_secret):
        raise ProtocolError("invalid_payload", "client_secret: required the first time")
    config = body.model_dump(exclude={"client_secret"}, exclude_none=True)
    saved = await store.integrations.put(agent.tenant_id, "salesforce", config, body.client_secret)
    log.info("integration_saved", tenant_id=agent.tenant_id, kind="salesforce")
    return web.json_response(saved.to_wire())


async def put_adf(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request, plan="proactive")
    body = await read_json(request, AdfIn)
    saved = await request.app[STORE].integrations.put(
        agent.tenant_id, "adf", body.model_dump(), None
    )
    log.info("integration_saved", tenant_id=agent.tenant_id, kind="adf")
    return web.json_response(saved.to_wire())


async def get_integrations(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request)
    store = request.app[STORE]
    configured = await store.integrations.configured(agent.tenant_id)
    hooks = await store.integrations.webhooks(agent.tenant_id)
    return web.json_response(
        {
            "integrations": {i.kind: i.to_wire() for i in configured},
            "webhooks": [hook.to_wire() for hook in hooks],
        }
    )


async def delete_integration(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request)
    kind = request.match_info["kind"]
    if kind not in ("salesforce", "adf"):
        raise ProtocolError("not_found", "integrations are salesforce and adf")
    if not await request.app[STORE].integrations.remove(agent.tenant_id, kind):
        raise ProtocolError("not_found", f"no {kind} integration is configured")
    return web.json_response({"ok": True})


async def add_webhook(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request, plan="proactive")
    body = await read_json(request, WebhookIn)
    _public_only(request, body.url, "url")
    if urlsplit(body.url).scheme != "https" and not request.app[SETTINGS].outbox.allow_private:
        # a lead carries a person's contact details: never over plain HTTP on the Internet
        raise ProtocolError("invalid_payload", "url must be an https:// URL")
    store = request.app[STORE]
    if len(await store.integrations.webhooks(agent.tenant_id)) >= MAX_WEBHOOKS:
        raise ProtocolError("conflict", f"at most {MAX_WEBHOOKS} webhooks; delete one first")
    hook = await store.integrations.add_webhook(
        agent.tenant_id, url=body.url, secret=body.secret, events=list(body.events)
    )
    log.info("webhook_added", tenant_id=agent.tenant_id, webhook_id=hook.id)
    return web.json_response(hook.to_wire(), status=201)


async def list_webhooks(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request, plan="proactive")
    hooks = await request.app[STORE].integrations.webhooks(agent.tenant_id)
    return web.json_response({"webhooks": [hook.to_wire() for hook in hooks]})


async def delete_webhook(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request, plan="proactive")
    webhook_id = request.match_info["webhook_id"]
    if not await request.app[STORE].integrations.remove_webhook(agent.tenant_id, webhook_id):
        raise ProtocolError("not_found", "no such webhook in your tenant")
    return web.json_response({"ok": True})


# -- the outbox --------------------------------------------------------------------------


async def _supervisor(request: web.Request) -> Agent:
    agent = await require_agent(request)
    if agent.role not in ("supervisor", "admin"):
        raise ProtocolError("forbidden", "only a supervisor or an admin can do this")
    return agent


async def list_deliveries(request: web.Request) -> web.Response:
    agent = await _supervisor(request)
    status = request.query.get("status")
    if status not in (None, "pending", "delivered", "failed"):
        raise ProtocolError("invalid_payload", "status must be pending, delivered or failed")
    found = await request.app[STORE].outbox.search(agent.tenant_id, status=status)
    return web.json_response({"deliveries": [{**d.to_wire(), "lead_id": d.lead_id} for d in found]})


async def _retry(
    request: web.Request, agent: Agent, delivery_id: str, *, lead_id: str | None = None
) -> dict[str, Any]:
    current, retried = await request.app[STORE].outbox.retry(
        agent.tenant_id, delivery_id, lead_id=lead_id
    )
    if current is None or (lead_id is not None and current.lead_id != lead_id):
        where = "for this lead in your tenant" if lead_id is not None else "in your tenant"
        raise ProtocolError("not_found", f"no such delivery {where}")
    if not retried:
        raise ProtocolError(
            "conflict", f"only a failed delivery can be retried; this one is {current.status}"
        )
    await wake_outbox(request.app[REDIS])
    log.info("delivery_retried", tenant_id=agent.tenant_id, delivery_id=delivery_id)
    return current.to_wire()


async def retry_delivery(request: web.Request) -> web.Response:
    agent = await _supervisor(request)
    return web.json_response(await _retry(request, agent, request.match_info["delivery_id"]))


async def retry_lead_delivery(request: web.Request) -> web.Response:
    agent = await _supervisor(request)
    return web.json_response(
        await _retry(
            request,
            agent,
            request.match_info["delivery_id"],
            lead_id=request.match_info["lead_id"],
        )
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/integrations", get_integrations),
        web.put("/api/integrations/salesforce", put_salesforce),
        web.put("/api/integrations/adf", put_adf),
        web.delete("/api/integrations/{kind}", delete_integration),
        web.post("/api/webhooks", add_webhook),
        web.get("/api/webhooks", list_webhooks),
        web.delete("/api/webhooks/{webhook_id}", delete_webhook),
        web.get("/api/deliveries", list_deliveries),
        web.post("/api/deliveries/{delivery_id}/retry", retry_delivery),
        web.post("/api/leads/{lead_id}/deliveries/{delivery_id}/retry", retry_lead_delivery),
    ]
