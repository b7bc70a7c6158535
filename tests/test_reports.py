"""Reports through the hub: real chats on a clock the test moves, and the exact figures the
report endpoints give back (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from console.contract.sla import figures_sha256
from console.demo import DEMO_AGENTS, DEMO_PASSWORD, DEMO_RULES, ensure_demo
from console.web.keys import PASSWORDS, STORE
from tests.support.harness import ADMIN_TOKEN, HubFactory, LiveHub, Peer, start_chat

PR = ZoneInfo("America/Puerto_Rico")
WEEKDAYS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
AGREEMENT: dict[str, Any] = {
    "effective_from": "2026-11-01",
    "answer_s": 30,
    "target_pct": "90.00",
    "max_abandon_pct": "10.00",
    "csat_min": "4.30",
    "csat_min_sample": 20,
    "credits": [
        {"below_pct": "90.00", "credit_pct": "5.00"},
        {"below_pct": "80.00", "credit_pct": "10.00"},
    ],
    "csat_credit_pct": "5.00",
    "cap_pct": "25.00",
    "incentive": {"min_pct": "97.00", "csat_min": "4.70", "bonus_pct": "3.00"},
}


class SteppedClock:
    """Time that stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def set(self, local: str) -> None:
        self.at = datetime.fromisoformat(local).replace(tzinfo=PR).astimezone(UTC)

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


async def say(peer: Peer, chat_id: str, text: str) -> None:
    ack = await peer.call("message", {"chat_id": chat_id, "text": text, "client_msg_id": text})
    assert ack["ok"], ack


async def admin_of(hub: LiveHub, tenant: dict[str, Any]) -> str:
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    return str(admin["token"])


async def test_a_month_of_real_chats_gives_exact_figures_then_freezes(
    make_hub: HubFactory, database_url: str
) -> None:
    clock = SteppedClock(datetime(2026, 11, 17, 13, 59, tzinfo=UTC))
    hub = await make_hub(database_url=database_url, clock=clock)
    tenant = await hub.tenant(plan="basic", languages=["es"], hours=WEEKDAYS, holidays="PR")
    status, version = await hub.request(
        "PUT", f"/api/admin/tenants/{tenant['id']}/agreement", token=ADMIN_TOKEN, json=AGREEMENT
    )
    assert (200, 1) == (status, version["version"]), version
    token = await admin_of(hub, tenant)
    agent = await hub.agent(tenant, languages=["es"], max_chats=1, name="María")
    clock.set("2026-11-17 10:00:00")  # a Tuesday
    floor = await hub.agent_peer(agent)

    async def visitor_chat(text: str) -> tuple[Peer, str]:
        visitor = await hub.visitor_peer(tenant)
        return visitor, (await start_chat(visitor, text, language="es"))["id"]

    async def assigned(chat_id: str) -> None:
        await floor.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat_id)

    async def close(chat_id: str) -> None:
        assert (await floor.call("close_chat", {"chat_id": chat_id}))["ok"]

    # A: answered after 20 s, a hit
    visitor_a, chat_a = await visitor_chat("Hola A")
    await assigned(chat_a)
    clock.advance(20)
    await say(floor, chat_a, "Buenos días A")
    await close(chat_a)
    # B: answered after 45 s, a miss; it keeps María busy
    clock.set("2026-11-17 10:05:00")
    visitor_b, chat_b = await visitor_chat("Hola B")
    await assigned(chat_b)
    visitor_c, chat_c = await visitor_chat("Hola C")  # waits in the queue
    visitor_d, chat_d = await visitor_chat("Hola D")
    clock.advance(10)
    assert (await visitor_d.call("end_chat", {"chat_id": chat_d}))["ok"]  # 10 s: not counted
    clock.advance(30)
    assert (await visitor_c.call("end_chat", {"chat_id": chat_c}))["ok"]  # 40 s: a miss
    clock.advance(5)
    await say(floor, chat_b, "Buenos días B")
    # E: queued Friday 17:59:50, answered Monday 09:00:10: 20 s of coverage, a hit
    clock.set("2026-11-20 17:59:50")
    _visitor_e, chat_e = await visitor_chat("Hola E")
    clock.set("2026-11-23 09:00:00")
    await close(chat_b)
    await assigned(chat_e)
    clock.advance(10)
    await say(floor, chat_e, "Buenos días E")
    clock.advance(60)
    await close(chat_e)
    for visitor, chat_id, score in ((visitor_a, chat_a, 5), (visitor_b, chat_b, 3)):
        assert (await visitor.call("rate", {"chat_id": chat_id, "score": score}))["ok"]

    status, live = await hub.request("GET", "/api/reports/sla?month=2026-11", token=token)
    assert 200 == status, live
    expected = {
        "month": "2026-11",
        "agreement_version": 1,
        "status": "open",
        "eligible": 4,
        "hits": 2,
        "misses": 2,
        "abandoned": 2,
        "not_counted": 1,
        "pending": 0,
        "attainment_pct": "50.00",
        "abandon_pct": "40.00",
        "first_response_s": {"avg": 28.3, "p50": 20.0, "p90": 45.0},
        "csat": {"count": 2, "avg": "4.00"},
        "credit_pct": "10.00",
        "incentive_pct": "0.00",
        "terms": {
            "answer_s": 30,
            "target_pct": "90.00",
            "max_abandon_pct": "10.00",
            "csat_min": "4.30",
        },
    }
    assert expected == live

    status, body = await hub.request(
        "GET", "/api/reports/chats?from=2026-11-17&to=2026-11-23", token=token
    )
    assert 200 == status, body
    rows = {row["id"]: row for row in body["chats"]}
    assert chat_a == body["chats"][0]["id"]  # oldest first (B, C and D started together)
    assert chat_e == body["chats"][4]["id"]
    assert {
        "id": chat_e,
        "language": "es",
        "agent": "María",
        "status": "closed",
        "queued_at": "2026-11-20T17:59:50-04:00",
        "assigned_at": "2026-11-23T09:00:00-04:00",
        "first_response_at": "2026-11-23T09:00:10-04:00",
        "closed_at": "2026-11-23T09:01:10-04:00",
        "wait_s": 226810.0,
        "first_response_s": 20.0,
        "first_response_wall_s": 226820.0,
        "handle_s": 70.0,
        "sla": "hit",
        "csat": None,
        "invitation_rule": None,
        "lead_id": None,
        "close_reason": rows[chat_e]["close_reason"],
    } == rows[chat_e]
    assert {
        chat_a: "hit",
        chat_b: "miss",
        chat_c: "miss",
        chat_d: "not_counted",
        chat_e: "hit",
    } == {chat_id: row["sla"] for chat_id, row in rows.items()}
    async with hub.http.get(
        hub.url + "/api/reports/chats?from=2026-11-17&to=2026-11-23&format=csv",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert "text/csv" == response.content_type
        table = list(csv.DictReader(io.StringIO(await response.text())))
    assert [
        {key: "" if value is None else str(value) for key, value in row.items()}
        for row in body["chats"]
    ] == table
    assert "20.0" == table[4]["first_response_s"]

    status, csat_body = await hub.request(
        "GET", "/api/reports/csat?from=2026-11-01&to=2026-11-30&group_by=agent", token=token
    )
    assert 200 == status, csat_body
    assert [
        {
            "key": agent["id"],
            "label": "María",
            "chats": 3,
            "rated": 2,
            "response_rate_pct": "66.66",
            "avg": "4.00",
            "distribution": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1},
        },
    ] == csat_body["csat"]

    status, staffing = await hub.request(
        "GET", "/api/reports/staffing?from=2026-11-17&to=2026-11-17", token=token
    )
    assert 200 == status, staffing
    assert {
        "hour": "2026-11-17T10:00-04:00",
        "agents_online": 1,
        "agent_minutes": 60.0,
        "chats": 4,
    } == staffing["staffing"][0]
    assert 14 == len(staffing["staffing"])  # 10:00 to 23:00, María online all along

    # December 3rd: November closes, with its fingerprint
    clock.set("2026-12-03 00:00:01")
    status, frozen = await hub.request("POST", "/api/admin/sla/freeze", token=ADMIN_TOKEN)
    assert {"closed": [{"tenant_id": tenant["id"], "month": "2026-11"}]} == frozen
    status, closed = await hub.request("GET", "/api/reports/sla?month=2026-11", token=token)
    figures = {k: v for k, v in expected.items() if k not in ("month", "status", "terms")}
    figures.pop("agreement_version")
    assert {**expected, "status": "closed", "figures_sha256": figures_sha256(figures)} == closed

    # a late change is reported beside the frozen figures, never applied
    await hub.app[STORE].engagement.rate_chat(chat_c, score=1, comment=None)
    status, again = await hub.request("POST", "/api/admin/sla/freeze", token=ADMIN_TOKEN)
    assert {"closed": []} == again
    status, checked = await hub.request("GET", "/api/reports/sla?month=2026-11", token=token)
    discrepancy = checked.pop("discrepancy")
    assert closed == checked
    assert {"count": 3, "avg": "3.00"} == discrepancy["figures"]["csat"]
    assert discrepancy["figures_sha256"] != closed["figures_sha256"]

    # another tenant sees none of it
    other = await hub.tenant(plan="basic", languages=["es"])
    other_token = await admin_of(hub, other)
    status, nothing = await hub.request(
        "GET", "/api/reports/chats?from=2026-11-01&to=2026-11-30", token=other_token
    )
    assert (200, []) == (status, nothing["chats"])
    status, refused = await hub.request("GET", "/api/reports/sla?month=2026-11", token=other_token)
    assert (404, "not_found") == (status, refused["error"]["code"])


async def test_bad_report_and_agreement_input_says_what_to_fix(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="basic", languages=["es"])
    token = await admin_of(hub, tenant)
    plain = await hub.agent(tenant, languages=["es"])
    path = f"/api/admin/tenants/{tenant['id']}/agreement"
    cases = [
        ("/api/reports/sla?month=2026-13", "month: 2026-13 is not a month"),
        ("/api/reports/chats?from=2026-11-30&to=2026-11-01", "from: 2026-11-30 is after to"),
        ("/api/reports/chats?from=2025-01-01&to=2026-11-01", "to: the range spans 670 days"),
        ("/api/reports/chats?from=2026-11-01&to=2026-11-02&format=xml", "format: 'xml'"),
        ("/api/reports/csat?from=2026-11-01&to=2026-11-02&group_by=plan", "group_by: one of"),
    ]
    for url, message in cases:
        status, body = await hub.request("GET", url, token=token)
        assert (400, "invalid_payload") == (status, body["error"]["code"]), url
        assert message in body["error"]["message"], body
    status, body = await hub.request("GET", "/api/reports/sla?month=2026-11", token=plain["token"])
    assert (403, "forbidden") == (status, body["error"]["code"])
    changes: list[tuple[dict[str, Any], str]] = [
        ({"target_pct": 90.0}, "target_pct: write a decimal string"),
        ({"target_pct": "100.01"}, "target_pct: 100.01 is outside (0, 100]"),
        ({"cap_pct": "101.00"}, "cap_pct: 101.00 is outside [0, 100]"),
        (
            {"credits": [{"below_pct": "90.00", "credit_pct": "5.00"}] * 2},
            "credits: the ladder is not monotone",
        ),
        ({"bonus": "1.00"}, "bonus"),
    ]
    for change, message in changes:
        status, body = await hub.request(
            "PUT", path, token=ADMIN_TOKEN, json={**AGREEMENT, **change}
        )
        assert (400, "invalid_payload") == (status, body["error"]["code"]), change
        assert message in body["error"]["message"], body
    status, body = await hub.request(
        "PUT", "/api/admin/tenants/nobody/agreement", token=ADMIN_TOKEN, json=AGREEMENT
    )
    assert (404, "not_found") == (status, body["error"]["code"])
    # two versions; the second one in force from December
    for effective in ("2026-11-01", "2026-12-01"):
        status, body = await hub.request(
            "PUT", path, token=ADMIN_TOKEN, json={**AGREEMENT, "effective_from": effective}
        )
        assert 200 == status, body
    status, listed = await hub.request("GET", path, token=ADMIN_TOKEN)
    assert [(1, "2026-11-01"), (2, "2026-12-01")] == [
        (v["version"], v["effective_from"]) for v in listed["versions"]
    ]
    closure = f"/api/admin/tenants/{tenant['id']}/closures/2026-09-18"
    status, body = await hub.request("PUT", closure, token=ADMIN_TOKEN, json={"reason": "Fiona"})
    assert (200, {"date": "2026-09-18", "reason": "Fiona"}) == (status, body)
    status, body = await hub.request(
        "PUT", closure.replace("09-18", "09-31"), token=ADMIN_TOKEN, json={"reason": "x"}
    )
    assert (400, "date: 2026-09-31 is not a day") == (status, body["error"]["message"])


async def test_the_demo_tenant_has_an_agreement_and_a_month_to_report(
    make_hub: HubFactory,
) -> None:
    clock = SteppedClock(datetime(2026, 12, 6, 15, 0, tzinfo=UTC))
    hub = await make_hub(clock=clock)
    store = hub.app[STORE]
    tenant = await ensure_demo(store, hub.app[PASSWORDS], ("http://127.0.0.1:8080",))
    await ensure_demo(store, hub.app[PASSWORDS], ("http://127.0.0.1:8080",))  # changes nothing
    assert [1] == [v.version for v in await store.agreements.versions(tenant.id)]
    status, login = await hub.request(
        "POST", "/api/login", json={"email": DEMO_AGENTS[3].email, "password": DEMO_PASSWORD}
    )
    assert 200 == status, login
    token = login["token"]
    status, sla = await hub.request("GET", "/api/reports/sla?month=2026-11", token=token)
    assert (200, 1) == (status, sla["agreement_version"]), sla
    # past the 3rd, the hub's own freeze job may already have closed November
    assert sla["status"] in ("open", "closed")
    assert sla["eligible"] > 200
    assert sla["hits"] > sla["misses"] > 0
    assert sla["csat"]["count"] >= 20
    status, rules = await hub.request(
        "GET", "/api/reports/invitation-rules?from=2026-11-01&to=2026-11-30", token=token
    )
    assert [r.name for r in sorted(DEMO_RULES, key=lambda r: r.name)] == [
        r["name"] for r in rules["rules"]
    ]
    for rule in rules["rules"]:
        # every demo invitation was accepted and became a chat; half of those a lead
        assert rule["shown"] == rule["accepted"] == rule["chats"] > rule["leads"] > 0
        assert rule["leads"] == rule["delivered"]
        assert rule["shown"] == sum(day["shown"] for day in rule["by_day"])
    status, chats = await hub.request(
        "GET", "/api/reports/chats?from=2026-11-01&to=2026-11-30", token=token
    )
    from_rules = sum(r["chats"] for r in rules["rules"])
    assert from_rules == sum(1 for c in chats["chats"] if c["invitation_rule"] is not None)
    status, staffing = await hub.request(
        "GET", "/api/reports/staffing?from=2026-11-02&to=2026-11-02", token=token
    )
    assert {"hour": "2026-11-02T09:00-04:00", "agents_online": 3, "agent_minutes": 180.0} == {
        key: staffing["staffing"][0][key] for key in ("hour", "agents_online", "agent_minutes")
    }
    assert 9 == len(staffing["staffing"])
