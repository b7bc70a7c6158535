"""Live breach warnings through the hub (embedded Redis, SQLite and PostgreSQL, a clock the
test moves): a queued chat warns the tenant's supervisors at 80% of the agreement's answer
target and again when it passes it, once each, counting only coverage seconds (a chat
queued at closing time warns the next open morning); the miss is also a signed
`sla.breached` webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from console.settings import Outbox
from console.supervision.breaches import BreachWatch
from console.web.keys import HUB
from tests.support.harness import ADMIN_TOKEN, HubFactory, eventually, start_chat
from tests.test_reports import AGREEMENT, WEEKDAYS, SteppedClock, say

FAST = Outbox(poll_s=0.2, backoff_s=0.05, backoff_cap_s=0.2, allow_private=True)


async def test_supervisors_hear_a_chat_at_risk_then_its_miss_and_a_webhook_follows(
    make_hub: HubFactory, aiohttp_server: Any, database_url: str
) -> None:
    posted: list[dict[str, Any]] = []

    async def take(request: web.Request) -> web.Response:
        posted.append(json.loads(await request.read()))
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/hooks", take)
    server = await aiohttp_server(receiver)

    clock = SteppedClock(datetime(2026, 11, 17, 13, 59, tzinfo=UTC))
    hub = await make_hub(database_url=database_url, clock=clock, outbox=FAST)
    tenant = await hub.tenant(plan="proactive", languages=["es"], hours=WEEKDAYS, holidays="PR")
    status, _ = await hub.request(
        "PUT", f"/api/admin/tenants/{tenant['id']}/agreement", token=ADMIN_TOKEN, json=AGREEMENT
    )
    assert 200 == status
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    status, _ = await hub.request(
        "POST",
        "/api/webhooks",
        token=admin["token"],
        json={
            "url": str(server.make_url("/hooks")),
            "secret": "webhook-secret-0123456789",
            "events": ["sla.breached"],
        },
    )
    assert 201 == status
    boss = await hub.agent(tenant, languages=["es"], role="supervisor")
    watcher = await hub.agent_peer(boss, online=False)
    agent = await hub.agent(tenant, languages=["es"], max_chats=1)
    clock.set("2026-11-17 10:00:00")  # a Tuesday
    floor = await hub.agent_peer(agent)
    watch = BreachWatch(hub.app[HUB].ctx)

    # María's one seat is taken by a chat she answers at once; the next one waits
    busy = await start_chat(await hub.visitor_peer(tenant), "Hola", language="es")
    await floor.wait_for("chat_assigned", lambda d: d["chat"]["id"] == busy["id"])
    await say(floor, busy["id"], "¡Hola!")
    waiting = await start_chat(await hub.visitor_peer(tenant), "¿Hay alguien?", language="es")

    def warnings(kind: str) -> list[Any]:
        return watcher.seen(
            "sla_warning", lambda w: w["chat_id"] == waiting["id"] and w["kind"] == kind
        )

    clock.advance(23)  # under 80% of 30 s
    await watch.check()
    assert [] == watcher.seen("sla_warning")
    clock.advance(1)  # 24 s: at risk
    await watch.check()
    risk = await watcher.wait_for("sla_warning", lambda w: w["kind"] == "at_risk")
    assert {
        "chat_id": waiting["id"],
        "kind": "at_risk",
        "language": "es",
        "status": "queued",
        "agent_id": None,
        "entered_at": "2026-11-17T14:00:00.000Z",
        "due_at": "2026-11-17T14:00:30.000Z",
        "answer_s": 30,
        "waited_s": 24.0,
    } == risk
    clock.advance(7)  # 31 s: missed
    await watch.check()
    missed = await watcher.wait_for("sla_warning", lambda w: w["kind"] == "breached")
    assert (waiting["id"], 31.0) == (missed["chat_id"], missed["waited_s"])
    await watch.check()  # again, and from another process's watch: nothing new
    await BreachWatch(hub.app[HUB].ctx).check()
    assert (1, 1) == (len(warnings("at_risk")), len(warnings("breached")))
    assert [] == floor.seen("sla_warning")  # supervisors only

    [event] = await eventually(lambda: posted, what="the sla.breached webhook")
    assert ("sla.breached", tenant["id"]) == (event["event"], event["tenant_id"])
    assert {
        "chat": {
            "id": waiting["id"],
            "tenant_id": tenant["id"],
            "language": "es",
            "status": "queued",
            "agent_id": None,
            "entered_at": "2026-11-17T14:00:00.000Z",
            "due_at": "2026-11-17T14:00:30.000Z",
        },
        "answer_s": 30,
        "agreement_version": 1,
    } == event["data"]

    # queued at 17:59:50 on a Friday: 10 s count before closing, the rest on Monday
    assert (await floor.call("close_chat", {"chat_id": busy["id"]}))["ok"]
    await floor.wait_for("chat_assigned", lambda d: d["chat"]["id"] == waiting["id"])
    await say(floor, waiting["id"], "Perdón la espera")  # answered late: no more warnings
    clock.set("2026-11-20 17:59:50")
    late_friday = await start_chat(await hub.visitor_peer(tenant), "Última", language="es")
    clock.set("2026-11-21 12:00:00")  # Saturday: the clock does not run
    await watch.check()
    assert [] == watcher.seen("sla_warning", lambda w: w["chat_id"] == late_friday["id"])
    clock.set("2026-11-23 09:00:14")  # Monday: 10 + 14 = 24 s
    await watch.check()
    monday = await watcher.wait_for("sla_warning", lambda w: w["chat_id"] == late_friday["id"])
    assert ("at_risk", "2026-11-23T13:00:20.000Z") == (monday["kind"], monday["due_at"])
