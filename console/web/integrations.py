"""Where a tenant's leads and events go: Salesforce, ADF e-mail, webhooks; and the outbox.

Settings are the tenant admin's (plan-gated); retrying a parked delivery is for supervisors
and admins. Secrets go in and never come out: not in answers, not in logs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from console.domain.errors import ProtocolError
from console.domain.types import Agent
from console.outbox.wake import wake_outbox
from console.web.http import read_json, require_agent, require_tenant_admin
from console.web.keys import REDIS, SETTINGS, STORE
from integrations.adf.config import AdfSettings
from integrations.netguard import literal_problem
from integrations.notify.config import NotifySettings
from integrations.salesforce.config import SalesforceSettings
from integrations.webhooks.config import WebhookSettings

log = structlog.get_logger("charla.integrations")
MAX_WEBHOOKS = 10
routes = web.RouteTableDef()


# -- settings ----------------------------------------------------------------------------


def check_destination(request: web.Request, url: str, field: str) -> None:
    """Refuse an address on the provider's own network now (names are checked again at
    each delivery, in integrations/netguard.py), and plain http: a lead carries a person's
    contact details. Both are allowed for on-premises CRMs (CHARLA_OUTBOX_ALLOW_PRIVATE)."""
    if request.app[SETTINGS].outbox.allow_private:
        return
    problem = literal_problem(urlsplit(url).hostname or "")
    if problem:
        raise ProtocolError("invalid_payload", f"{field}: {problem}; use the public URL")
    if urlsplit(url).scheme != "https":
        raise ProtocolError("invalid_payload", f"{field} must be an https:// URL")


@routes.get("/api/integrations")
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


@routes.put("/api/integrations/salesforce")
async def put_salesforce(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request, feature="salesforce")
    body = await read_json(request, SalesforceSettings)
    check_destination(request, body.login_url, "login_url")
    existing = await request.app[STORE].integrations.get(agent.tenant_id, "salesforce")
    if body.client_secret is None and (existing is None or not existing.has_secret):
        raise ProtocolError("invalid_payload", "client_secret: required the first time")
    config = body.model_dump(exclude={"client_secret"}, exclude_none=True)
    return await _saved(request, agent, "salesforce", config, body.client_secret)


@routes.put("/api/integrations/adf")
async def put_adf(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request, feature="adf")
    body = await read_json(request, AdfSettings)
    return await _saved(request, agent, "adf", body.model_dump(), None)


@routes.put("/api/integrations/notify")
async def put_notify(request: web.Request) -> web.Response:
    """The address that hears of every new ticket, in the tenant's language (every plan)."""
    agent = await require_tenant_admin(request)
    body = await read_json(request, NotifySettings)
    return await _saved(request, agent, "notify", body.model_dump(), None)


async def _saved(
    request: web.Request, agent: Agent, kind: str, config: dict[str, Any], secret: str | None
) -> web.Response:
    """Store an integration's settings (a `secret` of None keeps the stored one); answer them."""
    saved = await request.app[STORE].integrations.put(agent.tenant_id, kind, config, secret)
    log.info("integration_saved", tenant_id=agent.tenant_id, kind=kind)
    return web.json_response(saved.to_wire())


@routes.delete("/api/integrations/{kind}")
async def delete_integration(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request)
    kind = request.match_info["kind"]
    if kind not in ("salesforce", "adf", "notify"):
        raise ProtocolError("not_found", "integrations are salesforce, adf and notify")
    if not await request.app[STORE].integrations.remove(agent.tenant_id, kind):
        raise ProtocolError("not_found", f"no {kind} integration is configured")
    return web.json_response({"ok": True})


@routes.post("/api/webhooks")
async def add_webhook(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request, feature="webhook")
    body = await read_json(request, WebhookSettings)
    check_destination(request, body.url, "url")
    store = request.app[STORE]
    if len(await store.integrations.webhooks(agent.tenant_id)) >= MAX_WEBHOOKS:
        raise ProtocolError("conflict", f"at most {MAX_WEBHOOKS} webhooks; delete one first")
    hook = await store.integrations.add_webhook(
        agent.tenant_id, url=body.url, secret=body.secret, events=list(body.events)
    )
    log.info("webhook_added", tenant_id=agent.tenant_id, webhook_id=hook.id)
    return web.json_response(hook.to_wire(), status=201)


@routes.get("/api/webhooks")
async def list_webhooks(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request, feature="webhook")
    hooks = await request.app[STORE].integrations.webhooks(agent.tenant_id)
    return web.json_response({"webhooks": [hook.to_wire() for hook in hooks]})


@routes.delete("/api/webhooks/{webhook_id}")
async def delete_webhook(request: web.Request) -> web.Response:
    agent = await require_tenant_admin(request, feature="webhook")
    webhook_id = request.match_info["webhook_id"]
    if not await request.app[STORE].integrations.remove_webhook(agent.tenant_id, webhook_id):
        raise ProtocolError("not_found", "no such webhook in your tenant")
    return web.json_response({"ok": True})


# -- the outbox --------------------------------------------------------------------------


async def _supervisor(request: web.Request) -> Agent:
    agent = await require_agent(request)
    if not agent.supervises:
        raise ProtocolError("forbidden", "only a supervisor or an admin can do this")
    return agent


@routes.get("/api/deliveries")
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


@routes.post("/api/deliveries/{delivery_id}/retry")
async def retry_delivery(request: web.Request) -> web.Response:
    agent = await _supervisor(request)
    return web.json_response(await _retry(request, agent, request.match_info["delivery_id"]))


@routes.post("/api/leads/{lead_id}/deliveries/{delivery_id}/retry")
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
