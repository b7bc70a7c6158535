"""An agent deactivated by their tenant's admin is disconnected at once on every process
(issue 22), not only on the one that took the admin's request: two `charla serve`
processes on one Redis and one PostgreSQL, the agent on B, the admin's DELETE through A."""

from __future__ import annotations

import asyncio

import pyotp
import pytest
import socketio

from tests.support.harness import Peer
from tests.test_scale_out import Deployment, database, deploy

pytestmark = pytest.mark.postgres
__all__ = ["database", "deploy"]  # the fixtures this module uses, from the scale-out tests


async def test_an_agent_deactivated_through_one_process_is_cut_off_on_the_other(
    deploy: Deployment, database: str
) -> None:
    d: Deployment = await deploy(database)  # type: ignore[operator]
    tenant = await d.tenant()
    admin = await d.a.agent(tenant, languages=["es"], role="admin")
    # an admin needs a second factor here (CHARLA_MFA_ROLES' default): enrol, as a phone would
    status, enrolment = await d.a.request("POST", "/api/mfa/enroll", token=admin["token"])
    assert 200 == status, enrolment
    code = pyotp.TOTP(enrolment["secret"]).now()
    status, confirmed = await d.a.request(
        "POST", "/api/mfa/confirm", token=admin["token"], json={"otp": code}
    )
    assert 200 == status, confirmed
    agent = await d.a.agent(tenant, languages=["es"])
    peer = await d.b.agent_peer(agent)
    gone = asyncio.Event()
    peer.sio.on("disconnect", gone.set, namespace="/agent")

    status, body = await d.a.request(
        "DELETE", f"/api/agents/{agent['id']}", token=confirmed["token"]
    )
    assert 200 == status, body
    await asyncio.wait_for(gone.wait(), 10)
    assert not peer.sio.connected
    # nor can the token come back, on either process, nor reach the HTTP API
    for hub in d.hubs:
        again = Peer(hub.url, "/agent")
        hub.peers.append(again)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await again.connect({"token": agent["token"]})
        status, refused = await hub.request("GET", "/api/me", token=agent["token"])
        assert (401, "unauthorized") == (status, refused["error"]["code"])
