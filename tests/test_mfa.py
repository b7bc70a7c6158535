"""Two-factor authentication: enrolment, login with a code, replay refused, recovery codes,
the roles that require it, and provider operators with factors of their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest

from tests.support.harness import ADMIN_TOKEN, PASSWORD, HubFactory, LiveHub, Peer


class StepClock:
    """The hub's time, moved by the test: codes of chosen 30-second steps."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 6, 15, 0, 5, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


async def new_agent(hub: LiveHub, tenant: dict[str, Any], role: str) -> dict[str, Any]:
    body = {
        "email": f"{role}.{tenant['id'][:8]}@dealer.example",
        "name": role.title(),
        "password": PASSWORD,
        "languages": ["es"],
        "role": role,
    }
    status, agent = await hub.request(
        "POST", f"/api/admin/tenants/{tenant['id']}/agents", token=ADMIN_TOKEN, json=body
    )
    assert 201 == status, agent
    return agent | {"email": body["email"]}  # type: ignore[no-any-return]


async def login(hub: LiveHub, email: str, otp: str | None = None) -> tuple[int, Any]:
    body = {"email": email, "password": PASSWORD} | ({"otp": otp} if otp else {})
    return await hub.request("POST", "/api/login", json=body)


async def enrol(hub: LiveHub, token: str, clock: StepClock) -> tuple[pyotp.TOTP, dict[str, Any]]:
    status, enrolment = await hub.request("POST", "/api/mfa/enroll", token=token)
    assert 200 == status, enrolment
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
    assert enrolment["qr_svg"].startswith("<svg")
    totp = pyotp.TOTP(enrolment["secret"])
    status, confirmed = await hub.request(
        "POST", "/api/mfa/confirm", token=token, json={"otp": totp.at(clock.at)}
    )
    assert 200 == status, confirmed
    return totp, confirmed


async def test_an_admin_must_enrol_before_the_token_reaches_anything_else(
    make_hub: HubFactory,
) -> None:
    clock = StepClock()
    hub = await make_hub(clock=clock, mfa_roles=("admin", "supervisor"))
    tenant = await hub.tenant()
    admin = await new_agent(hub, tenant, "admin")
    agent = await new_agent(hub, tenant, "agent")

    status, first = await login(hub, admin["email"])
    assert (200, True) == (status, first["mfa_enrollment_required"])
    status, refused = await hub.request("GET", "/api/me", token=first["token"])
    assert (401, "unauthorized") == (status, refused["error"]["code"])
    peer = Peer(hub.url, "/agent")
    with pytest.raises(Exception):  # noqa: B017,PT011 - socketio's ConnectionError
        await peer.connect({"token": first["token"]})
    status, plain = await login(hub, agent["email"])
    assert 200 == status
    assert "mfa_enrollment_required" not in plain

    totp, confirmed = await enrol(hub, first["token"], clock)
    assert 10 == len(set(confirmed["recovery_codes"]))
    status, me = await hub.request("GET", "/api/me", token=confirmed["token"])
    assert (200, admin["id"]) == (status, me["agent"]["id"])

    clock.at += timedelta(seconds=30)
    status, asked = await login(hub, admin["email"])
    assert (401, "mfa_required") == (status, asked["error"]["code"])
    code = totp.at(clock.at)
    status, done = await login(hub, admin["email"], code)
    assert 200 == status
    assert "mfa_enrollment_required" not in done
    status, replayed = await login(hub, admin["email"], code)
    assert (401, "unauthorized") == (status, replayed["error"]["code"])
    clock.at += timedelta(seconds=30)
    old_step = totp.at(clock.at - timedelta(seconds=30))
    status, _ = await login(hub, admin["email"], old_step)
    assert 401 == status  # in the drift window, but that step was spent
    status, _ = await login(hub, admin["email"], totp.at(clock.at))
    assert 200 == status

    recovery = confirmed["recovery_codes"][0]
    status, _ = await login(hub, admin["email"], recovery.upper())
    assert 200 == status
    status, again = await login(hub, admin["email"], recovery)
    assert 401 == status, again

    status, events = await hub.request("GET", "/api/audit", token=done["token"])
    assert 200 == status
    actions = [e["action"] for e in events["events"]]
    assert {"mfa.enabled", "mfa.recovery_code_used", "login.succeeded", "login.failed"} <= set(
        actions
    )


async def test_a_tenant_may_require_a_second_factor_of_its_agents_too(
    make_hub: HubFactory,
) -> None:
    clock = StepClock()
    hub = await make_hub(clock=clock, mfa_roles=())
    tenant = await hub.tenant()
    admin = await new_agent(hub, tenant, "admin")
    agent = await new_agent(hub, tenant, "agent")
    status, admin_login = await login(hub, admin["email"])
    assert 200 == status
    assert "mfa_enrollment_required" not in admin_login

    status, roles = await hub.request(
        "PUT",
        "/api/security/mfa-roles",
        token=admin_login["token"],
        json={"mfa_roles": ["agent"]},
    )
    assert (200, ["agent"]) == (status, roles["mfa_roles"])
    status, bad = await hub.request(
        "PUT", "/api/security/mfa-roles", token=admin_login["token"], json={"mfa_roles": ["boss"]}
    )
    assert (400, "invalid_payload") == (status, bad["error"]["code"])

    status, agent_login = await login(hub, agent["email"])
    assert (200, True) == (status, agent_login["mfa_enrollment_required"])
    status, mfa = await hub.request("GET", "/api/mfa", token=agent_login["token"])
    assert {"enabled": False, "required": True, "recovery_codes_left": 0} == mfa


async def test_a_wrong_code_at_confirmation_says_what_to_fix(make_hub: HubFactory) -> None:
    hub = await make_hub(clock=StepClock(), mfa_roles=("admin",))
    tenant = await hub.tenant()
    admin = await new_agent(hub, tenant, "admin")
    _, first = await login(hub, admin["email"])
    status, _ = await hub.request("POST", "/api/mfa/enroll", token=first["token"])
    assert 200 == status
    status, wrong = await hub.request(
        "POST", "/api/mfa/confirm", token=first["token"], json={"otp": "000000"}
    )
    assert (400, "invalid_payload") == (status, wrong["error"]["code"])
    assert "otp" in wrong["error"]["message"]
    status, missing = await hub.request("POST", "/api/mfa/confirm", token=first["token"], json={})
    assert (400, "invalid_payload") == (status, missing["error"]["code"])


async def test_an_operator_logs_in_with_a_factor_and_the_audit_log_names_them(
    make_hub: HubFactory,
) -> None:
    clock = StepClock()
    hub = await make_hub(clock=clock)
    body = {"email": "ops@provider.example", "name": "Olga", "password": "a long operator pass"}
    status, operator = await hub.request(
        "POST", "/api/admin/operators", token=ADMIN_TOKEN, json=body
    )
    assert 201 == status, operator
    creds = {"email": body["email"], "password": body["password"]}
    status, first = await hub.request("POST", "/api/operator/login", json=creds)
    assert (200, True) == (status, first["mfa_enrollment_required"])
    status, refused = await hub.request("GET", "/api/admin/audit", token=first["token"])
    assert 401 == status, refused

    status, enrolment = await hub.request("POST", "/api/operator/mfa/enroll", token=first["token"])
    totp = pyotp.TOTP(enrolment["secret"])
    status, confirmed = await hub.request(
        "POST", "/api/operator/mfa/confirm", token=first["token"], json={"otp": totp.at(clock.at)}
    )
    assert 200 == status, confirmed
    clock.at += timedelta(seconds=30)
    status, asked = await hub.request("POST", "/api/operator/login", json=creds)
    assert (401, "mfa_required") == (status, asked["error"]["code"])
    status, session = await hub.request(
        "POST", "/api/operator/login", json=creds | {"otp": totp.at(clock.at)}
    )
    assert 200 == status, session

    status, tenant = await hub.request(
        "POST",
        "/api/admin/tenants",
        token=session["token"],
        json={
            "name": "Dealer by an operator",
            "plan": "basic",
            "languages": ["es"],
            "timezone": "America/Puerto_Rico",
            "allowed_origins": ["https://dealer.example"],
        },
    )
    assert 201 == status, tenant
    status, audit = await hub.request("GET", "/api/admin/audit", token=session["token"])
    assert 200 == status
    created = [e for e in audit["events"] if e["action"] == "POST /api/admin/tenants"]
    assert [f"operator:{operator['id']}"] == [e["actor"] for e in created]
