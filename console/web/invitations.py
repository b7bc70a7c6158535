"""The tenant admin API's invitation rules (proactive plan and above), with their
conversion statistics: shown -> accepted/declined/ignored -> chats -> leads."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from console.domain.errors import ProtocolError
from console.domain.types import Tenant
from console.web.http import admins_tenant, read_json
from console.web.keys import STORE

MAX_RULES = 100
RuleText = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
routes = web.RouteTableDef()


class ConditionsIn(BaseModel):
    """Every condition given must hold (AND); a typo is refused rather than ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url_pattern: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    min_seconds_on_page: Annotated[int, Field(ge=0, le=3600)] | None = None
    min_pages_viewed: Annotated[int, Field(ge=1, le=100)] | None = None
    referrer_contains: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    returning_visitor: bool | None = None


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    enabled: bool = True
    text: Annotated[dict[str, RuleText], Field(min_length=1, max_length=10)]
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    only_when_agents_available: bool = True


class RulePatch(BaseModel):
    """Any of a rule's fields; `conditions` and `text`, when given, replace the old ones."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: (
        Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
        | None
    ) = None
    enabled: bool | None = None
    text: Annotated[dict[str, RuleText], Field(min_length=1, max_length=10)] | None = None
    conditions: ConditionsIn | None = None
    only_when_agents_available: bool | None = None


def checked_text(tenant: Tenant, given: dict[str, str]) -> dict[str, str]:
    """The texts by language: only the tenant's languages, and the primary one among them."""
    text = {lang.strip().lower(): value for lang, value in given.items()}
    unknown = sorted(set(text) - set(tenant.languages))
    if unknown:
        raise ProtocolError(
            "invalid_payload",
            f"text: {', '.join(unknown)} is not a language of this tenant "
            f"({', '.join(tenant.languages)})",
        )
    if tenant.primary_language not in text:
        raise ProtocolError(
            "invalid_payload", f"text: give the text in {tenant.primary_language}, the primary"
        )
    return text


def _no_rule(rule_id: str) -> ProtocolError:
    return ProtocolError("not_found", f"no invitation rule {rule_id} in your tenant")


@routes.post("/api/invitation-rules")
async def create_rule(request: web.Request) -> web.Response:
    _admin, tenant = await admins_tenant(request, feature="invitation_rules")
    body = await read_json(request, RuleIn)
    store = request.app[STORE]
    text = checked_text(tenant, body.text)
    if len(await store.engagement.list_rules(tenant.id)) >= MAX_RULES:
        raise ProtocolError("too_large", f"at most {MAX_RULES} rules; delete one first")
    record = await store.engagement.create_rule(
        tenant.id,
        name=body.name,
        enabled=body.enabled,
        text=text,
        conditions=body.conditions.model_dump(exclude_none=True),
        only_when_agents_available=body.only_when_agents_available,
    )
    return web.json_response(record.to_wire(), status=201)


@routes.get("/api/invitation-rules")
async def list_rules(request: web.Request) -> web.Response:
    _admin, tenant = await admins_tenant(request, feature="invitation_rules")
    records = await request.app[STORE].engagement.list_rules(tenant.id)
    return web.json_response({"rules": [r.to_wire() for r in records]})


@routes.patch("/api/invitation-rules/{rule_id}")
async def patch_rule(request: web.Request) -> web.Response:
    _admin, tenant = await admins_tenant(request, feature="invitation_rules")
    body = await read_json(request, RulePatch)
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "enabled", "text", "only_when_agents_available"):
        if key in changes and changes[key] is None:
            raise ProtocolError("invalid_payload", f"{key}: cannot be null")
    if body.text is not None:
        changes["text"] = checked_text(tenant, body.text)
    if "conditions" in changes:
        changes["conditions"] = (
            body.conditions.model_dump(exclude_none=True) if body.conditions else {}
        )
    rule_id = request.match_info["rule_id"]
    record = await request.app[STORE].engagement.update_rule(tenant.id, rule_id, changes)
    if record is None:
        raise _no_rule(rule_id)
    return web.json_response(record.to_wire())


@routes.delete("/api/invitation-rules/{rule_id}")
async def delete_rule(request: web.Request) -> web.Response:
    _admin, tenant = await admins_tenant(request, feature="invitation_rules")
    rule_id = request.match_info["rule_id"]
    if not await request.app[STORE].engagement.delete_rule(tenant.id, rule_id):
        raise _no_rule(rule_id)
    return web.json_response({"ok": True})


@routes.get("/api/invitation-rules/{rule_id}/stats")
async def rule_stats(request: web.Request) -> web.Response:
    _admin, tenant = await admins_tenant(request, feature="invitation_rules")
    rule_id = request.match_info["rule_id"]
    engagement = request.app[STORE].engagement
    if await engagement.get_rule(tenant.id, rule_id) is None:
        raise _no_rule(rule_id)
    return web.json_response(await engagement.rule_stats(tenant.id, rule_id))
