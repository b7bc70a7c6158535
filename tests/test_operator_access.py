"""A deactivated operator loses access at once (issue 22): their token, still unexpired, is
refused on the very next request with `401 unauthorized` in the protocol's error shape,
because every request that carries an operator's token reads the operator's row. An
operator's token opens no Socket.IO connection, so none is left behind."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
import socketio

from tests.support.harness import ADMIN_TOKEN, HubFactory, LiveHub, Peer
from tests.test_mfa import StepClock


async def operator(hub: LiveHub, clock: StepClock, name: str) -> dict[str, Any]:
    """A provider operator with a confirmed factor, signed in: their wire form, with
    `token` (a full one), `password` and `totp`."""
    email = f"{name.lower()}@provider.example"
    password = f"a long pass for {name}"
    status, made = await hub.request(
        "POST",
        "/api/admin/operators",
        token=ADMIN_TOKEN,
        json={"email": email, "name": name, "password": password},
    )
    assert 201 == status, made
    creds = {"email": email, "password": password}
    status, first = await hub.request("POST", "/api/operator/login", json=creds)
    assert 200 == status, first
    status, enrolment = await hub.request("POST", "/api/operator/mfa/enroll", token=first["token"])
    assert 200 == status, enrolment
    totp = pyotp.TOTP(enrolment["secret"])
    status, confirmed = await hub.request(
        "POST", "/api/operator/mfa/confirm", token=first["token"], json={"otp": totp.at(clock.at)}
    )
    assert 200 == status, confirmed
    signed_in: dict[str, Any] = made | {"token": confirmed["token"], "password": password}
    return signed_in | {"totp": totp}


async def test_an_operator_deactivated_by_another_is_refused_at_once(
    make_hub: HubFactory,
) -> None:
    clock = StepClock()
    hub = await make_hub(clock=clock)
    olga = await operator(hub, clock, "Olga")
    pablo = await operator(hub, clock, "Pablo")
    for path in ("/api/admin/incidents", "/api/audit", "/api/admin/operators"):
        status, body = await hub.request("GET", path, token=olga["token"])
        assert 200 == status, (path, body)
    status, listed = await hub.request("GET", "/api/admin/operators", token=olga["token"])
    assert [(olga["id"], True), (pablo["id"], True)] == [
        (o["id"], o["active"]) for o in listed["operators"]
    ]

    status, done = await hub.request(
        "DELETE", f"/api/admin/operators/{olga['id']}", token=pablo["token"]
    )
    assert (200, False) == (status, done["active"]), done
    for method, path in (
        ("GET", "/api/admin/incidents"),
        ("GET", "/api/audit"),
        ("GET", "/api/admin/tenants"),
        ("POST", "/api/operator/mfa/enroll"),
    ):
        status, refused = await hub.request(method, path, token=olga["token"])
        assert 401 == status, (path, refused)
        assert {"error"} == set(refused)
        assert "unauthorized" == refused["error"]["code"]
        assert "deactivated" in refused["error"]["message"]
    # nor can she sign in again, with her password and a fresh code
    status, login = await hub.request(
        "POST",
        "/api/operator/login",
        json={"email": olga["email"], "password": olga["password"], "otp": olga["totp"].now()},
    )
    assert (401, "unauthorized") == (status, login["error"]["code"])

    # the one who did it is named in the provider's log; he keeps working
    status, audit = await hub.request(
        "GET", "/api/audit?action=operator.deactivated", token=pablo["token"]
    )
    assert 200 == status, audit
    assert [(f"operator:{pablo['id']}", olga["id"])] == [
        (e["actor"], e["target"]) for e in audit["events"]
    ]
    status, mine = await hub.request(
        "DELETE", f"/api/admin/operators/{pablo['id']}", token=pablo["token"]
    )
    assert (409, "conflict") == (status, mine["error"]["code"])
    status, nobody = await hub.request("DELETE", "/api/admin/operators/no-such", token=ADMIN_TOKEN)
    assert (404, "not_found") == (status, nobody["error"]["code"])


async def test_an_operator_token_opens_no_agent_connection(make_hub: HubFactory) -> None:
    clock = StepClock()
    hub = await make_hub(clock=clock)
    olga = await operator(hub, clock, "Olga")
    peer = Peer(hub.url, "/agent")
    hub.peers.append(peer)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await peer.connect({"token": olga["token"]})
    assert "unauthorized" == peer.connect_error["data"]["code"], peer.connect_error
