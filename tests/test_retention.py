"""The retention purge, with the hub's clock moved 800 days on: text and contact details
of old chats go, timings and scores stay (the closed month's SLA report is unchanged),
legal holds are kept, and the run leaves a purge record. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from console.hub.retention import RetentionPurge
from console.reports.sla import compute
from console.web.keys import REDIS, STORE
from tests.support.harness import ADMIN_TOKEN, HubFactory, LiveHub, Peer, start_chat

AGREEMENT = {
    "effective_from": "2024-01-01",
    "answer_s": 30,
    "target_pct": "90.00",
    "credits": [{"below_pct": "90.00", "credit_pct": "5.00"}],
    "cap_pct": "25.00",
}


class MovableClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def served_chat(
    hub: LiveHub, tenant: dict[str, Any], agent_peer: Peer, name: str, email: str
) -> dict[str, Any]:
    """A visitor's chat answered by the agent, closed and rated 5 with a comment."""
    visitor = await hub.visitor_peer(tenant)
    await visitor.call("page_view", {"url": "https://dealer.example/inventory/tacoma"})
    chat = await start_chat(
        visitor, "Hola, busco una Tacoma", language="es", name=name, email=email
    )
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    ack = await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "¡Hola! Sí, tenemos dos.", "client_msg_id": "a"}
    )
    assert ack["ok"], ack
    assert (await agent_peer.call("close_chat", {"chat_id": chat["id"]}))["ok"]
    rated = await visitor.call(
        "rate", {"chat_id": chat["id"], "score": 5, "comment": "Muy amable, gracias"}
    )
    assert rated["ok"], rated
    return chat


async def test_an_800_day_old_chat_is_purged_and_the_closed_months_report_is_unchanged(
    make_hub: HubFactory, database_url: str
) -> None:
    clock = MovableClock(datetime(2024, 10, 1, 14, 0, tzinfo=UTC))
    hub = await make_hub(clock=clock, database_url=database_url)
    tenant = await hub.tenant()
    status, agreement = await hub.request(
        "PUT", f"/api/admin/tenants/{tenant['id']}/agreement", token=ADMIN_TOKEN, json=AGREEMENT
    )
    assert 200 == status, agreement
    admin = await hub.agent(tenant, languages=["es"], role="admin", max_chats=5)
    agent_peer = await hub.agent_peer(admin)
    old = await served_chat(hub, tenant, agent_peer, "Ana Vieja", "ana@example.com")
    held = await served_chat(hub, tenant, agent_peer, "Beto Retenido", "beto@example.com")
    status, _ = await hub.request(
        "PUT", f"/api/legal-holds/{held['id']}", token=admin["token"], json={"reason": "Caso 123"}
    )
    assert 200 == status
    status, short = await hub.request(
        "PUT", "/api/retention", token=admin["token"], json={"transcripts_days": 10}
    )
    assert (400, "invalid_payload") == (status, short["error"]["code"])

    clock.at = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    assert clock.at - timedelta(days=800) > datetime(2024, 10, 1, tzinfo=UTC)
    status, before = await hub.request(
        "GET", "/api/reports/sla?month=2024-10", token=admin["token"]
    )
    assert 200 == status, before
    assert 2 == before["eligible"]

    store = hub.app[STORE]
    [run] = await RetentionPurge(store, hub.app[REDIS], clock).run_due()
    assert [] == await RetentionPurge(store, hub.app[REDIS], clock).run_due()  # once a day

    assert {"chats": 1, "visitors": 1} == {k: run.counts[k] for k in ("chats", "visitors")}
    assert run.counts["messages"] >= 2
    status, purges = await hub.request("GET", "/api/purges", token=admin["token"])
    assert run.id == purges["purges"][0]["id"]  # the newest (the hub's own ran at start)
    assert "2024-12-10T12:00:00.000Z" == purges["purges"][0]["cutoffs"]["transcripts"]
    status, provider = await hub.request(
        "GET", f"/api/admin/purges?tenant_id={tenant['id']}", token=ADMIN_TOKEN
    )
    assert run.counts == provider["purges"][0]["counts"]

    status, purged = await hub.request("GET", f"/api/chats/{old['id']}", token=admin["token"])
    assert {"[purged]"} == {m["text"] for m in purged["messages"]}
    assert "name" not in purged["visitor"]
    assert [] == purged["visitor"]["pages"]
    status, kept = await hub.request("GET", f"/api/chats/{held['id']}", token=admin["token"])
    assert "Hola, busco una Tacoma" in [m["text"] for m in kept["messages"]]
    assert "Beto Retenido" == kept["visitor"]["name"]

    status, after = await hub.request("GET", "/api/reports/sla?month=2024-10", token=admin["token"])
    assert before == after
    tenant_record = await store.get_tenant(tenant["id"])
    assert tenant_record is not None
    _version, figures = await compute(store, tenant_record, 2024, 10, clock.now())
    recomputed = figures.to_wire()
    assert {k: before[k] for k in recomputed if k in before} == {
        k: v for k, v in recomputed.items() if k in before
    }
    assert 5.0 == float(after["csat"]["avg"])

    status, audit = await hub.request("GET", "/api/audit", token=admin["token"])
    purge_events = [e for e in audit["events"] if e["action"] == "retention.purged"]
    assert {"system:retention"} == {e["actor"] for e in purge_events}
    assert run.id in [e["target"] for e in purge_events]
    assert "Muy amable" not in json.dumps(audit)


async def test_the_purge_blanks_the_notes_on_old_tickets_and_keeps_who_wrote_them(
    make_hub: HubFactory,
) -> None:
    clock = MovableClock(datetime(2024, 10, 1, 14, 0, tzinfo=UTC))
    hub = await make_hub(clock=clock)
    tenant = await hub.tenant()
    ana = await hub.agent(tenant, languages=["es"], name="Ana")
    token = ana["token"]

    async def noted_ticket(**fields: Any) -> str:
        status, ticket = await hub.request("POST", "/api/tickets", token=token, json=fields)
        assert 201 == status, ticket
        status, noted = await hub.request(
            "PATCH",
            f"/api/tickets/{ticket['id']}",
            token=token,
            json={"note": "Llamé a Luis al 787-555-0199: quiere la Tacoma roja"},
        )
        assert (200, 1) == (status, len(noted["notes"])), noted
        return str(ticket["id"])

    # nobody online: the visitor's chat is a ticket; an agent writes another, with no chat
    offline = await start_chat(
        await hub.visitor_peer(tenant), "Llámenme", name="Luis Pérez", phone="787-555-0199"
    )
    assert "offline" == offline["status"]
    [with_chat] = [
        t["id"]
        for t in (await hub.request("GET", "/api/tickets", token=token))[1]["tickets"]
        if t["chat_id"] == offline["id"]
    ]
    status, _ = await hub.request(
        "PATCH", f"/api/tickets/{with_chat}", token=token, json={"note": "Luis no contestó"}
    )
    assert 200 == status
    chatless = await noted_ticket(text="Llamar a Luis", phone="787-555-0199")

    clock.at = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    recent = await noted_ticket(text="Llamar a Marta", phone="787-555-0123")
    [run] = await RetentionPurge(hub.app[STORE], hub.app[REDIS], clock).run_due()

    assert 2 == run.counts["ticket_notes"]
    for ticket_id in (with_chat, chatless):
        status, body = await hub.request("GET", f"/api/tickets/{ticket_id}", token=token)
        assert 200 == status, body
        assert [("[purged]", "Ana")] == [
            (n["text"], n["author_name"]) for n in body["ticket"]["notes"]
        ]
        assert "[purged]" == body["ticket"]["text"]
    status, kept = await hub.request("GET", f"/api/tickets/{recent}", token=token)
    assert ["Llamé a Luis al 787-555-0199: quiere la Tacoma roja"] == [
        n["text"] for n in kept["ticket"]["notes"]
    ]
