"""Who is on the site now and personal invitations (PROTOCOL 1.2), over the protocol on the
real components: the list agents watch and its diffs, across two hub processes sharing one
Redis, a process whose visitors vanish when it stops beating, an agent's invitation with
its refusals, and the accepted chat that goes straight to the inviting agent."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update

from console.engagement.presence import MAX_ROWS, Snapshot, index_key, record_key
from console.store.models import InvitationRow
from console.web.keys import BACKGROUND, EMBEDDED_REDIS, STORE
from tests.support.harness import (
    ORIGIN,
    HubFactory,
    LiveHub,
    Peer,
    engagement,
    eventually,
    start_chat,
)

INVENTORY = f"{ORIGIN}/inventario"
TACOMA = f"{ORIGIN}/vehiculos/2024-toyota-tacoma"


class Watched:
    """What a watching agent's list holds: the ack's rows, then every diff applied."""

    def __init__(self, peer: Peer, ack: dict[str, Any]) -> None:
        assert ack["ok"] is True, ack
        self.peer = peer
        self.rows = {row["visitor_id"]: row for row in ack["visitors"]}
        self.total = ack["total"]
        self.counts = ack["counts"]
        self.applied = 0

    def catch_up(self) -> dict[str, dict[str, Any]]:
        diffs = self.peer.seen("visitors")
        for diff in diffs[self.applied :]:
            for row in diff["changed"]:
                self.rows[row["visitor_id"]] = row
            for gone in diff["left"]:
                self.rows.pop(gone, None)
            self.total = diff["total"]
            self.counts = diff["counts"]
        self.applied = len(diffs)
        return self.rows


async def watch(peer: Peer) -> Watched:
    return Watched(peer, await peer.call("watch_visitors", {"watching": True}))


async def browsing(hub: LiveHub, tenant: dict[str, Any], *urls: str, **view: Any) -> Peer:
    visitor = await hub.visitor_peer(tenant)
    for url in urls:
        assert {"ok": True} == await visitor.call("page_view", {"url": url, **view})
    return visitor


def visitor_id(peer: Peer) -> str:
    return str(peer.seen("session")[0]["visitor_id"])


async def test_basic_tenants_get_plan_required(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="basic")
    agent = await hub.agent(tenant, languages=["es"])
    peer = await hub.agent_peer(agent)
    visitor = await browsing(hub, tenant, INVENTORY)
    for event, data in (
        ("watch_visitors", {"watching": True}),
        ("invite", {"visitor_id": visitor_id(visitor)}),
    ):
        ack = await peer.call(event, data)
        assert "plan_required" == ack["error"]["code"], (event, ack)
    assert {"ok": True} == await peer.call("watch_visitors", {"watching": False})
    assert "invalid_payload" == (await peer.call("watch_visitors", {}))["error"]["code"]


async def test_the_list_shows_who_browses_and_follows_them_live(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="proactive")
    agent = await hub.agent(tenant, languages=["es"])
    peer = await hub.agent_peer(agent)
    one = await browsing(
        hub,
        tenant,
        INVENTORY,
        TACOMA,
        title="Tacoma 2024",
        referrer="https://www.google.com/",
        language="en-US",
    )
    two = await browsing(hub, tenant, INVENTORY)
    watched = await watch(peer)
    assert 2 == watched.total
    # most pages first
    assert [visitor_id(one), visitor_id(two)] == list(watched.rows)
    row = watched.rows[visitor_id(one)]
    assert {
        "visitor_id": visitor_id(one),
        "url": TACOMA,
        "title": "Tacoma 2024",
        "referrer": "https://www.google.com/",
        "pages_viewed": 2,
        "returning": False,
        "language": "en",
        "lead": False,
    } == {key: value for key, value in row.items() if key != "arrived_at"}
    arrived = datetime.fromisoformat(row["arrived_at"])
    assert timedelta(0) <= datetime.now(UTC) - arrived < timedelta(seconds=30)

    three = await browsing(hub, tenant, TACOMA)
    assert {"ok": True} == await two.call("page_view", {"url": TACOMA})
    await eventually(lambda: visitor_id(three) in watched.catch_up(), what="a new visitor")
    await eventually(lambda: watched.catch_up()[visitor_id(two)]["pages_viewed"] == 2)
    assert 3 == watched.total
    diffs = peer.seen("visitors")
    # only what changed is sent: the first visitor never again
    assert all(r["visitor_id"] != visitor_id(one) for d in diffs for r in d["changed"])

    await one.close()
    await eventually(lambda: visitor_id(one) not in watched.catch_up(), what="left")
    assert 2 == watched.total
    assert {"ok": True} == await peer.call("watch_visitors", {"watching": False})
    seen = len(peer.seen("visitors"))
    await browsing(hub, tenant, INVENTORY)
    await asyncio.sleep(1.5)
    assert seen == len(peer.seen("visitors"))


async def test_the_diff_is_computed_once_a_second_whatever_the_watchers(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="premium")
    peers = [await hub.agent_peer(await hub.agent(tenant, languages=["es"])) for _ in range(4)]
    onsite = engagement(hub).onsite
    calls = 0
    snapshot = onsite.snapshot

    async def counted(tenant_id: str) -> Snapshot:
        nonlocal calls
        calls += 1
        return await snapshot(tenant_id)

    onsite.snapshot = counted  # type: ignore[method-assign]
    lists = [await watch(p) for p in peers]
    visitor = await browsing(hub, tenant, INVENTORY)
    for watched in lists:
        await eventually(lambda w=watched: visitor_id(visitor) in w.catch_up())  # type: ignore[misc]
    calls = 0
    started = asyncio.get_running_loop().time()
    for n in range(12):
        assert {"ok": True} == await visitor.call("page_view", {"url": f"{INVENTORY}?p={n}"})
        await asyncio.sleep(0.2)
    elapsed = asyncio.get_running_loop().time() - started
    assert calls <= elapsed + 1.5, (calls, elapsed)
    vid = visitor_id(visitor)
    for watched in lists:
        await eventually(lambda w=watched: w.catch_up()[vid]["pages_viewed"] == 13)  # type: ignore[misc]
    events = [len(p.seen("visitors")) for p in peers]
    assert len(set(events)) == 1, events  # every watcher got the same events
    assert events[0] <= elapsed + 3


async def test_at_most_200_rows_most_pages_then_longest_on_site(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="proactive")
    onsite = engagement(hub).onsite
    redis = onsite.redis
    expires = onsite.ctx.now_ms() + 60_000
    base = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    for n in range(MAX_ROWS + 5):
        record: dict[str, Any] = {
            "visitor_id": f"v{n:03}",
            "url": INVENTORY,
            "pages_viewed": n % 4 + 1,
            "arrived_at": (base + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
            "returning": False,
        }
        await redis.set(record_key(f"v{n:03}"), json.dumps(record), px=60_000)
        await redis.zadd(index_key(tenant["id"]), {f"v{n:03}": expires})
    rows, total, _counts = await onsite.snapshot(tenant["id"])
    assert (MAX_ROWS + 5, MAX_ROWS) == (total, len(rows))
    keys = [(-r["pages_viewed"], r["arrived_at"]) for r in rows]
    assert keys == sorted(keys)
    assert ["v003", "v007"] == [r["visitor_id"] for r in rows[:2]]


async def test_the_list_holds_across_processes_and_a_dead_ones_visitors_vanish(
    make_hub: HubFactory, tmp_path: Any
) -> None:
    a = await make_hub(tmp_path / "shared", fanout="redis", heartbeat_s=0.2)
    b = await make_hub(tmp_path / "shared", redis_url=a.app[EMBEDDED_REDIS].url, heartbeat_s=0.2)
    tenant = await a.tenant(plan="proactive")
    agent = await a.agent(tenant, languages=["es"], name="Marisol")
    peer = await b.agent_peer(agent)
    watched = await watch(peer)
    visitor = await browsing(a, tenant, INVENTORY, TACOMA)
    await eventually(lambda: visitor_id(visitor) in watched.catch_up(), what="seen on B")
    ack = await peer.call("invite", {"visitor_id": visitor_id(visitor)})
    assert ack["ok"] is True, ack
    invitation = await visitor.wait_for("invitation")
    assert {"name": "Marisol"} == invitation["agent"]
    await asyncio.sleep(1)  # three heartbeats: still there while A renews the record
    assert visitor_id(visitor) in watched.catch_up()

    for task in a.app[BACKGROUND]:  # A stops beating, as a frozen or killed process would
        task.cancel()
    await eventually(lambda: visitor_id(visitor) not in watched.catch_up(), what="A's visitor gone")
    assert 0 == watched.total


async def test_an_agent_invites_a_visitor_who_accepts_into_a_chat_with_them(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant(plan="proactive")
    first = await hub.agent(tenant, languages=["es"], name="Primero")
    inviter = await hub.agent(tenant, languages=["es"], name="Marisol")
    await hub.agent_peer(first)  # online and free: the queue would give the chat to them
    peer = await hub.agent_peer(inviter)
    watched = await watch(peer)
    visitor = await browsing(hub, tenant, TACOMA, language="es-PR")
    vid = visitor_id(visitor)

    ack = await peer.call("invite", {"visitor_id": vid, "text": "¿Le interesa la Tacoma?"})
    assert ack["ok"] is True, ack
    invitation = await visitor.wait_for("invitation")
    assert {
        "invitation_id": ack["invitation_id"],
        "text": "¿Le interesa la Tacoma?",
        "language": "es",
        "agent": {"name": "Marisol"},
    } == invitation
    await eventually(
        lambda: (
            watched.catch_up().get(vid, {}).get("invitation")
            == {"id": ack["invitation_id"], "state": "shown", "by": "agent"}
        )
    )
    again = await peer.call("invite", {"visitor_id": vid})
    assert "conflict" == again["error"]["code"], again

    answer = await visitor.call(
        "invitation_response", {"invitation_id": ack["invitation_id"], "accepted": True}
    )
    assert {"ok": True, "invitation": {"id": ack["invitation_id"], "status": "accepted"}} == answer
    chat = await start_chat(visitor, "Sí, ¿tienen en gris?", invitation_id=ack["invitation_id"])
    assert "active" == chat["status"]
    assigned = await peer.wait_for("chat_assigned")
    assert chat["id"] == assigned["chat"]["id"]
    assert {"name": "Marisol"} == (await visitor.wait_for("agent_joined"))["agent"]
    await eventually(
        lambda: watched.catch_up()[vid].get("chat") == {"id": chat["id"], "status": "active"}
    )
    assert "accepted" == watched.rows[vid]["invitation"]["state"]
    busy = await peer.call("invite", {"visitor_id": vid})
    assert "conflict" == busy["error"]["code"]

    # the invitation funnel counts agents' invitations apart from rules'
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    today = datetime.now(ZoneInfo("America/Puerto_Rico")).date().isoformat()
    status, report = await hub.request(
        "GET", f"/api/reports/invitation-rules?from={today}&to={today}", token=admin["token"]
    )
    assert 200 == status, report
    assert [{"by": "agent", "shown": 1, "accepted": 1, "chats": 1, "leads": 0}] == [
        {key: row[key] for key in ("by", "shown", "accepted", "chats", "leads")}
        for row in report["rules"]
    ]


async def test_refusals_and_stale_invitation_ids(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="premium")
    agent = await hub.agent(tenant, languages=["es"], max_chats=1, name="Marisol")
    peer = await hub.agent_peer(agent)
    visitor = await browsing(hub, tenant, INVENTORY)
    vid = visitor_id(visitor)
    store = hub.app[STORE]

    unknown = await peer.call("invite", {"visitor_id": "nobody"})
    assert "not_found" == unknown["error"]["code"]
    quiet = await hub.visitor_peer(tenant)  # connected, but no page_view: not on the list
    assert (
        "not_found"
        == (await peer.call("invite", {"visitor_id": visitor_id(quiet)}))["error"]["code"]
    )
    assert {"ok": True, "status": "away"} == await peer.call("set_status", {"status": "away"})
    away = await peer.call("invite", {"visitor_id": vid})
    assert "conflict" == away["error"]["code"]
    assert "online" in away["error"]["message"]
    await peer.call("set_status", {"status": "online"})

    sent = await peer.call("invite", {"visitor_id": vid})
    assert sent["ok"] is True, sent
    declined = await visitor.call(
        "invitation_response", {"invitation_id": sent["invitation_id"], "accepted": False}
    )
    assert declined["ok"] is True
    async with store.session() as s, s.begin():  # three minutes later
        await s.execute(
            update(InvitationRow)
            .where(InvitationRow.id == sent["invitation_id"])
            .values(shown_at=datetime.now(UTC) - timedelta(minutes=3))
        )
    refused = await peer.call("invite", {"visitor_id": vid})
    assert "conflict" == refused["error"]["code"]
    assert "declined" in refused["error"]["message"]

    # an invitation id that is not this visitor's accepted one: an ordinary start (queue)
    other = await browsing(hub, tenant, INVENTORY)
    chat = await start_chat(other, "Hola", invitation_id=sent["invitation_id"])
    assert chat["status"] in ("active", "queued")
    await peer.wait_for("chat_assigned")
    full = await peer.call("invite", {"visitor_id": vid})  # max_chats 1, now busy
    assert "conflict" == full["error"]["code"]
    assert "slot" in full["error"]["message"]


async def test_the_supervisors_counts_cover_every_visitor_on_the_site_live(
    make_hub: HubFactory, database_url: str
) -> None:
    """The counts (in a chat, invited, with a lead) come from SQL: SQLite and PostgreSQL."""
    hub = await make_hub(database_url=database_url)
    tenant = await hub.tenant(plan="premium")
    boss = await hub.agent(tenant, languages=["es"], role="supervisor", name="Sofía")
    agent = await hub.agent(tenant, languages=["es"], name="Marisol")
    boss_peer = await hub.agent_peer(boss, online=False)
    agent_peer = await hub.agent_peer(agent)
    await browsing(hub, tenant, INVENTORY)  # only browsing
    chatting = await browsing(hub, tenant, TACOMA)
    chat = await start_chat(chatting, "Hola, busco una Tacoma", language="es")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    lead = {"first_name": "Ana", "phone": "787-555-0123", "interest": "buy"}
    saved = await agent_peer.call("save_lead", {"chat_id": chat["id"], "lead": lead})
    assert saved["ok"] is True, saved
    invited = await browsing(hub, tenant, TACOMA)
    ack = await agent_peer.call("invite", {"visitor_id": visitor_id(invited)})
    assert ack["ok"] is True, ack

    watched = await watch(boss_peer)
    assert (3, {"in_chat": 1, "invited": 1, "lead": 1}) == (watched.total, watched.counts)

    # the chat ends: its visitor is still on the site, with a lead, no longer in a chat
    assert {"ok": True} == await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    await eventually(lambda: watched.catch_up() and watched.counts["in_chat"] == 0)
    assert (3, {"in_chat": 0, "invited": 1, "lead": 1}) == (watched.total, watched.counts)
    # the invited visitor leaves
    await invited.close()
    await eventually(lambda: watched.catch_up() is not None and watched.total == 2)
    assert {"in_chat": 0, "invited": 0, "lead": 1} == watched.counts
