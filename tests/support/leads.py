"""A lead an agent saves, and its way to the dealer's CRM as the hub reports it: the
deliveries of a lead, and a Salesforce connection to the fake Salesforce."""

from __future__ import annotations

from typing import Any

from tests.support.fakes.salesforce import FakeSalesforce
from tests.support.harness import LiveHub, Peer, eventually

LEAD: dict[str, Any] = {
    "first_name": "María",
    "last_name": "Rivera",
    "phone": "787-555-0123",
    "email": "maria.rivera@example.com",
    "interest": "buy",
    "vehicle": {
        "year": 2022,
        "make": "Toyota",
        "model": "Tacoma",
        "vin": "3TMCZ5AN1NM123456",
        "stock": "T1234",
        "condition": "used",
    },
    "trade_in": {"year": 2015, "make": "Honda", "model": "Civic", "mileage": 82000},
    "timeframe": "this week",
}


async def lead_deliveries(hub: LiveHub, agent: dict[str, Any], lead_id: str) -> list[Any]:
    status, lead = await hub.request("GET", f"/api/leads/{lead_id}", token=agent["token"])
    assert 200 == status, lead
    return lead["deliveries"]  # type: ignore[no-any-return]


async def settled(hub: LiveHub, agent: dict[str, Any], lead_id: str) -> list[Any]:
    async def done() -> list[Any] | None:
        found = await lead_deliveries(hub, agent, lead_id)
        return found if found and all(d["status"] != "pending" for d in found) else None

    return await eventually(done)  # type: ignore[no-any-return]


async def connect_salesforce(
    hub: LiveHub, tenant: dict[str, Any], fake: FakeSalesforce, **extra: Any
) -> dict[str, Any]:
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    body = {
        "login_url": fake.base_url,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "ca_bundle": str(fake.certificates.ca_pem),
        **extra,
    }
    status, saved = await hub.request(
        "PUT", "/api/integrations/salesforce", token=admin["token"], json=body
    )
    assert 200 == status, saved
    return admin


async def save(agent_peer: Peer, chat: dict[str, Any], lead: dict[str, Any]) -> dict[str, Any]:
    ack = await agent_peer.call("save_lead", {"chat_id": chat["id"], "lead": lead})
    assert ack["ok"] is True, ack
    return ack["lead"]  # type: ignore[no-any-return]
