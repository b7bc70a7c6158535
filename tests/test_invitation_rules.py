"""Proactive invitations end to end over the protocol: the tenant admin API for rules (plan,
validation, isolation), invitations shown by the server's evaluation of page views and
time on page, answers, the chat an acceptance opens, CSAT, and conversion statistics."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bots.script import default_script
from console.store.models import ChatRow, InvitationRow, VisitorRow
from console.web.keys import STORE
from tests.support.harness import (
    ADMIN_TOKEN,
    ORIGIN,
    HubFactory,
    LiveHub,
    Peer,
    active_chat,
    engagement,
    start_chat,
)

VEHICLE_URL = f"{ORIGIN}/vehiculos/2024-toyota-tacoma"
RULE: dict[str, Any] = {
    "name": "Vehicle page",
    "text": {"es": "¿Le interesa este vehículo?", "en": "Interested in this vehicle?"},
    "conditions": {"url_pattern": "/vehiculos/*", "min_seconds_on_page": 1},
    "only_when_agents_available": True,
}
LEAD = {"first_name": "Ana", "phone": "787-555-0123", "interest": "buy"}


async def settled(hub: LiveHub) -> None:
    """Every page watcher has decided (invited, or found no rule that could ever hold)."""
    async with asyncio.timeout(15):  # generous: a loaded CI machine is slow, not wrong
        await engagement(hub).idle()
    assert 0 == engagement(hub).watching


async def dealer(
    hub: LiveHub, plan: str = "proactive", **fields: Any
) -> tuple[dict[str, Any], str]:
    """A tenant and the token of its admin."""
    tenant = await hub.tenant(plan=plan, **fields)
    admin = await hub.agent(tenant, languages=["es", "en"], role="admin", max_chats=1)
    return tenant, admin["token"]


async def add_rule(hub: LiveHub, token: str, **changes: Any) -> dict[str, Any]:
    status, rule = await hub.request(
        "POST", "/api/invitation-rules", token=token, json={**RULE, **changes}
    )
    assert 201 == status, rule
    return rule  # type: ignore[no-any-return]


async def visit(hub: LiveHub, tenant: dict[str, Any], url: str, **view: Any) -> Peer:
    visitor = await hub.visitor_peer(tenant)
    ack = await visitor.call("page_view", {"url": url, **view})
    assert {"ok": True} == ack
    return visitor


# -- the admin API ---------------------------------------------------------------------------


async def test_rules_need_the_proactive_plan(hub: LiveHub) -> None:
    _, token = await dealer(hub, plan="basic")
    for method, path in (
        ("POST", "/api/invitation-rules"),
        ("GET", "/api/invitation-rules"),
        ("DELETE", "/api/invitation-rules/x"),
        ("GET", "/api/invitation-rules/x/stats"),
    ):
        status, body = await hub.request(method, path, token=token, json=RULE)
        assert (403, "plan_required") == (status, body["error"]["code"]), (method, path)


async def test_a_tenant_admin_creates_lists_and_deletes_rules(hub: LiveHub) -> None:
    tenant, token = await dealer(hub)
    rule = await add_rule(hub, token)
    assert {
        "tenant_id": tenant["id"],
        "name": "Vehicle page",
        "enabled": True,
        "text": RULE["text"],
        "conditions": RULE["conditions"],
        "only_when_agents_available": True,
    } == {
        k: rule[k]
        for k in (
            "tenant_id",
            "name",
            "enabled",
            "text",
            "conditions",
            "only_when_agents_available",
        )
    }

    status, listed = await hub.request("GET", "/api/invitation-rules", token=token)
    assert (200, [rule]) == (status, listed["rules"])

    status, body = await hub.request("DELETE", f"/api/invitation-rules/{rule['id']}", token=token)
    assert (200, {"ok": True}) == (status, body)
    status, listed = await hub.request("GET", "/api/invitation-rules", token=token)
    assert (200, []) == (status, listed["rules"])
    status, body = await hub.request("DELETE", f"/api/invitation-rules/{rule['id']}", token=token)
    assert (404, "not_found") == (status, body["error"]["code"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"conditions": {"url_patern": "/x"}}, "conditions.url_patern"),
        ({"conditions": {"min_seconds_on_page": -1}}, "conditions.min_seconds_on_page"),
        ({"conditions": {"min_pages_viewed": "2"}}, "conditions.min_pages_viewed"),
        ({"text": {"fr": "Bonjour", "es": "Hola"}}, "text"),
        ({"text": {"en": "Hello"}}, "text"),
        ({"text": {}}, "text"),
        ({"name": ""}, "name"),
    ],
)
async def test_a_bad_rule_is_refused_naming_the_field(
    hub: LiveHub, changes: dict[str, Any], field: str
) -> None:
    _, token = await dealer(hub)
    status, body = await hub.request(
        "POST", "/api/invitation-rules", token=token, json={**RULE, **changes}
    )
    assert (400, "invalid_payload") == (status, body["error"]["code"])
    assert body["error"]["message"].startswith(field), body


async def test_rules_are_the_tenants_own(hub: LiveHub) -> None:
    _, token = await dealer(hub)
    rule = await add_rule(hub, token)
    tenant2, other = await dealer(hub)
    agent = await hub.agent(tenant2, languages=["es"])
    for path in (
        f"/api/invitation-rules/{rule['id']}",
        f"/api/invitation-rules/{rule['id']}/stats",
    ):
        method = "DELETE" if path.endswith(rule["id"]) else "GET"
        status, body = await hub.request(method, path, token=other)
        assert (404, "not_found") == (status, body["error"]["code"])
    status, listed = await hub.request("GET", "/api/invitation-rules", token=other)
    assert (200, []) == (status, listed["rules"])
    status, body = await hub.request("GET", "/api/invitation-rules", token=agent["token"])
    assert (403, "forbidden") == (status, body["error"]["code"])


# -- invitations -----------------------------------------------------------------------------


async def test_the_invited_visitor_accepts_chats_rates_and_the_rule_converts(
    make_hub: HubFactory, database_url: str
) -> None:
    hub = await make_hub(database_url=database_url)
    tenant, token = await dealer(hub)
    rule = await add_rule(hub, token)
    agent = await hub.agent(tenant, languages=["es"], name="María Rivera")
    agent_peer = await hub.agent_peer(agent)

    visitor = await visit(hub, tenant, VEHICLE_URL, language="en-US", referrer="https://google.com")
    invitation = await visitor.wait_for("invitation", timeout_s=4)
    # proactive (not premium): the text is in the visitor's language, the chat in the primary
    assert ("Interested in this vehicle?", "en") == (invitation["text"], invitation["language"])

    ack = await visitor.call(
        "invitation_response", {"invitation_id": invitation["invitation_id"], "accepted": True}
    )
    assert ack["ok"] is True, ack
    chat = ack["chat"]
    assert ("active", "es") == (chat["status"], chat["language"])
    greeting = ack["message"]
    assert ("system", "Interested in this vehicle?", tenant["name"]) == (
        greeting["author"],
        greeting["text"],
        greeting["author_name"],
    )
    assigned = await agent_peer.wait_for("chat_assigned")
    assert [greeting] == assigned["chat"]["messages"]
    joined = await visitor.wait_for("agent_joined")
    assert {"chat_id": chat["id"], "agent": {"name": "María Rivera"}} == joined
    again = await visitor.call(
        "invitation_response", {"invitation_id": invitation["invitation_id"], "accepted": True}
    )
    assert chat["id"] == again["chat"]["id"]

    said = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "Yes, is it available?", "client_msg_id": "c1"}
    )
    assert said["ok"] is True
    saved = await agent_peer.call("save_lead", {"chat_id": chat["id"], "lead": LEAD})
    assert saved["ok"] is True, saved

    rated = await visitor.call("rate", {"chat_id": chat["id"], "score": 4, "comment": "Rápido"})
    assert (True, 4) == (rated["ok"], rated["rating"]["score"])
    assert await agent_peer.call("close_chat", {"chat_id": chat["id"]}) == {"ok": True}
    rated = await visitor.call("rate", {"chat_id": chat["id"], "score": 5})
    assert rated["ok"] is True
    score, comment, rated_at = await hub.app[STORE].engagement.rating(chat["id"])
    assert (5, None) == (score, comment)
    assert rated_at is not None

    async with hub.app[STORE].session() as s:
        row = await s.get(ChatRow, chat["id"])
        assert row is not None
        assert invitation["invitation_id"] == row.invitation_id

    status, stats = await hub.request(
        "GET", f"/api/invitation-rules/{rule['id']}/stats", token=token
    )
    assert 200 == status
    assert {
        "rule_id": rule["id"],
        "shown": 1,
        "accepted": 1,
        "declined": 0,
        "ignored": 0,
        "pending": 0,
        "chats": 1,
        "leads": 1,
        "conversion": {
            "accepted_per_shown": 1.0,
            "chats_per_shown": 1.0,
            "leads_per_shown": 1.0,
            "leads_per_chat": 1.0,
        },
    } == stats


async def test_one_invitation_per_visit_and_none_during_a_chat(hub: LiveHub) -> None:
    tenant, token = await dealer(hub)
    await add_rule(hub, token, conditions={})
    agent_peer = await hub.agent_peer(await hub.agent(tenant, languages=["es"]))
    visitor = await visit(hub, tenant, VEHICLE_URL, language="es-PR")
    first = await visitor.wait_for("invitation")
    assert "¿Le interesa este vehículo?" == first["text"]
    assert {"ok": True} == await visitor.call("page_view", {"url": f"{ORIGIN}/financiamiento"})
    await settled(hub)
    assert 1 == len(visitor.seen("invitation"))

    chatting = await hub.visitor_peer(tenant)
    await start_chat(chatting, "Hola", language="es")
    await agent_peer.wait_for("chat_assigned")
    assert {"ok": True} == await chatting.call("page_view", {"url": VEHICLE_URL})
    await settled(hub)
    assert [] == chatting.seen("invitation")


async def test_no_invitation_on_basic_without_agents_or_off_pattern(hub: LiveHub) -> None:
    tenant, token = await dealer(hub)
    await add_rule(hub, token, conditions={"url_pattern": "/vehiculos/*"})
    nobody = await visit(hub, tenant, VEHICLE_URL)  # no agent online
    await hub.agent_peer(await hub.agent(tenant, languages=["es"]))
    elsewhere = await visit(hub, tenant, f"{ORIGIN}/financiamiento")
    basic, basic_token = await dealer(hub, plan="proactive")
    await add_rule(hub, basic_token, conditions={})
    await hub.agent_peer(await hub.agent(basic, languages=["es"]))
    status, _ = await hub.request(
        "PATCH", f"/api/admin/tenants/{basic['id']}", token=ADMIN_TOKEN, json={"plan": "basic"}
    )
    assert 200 == status
    on_basic = await visit(hub, basic, VEHICLE_URL)
    await settled(hub)
    assert [[], [], []] == [p.seen("invitation") for p in (nobody, elsewhere, on_basic)]


async def test_a_decline_starts_a_cooldown_that_outlasts_the_visit(hub: LiveHub) -> None:
    tenant, token = await dealer(hub)
    rule = await add_rule(hub, token, conditions={})
    await hub.agent_peer(await hub.agent(tenant, languages=["es"]))
    visitor = await visit(hub, tenant, VEHICLE_URL)
    invitation = await visitor.wait_for("invitation")
    ack = await visitor.call(
        "invitation_response", {"invitation_id": invitation["invitation_id"], "accepted": False}
    )
    assert {
        "ok": True,
        "invitation": {"id": invitation["invitation_id"], "status": "declined"},
    } == ack
    ack = await visitor.call(
        "invitation_response", {"invitation_id": invitation["invitation_id"], "accepted": True}
    )
    assert "conflict" == ack["error"]["code"]
    visitor_id = (await visitor.wait_for("session"))["visitor_id"]
    await visitor.close()

    async def new_visit() -> Peer:
        """The visitor comes back after more than half an hour: a new visit."""
        async with hub.app[STORE].session() as s, s.begin():
            await s.execute(
                update(VisitorRow)
                .where(VisitorRow.id == visitor_id)
                .values(last_seen_at=hub.app[STORE].clock.now() - timedelta(minutes=31))
            )
        peer = await hub.visitor_peer(tenant, visitor_id=visitor_id)
        assert {"ok": True} == await peer.call("page_view", {"url": VEHICLE_URL})
        return peer

    back = await new_visit()
    await settled(hub)
    assert [] == back.seen("invitation")  # within the 30 minutes after the decline
    await back.close()

    status, patched = await hub.request(
        "PATCH",
        f"/api/admin/tenants/{tenant['id']}",
        token=ADMIN_TOKEN,
        json={"settings": {"invitation_cooldown_min": 0}},
    )
    assert (200, {"invitation_cooldown_min": 0}) == (status, patched["settings"])
    later = await new_visit()
    await later.wait_for("invitation")
    status, stats = await hub.request(
        "GET", f"/api/invitation-rules/{rule['id']}/stats", token=token
    )
    assert (2, 1, 0, 1) == (stats["shown"], stats["declined"], stats["accepted"], stats["pending"])


async def test_an_unanswered_invitation_counts_as_ignored_once_the_visit_is_over(
    hub: LiveHub,
) -> None:
    tenant, token = await dealer(hub)
    rule = await add_rule(hub, token, conditions={})
    await hub.agent_peer(await hub.agent(tenant, languages=["es"]))
    visitor = await visit(hub, tenant, VEHICLE_URL)
    await visitor.wait_for("invitation")
    async with hub.app[STORE].session() as s, s.begin():
        await s.execute(
            update(InvitationRow).values(
                shown_at=hub.app[STORE].clock.now() - timedelta(minutes=31)
            )
        )
    _, stats = await hub.request("GET", f"/api/invitation-rules/{rule['id']}/stats", token=token)
    assert (1, 1, 0) == (stats["shown"], stats["ignored"], stats["pending"])
    async with hub.app[STORE].session() as s:
        assert ["shown"] == list(await s.scalars(select(InvitationRow.status)))


async def test_answers_and_ratings_are_checked(hub: LiveHub) -> None:
    tenant, token = await dealer(hub)
    await add_rule(hub, token, conditions={})
    await hub.agent_peer(await hub.agent(tenant, languages=["es"]))
    visitor = await visit(hub, tenant, VEHICLE_URL)
    invitation = await visitor.wait_for("invitation")
    stranger = await hub.visitor_peer(tenant)

    ack = await stranger.call(
        "invitation_response", {"invitation_id": invitation["invitation_id"], "accepted": True}
    )
    assert "not_found" == ack["error"]["code"]
    for bad in ({"invitation_id": invitation["invitation_id"]}, {"accepted": True}, [1]):
        ack = await visitor.call("invitation_response", bad)
        assert "invalid_payload" == ack["error"]["code"], bad

    chat = await start_chat(visitor, "Hola", language="es")
    for payload, code in (
        ({"chat_id": chat["id"], "score": 6}, "invalid_payload"),
        ({"chat_id": chat["id"], "score": "5"}, "invalid_payload"),
        ({"chat_id": chat["id"], "score": 5, "comment": "x" * 1001}, "invalid_payload"),
        ({"chat_id": "nope", "score": 5}, "not_found"),
    ):
        ack = await visitor.call("rate", payload)
        assert code == ack["error"]["code"], payload
    ack = await stranger.call("rate", {"chat_id": chat["id"], "score": 5})
    assert "not_found" == ack["error"]["code"]

    ack = await visitor.call(
        "rate", {"chat_id": chat["id"], "score": 1, "comment": "card 4111 1111 1111 1111"}
    )
    assert ack["ok"] is True
    _, comment, _ = await hub.app[STORE].engagement.rating(chat["id"])
    assert comment is not None
    assert "4111 1111 1111 1111" not in comment


async def test_a_queued_chat_cannot_be_rated(hub: LiveHub) -> None:
    tenant, _ = await dealer(hub)
    await active_chat(hub, tenant, "Hola", max_chats=1)
    second = await hub.visitor_peer(tenant)
    queued = await start_chat(second, "Hola", language="es")
    assert "queued" == queued["status"]
    ack = await second.call("rate", {"chat_id": queued["id"], "score": 3})
    assert "conflict" == ack["error"]["code"]


async def test_a_rule_is_changed_and_disabled_without_losing_its_statistics(
    hub: LiveHub,
) -> None:
    tenant, token = await dealer(hub)
    rule = await add_rule(hub, token, conditions={"url_pattern": "/nowhere"})
    await hub.agent_peer(await hub.agent(tenant, languages=["es"]))
    path = f"/api/invitation-rules/{rule['id']}"
    status, changed = await hub.request(
        "PATCH", path, token=token, json={"conditions": {}, "text": {"es": "¡Hola!"}}
    )
    assert (200, {}, {"es": "¡Hola!"}) == (status, changed["conditions"], changed["text"])
    visitor = await visit(hub, tenant, VEHICLE_URL, language="en")
    shown = await visitor.wait_for("invitation")
    assert ("¡Hola!", "es") == (shown["text"], shown["language"])  # no English text now

    status, changed = await hub.request("PATCH", path, token=token, json={"enabled": False})
    assert (200, False) == (status, changed["enabled"])
    again = await visit(hub, tenant, VEHICLE_URL)
    await settled(hub)
    assert [] == again.seen("invitation")
    _, stats = await hub.request("GET", f"{path}/stats", token=token)
    assert 1 == stats["shown"]
    for bad in ({"enabled": None}, {"text": {"fr": "Salut"}}, {"conditions": {"x": 1}}):
        status, body = await hub.request("PATCH", path, token=token, json=bad)
        assert (400, "invalid_payload") == (status, body["error"]["code"]), bad
    _, other = await dealer(hub)
    status, body = await hub.request("PATCH", path, token=other, json={"enabled": True})
    assert (404, "not_found") == (status, body["error"]["code"])


async def test_the_time_on_page_timer_stops_on_the_next_page_and_on_disconnect(
    hub: LiveHub,
) -> None:
    tenant, token = await dealer(hub)
    rule = await add_rule(hub, token)  # a vehicle page for 1 s
    await hub.agent_peer(await hub.agent(tenant, languages=["es"]))

    moved_on = await visit(hub, tenant, VEHICLE_URL)
    left = await visit(hub, tenant, VEHICLE_URL)
    assert 2 == engagement(hub).watching  # both wait for their second on the page
    assert {"ok": True} == await moved_on.call("page_view", {"url": f"{ORIGIN}/financiamiento"})
    await left.close()
    await asyncio.sleep(1.3)  # past the rule's time on page
    await settled(hub)
    assert [[], []] == [moved_on.seen("invitation"), left.seen("invitation")]

    stayed = await visit(hub, tenant, VEHICLE_URL)
    assert "¿Le interesa este vehículo?" == (await stayed.wait_for("invitation"))["text"]
    _, stats = await hub.request("GET", f"/api/invitation-rules/{rule['id']}/stats", token=token)
    assert 1 == stats["shown"]


async def test_a_bot_tenants_invitation_opens_a_chat_with_its_bot(hub: LiveHub) -> None:
    tenant, token = await dealer(hub, bot_enabled=True)
    await add_rule(hub, token)
    agent_peer = await hub.agent_peer(await hub.agent(tenant, languages=["es"]))

    visitor = await visit(hub, tenant, VEHICLE_URL, language="es-PR")
    invitation = await visitor.wait_for("invitation", timeout_s=4)
    ack = await visitor.call(
        "invitation_response", {"invitation_id": invitation["invitation_id"], "accepted": True}
    )
    assert ("bot", "system") == (ack["chat"]["status"], ack["message"]["author"])
    chat_id = ack["chat"]["id"]

    def bot_said() -> list[tuple[str, str]]:
        return [
            (d["message"]["author_name"], d["message"]["text"])
            for d in visitor.seen("message")
            if d["chat_id"] == chat_id and d["message"]["author"] == "bot"
        ]

    # the bot greets at once, as the dealer, before the visitor writes a word
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=2)
    script = default_script()
    dealer_name = tenant["name"]
    assert [
        (dealer_name, script.text("greeting", "es", dealer=dealer_name)),
        (dealer_name, script.text("ask_interest", "es")),
    ] == bot_said()
    said = await visitor.call(
        "message",
        {"chat_id": chat_id, "text": "Sí, me interesa la Tacoma", "client_msg_id": "b1"},
    )
    assert said["ok"] is True, said
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=3)
    assert (dealer_name, script.text("ask_trade_in", "es")) == bot_said()[-1]
    # the invitation's text stays the chat's first message
    _, stored = await hub.request("GET", f"/api/chats/{chat_id}", token=token)
    assert ["system", "bot", "bot", "visitor", "bot"] == [m["author"] for m in stored["messages"]]
    assert [] == agent_peer.seen("chat_assigned")
