"""Two-factor authentication (TOTP, RFC 6238) for agents and operators.

`POST /api/mfa/enroll` -> `{"secret", "otpauth_uri", "qr_svg"}` (a new, unconfirmed
secret); `POST /api/mfa/confirm {"otp"}` turns it on and answers the recovery codes, shown
once; `GET /api/mfa` says whether it is on; `DELETE /api/mfa {"otp"}` turns it off (a
role that requires it must enrol again at the next login). These take the agent's own
token, including the enrolment-only token a login gives when a factor is required.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from console.domain.errors import ProtocolError
from console.domain.types import Agent
from console.security import totp
from console.settings import Settings
from console.store.repository import Store
from console.web.audit_log import record
from console.web.http import read_json, require_agent
from console.web.keys import CLOCK, SETTINGS, SIGNER, STORE

routes = web.RouteTableDef()
Code = Annotated[str, StringConstraints(min_length=1, max_length=32, strip_whitespace=True)]


class OtpIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    otp: Code


async def second_factor(
    request: web.Request, principal_id: str, code: str
) -> Literal["totp", "recovery"] | None:
    """Spend a code of the principal's confirmed factor: a TOTP code of now (a step not
    used before) or one of their recovery codes. None: wrong, or already used."""
    store = request.app[STORE]
    factor = await store.mfa.factor(principal_id)
    if factor is None or not factor.confirmed:
        return None
    if totp.is_recovery_code(code):
        used = await store.mfa.use_recovery_code(principal_id, totp.recovery_hash(code))
        return "recovery" if used else None
    step = totp.matching_step(factor.secret, code, request.app[CLOCK].now(), after=factor.last_step)
    if step is None or not await store.mfa.accept(principal_id, step):
        return None
    return "totp"


async def requires_factor(store: Store, settings: Settings, agent: Agent) -> bool:
    """Whether the agent's role must log in with a second factor (provider's roles and
    the tenant's own additions)."""
    if agent.role in settings.mfa_roles:
        return True
    policy = await store.privacy.policy(agent.tenant_id)
    return agent.role in policy.mfa_roles


async def _caller(request: web.Request) -> Agent:
    """The agent of the token, whatever its scope (enrolment-only tokens included)."""
    return await require_agent(request, any_scope=True)


@routes.get("/api/mfa")
async def status(request: web.Request) -> web.Response:
    agent = await _caller(request)
    store = request.app[STORE]
    factor = await store.mfa.factor(agent.id)
    on = factor is not None and factor.confirmed
    return web.json_response(
        {
            "enabled": on,
            "required": await requires_factor(store, request.app[SETTINGS], agent),
            "recovery_codes_left": factor.recovery_left if factor and on else 0,
        }
    )


@routes.post("/api/mfa/enroll")
async def enroll(request: web.Request) -> web.Response:
    agent = await _caller(request)
    secret = totp.new_secret()
    if not await request.app[STORE].mfa.start_enrolment(agent.id, secret):
        raise ProtocolError(
            "conflict", "two-factor authentication is on already: turn it off first"
        )
    tenant = await request.app[STORE].get_tenant(agent.tenant_id)
    issuer = f"Charla ({tenant.name})" if tenant else totp.ISSUER
    uri = totp.otpauth_uri(secret, agent.email, issuer)
    await record(request, "mfa.enrolment_started", agent.id)
    return web.json_response({"secret": secret, "otpauth_uri": uri, "qr_svg": totp.qr_svg(uri)})


@routes.post("/api/mfa/confirm")
async def confirm(request: web.Request) -> web.Response:
    agent = await _caller(request)
    body = await read_json(request, OtpIn)
    store = request.app[STORE]
    factor = await store.mfa.factor(agent.id)
    if factor is None:
        raise ProtocolError("conflict", "start with POST /api/mfa/enroll")
    if factor.confirmed:
        raise ProtocolError("conflict", "two-factor authentication is on already")
    step = totp.matching_step(
        factor.secret, body.otp, request.app[CLOCK].now(), after=factor.last_step
    )
    if step is None or not await store.mfa.accept(agent.id, step):
        raise ProtocolError(
            "invalid_payload",
            "otp: not the current code of the authenticator app (check the phone's clock)",
        )
    codes = totp.new_recovery_codes()
    await store.mfa.confirm(agent.id, [totp.recovery_hash(c) for c in codes])
    await record(request, "mfa.enabled", agent.id)
    token = request.app[SIGNER].issue(agent.id, agent.tenant_id, agent.role)
    return web.json_response(
        {"enabled": True, "recovery_codes": codes, "token": token, "agent": agent.to_login_wire()}
    )


@routes.delete("/api/mfa")
async def disable(request: web.Request) -> web.Response:
    agent = await _caller(request)
    body = await read_json(request, OtpIn)
    if await second_factor(request, agent.id, body.otp) is None:
        raise ProtocolError("unauthorized", "otp: wrong or already used code")
    await request.app[STORE].mfa.remove(agent.id)
    await record(request, "mfa.disabled", agent.id)
    return web.json_response({"enabled": False})
