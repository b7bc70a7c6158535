"""The provider's own people: operator accounts with a second factor (so the audit log
names who did what, not just "the admin token"), and the incident register.

- `POST /api/admin/operators {"email", "name", "password"}` (provider admin) -> 201.
- `POST /api/operator/login {"email", "password", "otp"?}`: as an agent's login; an
  operator always needs a factor: without one the token reaches only
  `/api/operator/mfa/*` (`mfa_enrollment_required`).
- `POST /api/operator/mfa/enroll`, `POST /api/operator/mfa/confirm {"otp"}`.
- `GET /api/admin/operators`; `DELETE /api/admin/operators/{id}` deactivates one: their
  tokens stop working on their next request (`operator_access`, a middleware).
- `POST /api/admin/incidents`, `GET /api/admin/incidents`, `PATCH /api/admin/incidents/{id}`:
  the register, each incident with the notices it needs and their deadlines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from console.domain.contact import normalize_email
from console.domain.errors import ProtocolError
from console.domain.types import iso
from console.security import totp
from console.security.breach import deadlines
from console.security.tokens import ENROLMENT, FULL, InvalidToken
from console.store.incidents import Incident
from console.store.mfa import OperatorExistsError
from console.web.agents import TIMING_HASH
from console.web.audit_log import record
from console.web.http import OPERATOR_ROLE, PROVIDER, bearer, client_ip, read_json, require_admin
from console.web.keys import ACTOR, CLOCK, LOGIN_GUARD, PASSWORDS, SIGNER, STORE
from console.web.mfa import OtpIn, second_factor

routes = web.RouteTableDef()
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class OperatorIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    name: Text
    password: Annotated[str, StringConstraints(min_length=12, max_length=1024)]


class OperatorLoginIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    otp: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None


class Affected(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=36)]
    visitors: Annotated[int, Field(ge=0)]


class IncidentIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    title: Text
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    discovered_at: Annotated[datetime, Field(strict=False)]
    affected: list[Affected] = Field(default_factory=list, max_length=1000)


class NoticeIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    to: Literal["daco", "ftc", "visitors", "tenant"]
    sent_at: Annotated[datetime, Field(strict=False)]
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class IncidentPatch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    affected: list[Affected] | None = Field(default=None, max_length=1000)
    notice: NoticeIn | None = None
    closed: Literal[True] | None = None


def _aware(at: datetime, name: str) -> datetime:
    if at.tzinfo is None:
        raise ProtocolError("invalid_payload", f"{name}: give the time zone (e.g. a Z suffix)")
    return at.astimezone(UTC)


@routes.post("/api/admin/operators")
async def create_operator(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(request, OperatorIn)
    try:
        email = normalize_email(body.email)
    except ValueError as exc:
        raise ProtocolError("invalid_payload", f"email: {exc}") from None
    password_hash = await request.app[PASSWORDS].hash(body.password)
    try:
        operator = await request.app[STORE].mfa.create_operator(
            email=email, name=body.name, password_hash=password_hash
        )
    except OperatorExistsError as exc:
        raise ProtocolError("conflict", str(exc)) from None
    await record(request, "operator.created", operator.id)
    return web.json_response(operator.to_wire(), status=201)


@routes.get("/api/admin/operators")
async def list_operators(request: web.Request) -> web.Response:
    require_admin(request)
    operators = await request.app[STORE].mfa.list_operators()
    return web.json_response({"operators": [o.to_wire() for o in operators]})


@routes.delete("/api/admin/operators/{operator_id}")
async def deactivate_operator(request: web.Request) -> web.Response:
    """The operator can no longer log in and their tokens stop working at once
    (`operator_access`); the account stays, so the audit log still names them."""
    actor = require_admin(request)
    operator_id = request.match_info["operator_id"]
    if actor == f"operator:{operator_id}":
        raise ProtocolError("conflict", "you cannot deactivate yourself; ask another operator")
    operator = await request.app[STORE].mfa.deactivate_operator(operator_id)
    if operator is None:
        raise ProtocolError("not_found", "no such operator")
    await record(request, "operator.deactivated", operator.id)
    return web.json_response(operator.to_wire())


@web.middleware
async def operator_access(request: web.Request, handler: Any) -> web.StreamResponse:
    """An operator's token works only while the operator is active: every request that
    carries one reads the operator's row (by the id the token carries), so deactivation
    takes effect on the next request, not when the token expires."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token.count(".") == 2:
        try:
            claims = request.app[SIGNER].verify_any(token)
        except InvalidToken:
            claims = None  # the handler refuses it, saying why
        if claims is not None and claims.role == OPERATOR_ROLE and claims.tenant_id == PROVIDER:
            operator = await request.app[STORE].mfa.get_operator(claims.agent_id)
            if operator is None or not operator.active:
                raise ProtocolError(
                    "unauthorized", "this operator account is deactivated; ask another operator"
                )
    response: web.StreamResponse = await handler(request)
    return response


@routes.post("/api/operator/login")
async def operator_login(request: web.Request) -> web.Response:
    body = await read_json(request, OperatorLoginIn)
    guard = request.app[LOGIN_GUARD]
    address, account = client_ip(request), f"operator:{body.email.strip().lower()}"
    if await guard.locked(address, account):
        raise ProtocolError("rate_limited", "too many failed logins; wait 15 minutes and retry")
    store, passwords = request.app[STORE], request.app[PASSWORDS]
    found = await store.mfa.operator_login(body.email)
    if found is None:
        await passwords.verify(TIMING_HASH, body.password)
    if found is None or not found[0].active or not await passwords.verify(found[1], body.password):
        await guard.failed(address, account)
        await record(request, "operator.login_failed", account[:200], actor="anonymous")
        raise ProtocolError("unauthorized", "wrong e-mail or password")
    operator = found[0]
    actor = f"operator:{operator.id}"
    factor = await store.mfa.factor(operator.id)
    scope = ENROLMENT
    if factor is not None and factor.confirmed:
        if body.otp is None:
            raise ProtocolError("mfa_required", "send otp too: the code of your authenticator")
        if await second_factor(request, operator.id, body.otp) is None:
            await guard.failed(address, account)
            await record(request, "operator.login_failed", operator.id, actor=actor)
            raise ProtocolError("unauthorized", "otp: wrong or already used code")
        scope = FULL
    token = request.app[SIGNER].issue(operator.id, PROVIDER, OPERATOR_ROLE, scope=scope)
    await record(request, "operator.login", operator.id, actor=actor)
    answer: dict[str, Any] = {"token": token, "operator": operator.to_wire()}
    if scope == ENROLMENT:
        answer["mfa_enrollment_required"] = True
    return web.json_response(answer)


async def _operator(request: web.Request) -> str:
    try:
        claims = request.app[SIGNER].verify_any(bearer(request))
    except InvalidToken as exc:
        raise ProtocolError("unauthorized", str(exc)) from None
    if claims.role != OPERATOR_ROLE or claims.tenant_id != PROVIDER:
        raise ProtocolError("forbidden", "only an operator's own token")
    request[ACTOR] = (None, f"operator:{claims.agent_id}")
    return claims.agent_id


@routes.post("/api/operator/mfa/enroll")
async def operator_enroll(request: web.Request) -> web.Response:
    operator_id = await _operator(request)
    operator = await request.app[STORE].mfa.get_operator(operator_id)
    if operator is None or not operator.active:
        raise ProtocolError("unauthorized", "this operator no longer exists")
    secret = totp.new_secret()
    if not await request.app[STORE].mfa.start_enrolment(operator_id, secret):
        raise ProtocolError("conflict", "two-factor authentication is on already")
    uri = totp.otpauth_uri(secret, operator.email, "Charla (provider)")
    await record(request, "mfa.enrolment_started", operator_id)
    return web.json_response({"secret": secret, "otpauth_uri": uri, "qr_svg": totp.qr_svg(uri)})


@routes.post("/api/operator/mfa/confirm")
async def operator_confirm(request: web.Request) -> web.Response:
    operator_id = await _operator(request)
    body = await read_json(request, OtpIn)
    store = request.app[STORE]
    factor = await store.mfa.factor(operator_id)
    if factor is None or factor.confirmed:
        raise ProtocolError("conflict", "start with POST /api/operator/mfa/enroll")
    step = totp.matching_step(
        factor.secret, body.otp, request.app[CLOCK].now(), after=factor.last_step
    )
    if step is None or not await store.mfa.accept(operator_id, step):
        raise ProtocolError("invalid_payload", "otp: not the current code of the authenticator")
    codes = totp.new_recovery_codes()
    await store.mfa.confirm(operator_id, [totp.recovery_hash(c) for c in codes])
    await record(request, "mfa.enabled", operator_id)
    token = request.app[SIGNER].issue(operator_id, PROVIDER, OPERATOR_ROLE)
    return web.json_response({"enabled": True, "recovery_codes": codes, "token": token})


def _incident_wire(incident: Incident, now: datetime) -> dict[str, Any]:
    sent = {str(n.get("to")) for n in incident.notices}
    return {
        "id": incident.id,
        "title": incident.title,
        "description": incident.description,
        "opened_at": iso(incident.opened_at),
        "discovered_at": iso(incident.discovered_at),
        "opened_by": incident.opened_by,
        "affected": incident.affected,
        "visitors": incident.visitors,
        "notices": incident.notices,
        "closed_at": iso(incident.closed_at),
        "deadlines": [
            {
                "notice": d.notice,
                "due_at": iso(d.due_at),
                "sent": d.sent,
                "overdue": d.overdue,
                "why": d.why,
            }
            for d in deadlines(incident.discovered_at, incident.visitors, sent, now)
        ],
    }


@routes.post("/api/admin/incidents")
async def open_incident(request: web.Request) -> web.Response:
    actor = require_admin(request)
    body = await read_json(request, IncidentIn)
    incident = await request.app[STORE].incidents.open(
        title=body.title,
        description=body.description,
        discovered_at=_aware(body.discovered_at, "discovered_at"),
        affected=[a.model_dump() for a in body.affected],
        opened_by=actor,
    )
    await record(request, "incident.opened", incident.id)
    return web.json_response(_incident_wire(incident, request.app[CLOCK].now()), status=201)


@routes.get("/api/admin/incidents")
async def list_incidents(request: web.Request) -> web.Response:
    require_admin(request)
    now = request.app[CLOCK].now()
    found = await request.app[STORE].incidents.list()
    return web.json_response({"incidents": [_incident_wire(i, now) for i in found]})


@routes.patch("/api/admin/incidents/{incident_id}")
async def update_incident(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(request, IncidentPatch)
    notice = None
    if body.notice is not None:
        notice = {"to": body.notice.to, "sent_at": iso(_aware(body.notice.sent_at, "sent_at"))}
        if body.notice.note:
            notice["note"] = body.notice.note
    incident = await request.app[STORE].incidents.update(
        request.match_info["incident_id"],
        affected=[a.model_dump() for a in body.affected] if body.affected is not None else None,
        notice=notice,
        close=bool(body.closed),
    )
    if incident is None:
        raise ProtocolError("not_found", "no such incident")
    return web.json_response(_incident_wire(incident, request.app[CLOCK].now()))
