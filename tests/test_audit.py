"""The audit log: who did what (never what was written), append-only, a hash chain per
tenant that `charla audit-check` verifies, read by tenant admins and the provider."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from console.cli import main
from console.security.crypto import DataCipher
from console.store.db import make_engine, migrate
from console.store.repository import Store
from tests.support.harness import ADMIN_TOKEN, PASSWORD, LiveHub, active_chat


async def test_the_chain_holds_until_a_row_is_changed_behind_the_hubs_back(store: Store) -> None:
    for n in range(5):
        await store.audit.record("tenant-a", f"agent:{n}", "login.succeeded", f"agent-{n}")
    await store.audit.record(None, "provider:admin_token", "POST /api/admin/tenants")
    await store.audit.record(
        "tenant-a", "agent:1", "PATCH /api/agents/{agent_id}", detail={"text": "hola", "role": "x"}
    )
    assert (7, []) == await store.audit.check()
    [latest, *_] = await store.audit.events("tenant-a", limit=1)
    assert {"role": "x"} == latest.detail  # no "text" ever reaches the log

    with pytest.raises(Exception, match="append-only"):
        async with store.engine.begin() as conn:
            await conn.execute(text("UPDATE audit_events SET actor = 'someone' WHERE seq = 2"))
    with pytest.raises(Exception, match="append-only"):
        async with store.engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))

    async with store.engine.begin() as conn:  # an intruder with the database's owner rights
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            await conn.execute(text("DROP TRIGGER audit_events_no_update"))
        await conn.execute(
            text("UPDATE audit_events SET actor = 'agent:9' WHERE chain = 'tenant-a' AND seq = 2")
        )
    checked, broken = await store.audit.check()
    assert 7 == checked
    assert [("tenant-a", 2, "was changed after it was written")] == [
        (b.chain, b.seq, b.problem) for b in broken
    ]


def test_charla_audit_check_exits_1_on_a_broken_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'charla.sqlite3'}"
    key = DataCipher.new_key()

    async def seed(tamper: bool) -> None:
        engine = make_engine(url)
        await migrate(engine)
        store = Store(engine, DataCipher(key))
        if not tamper:
            await store.audit.record("t1", "agent:1", "login.failed", "a@b.example")
            await store.audit.record("t1", "agent:1", "login.succeeded", "a@b.example")
        else:
            async with engine.begin() as conn:
                await conn.execute(text("DROP TRIGGER audit_events_no_delete"))
                await conn.execute(text("DELETE FROM audit_events WHERE seq = 1"))
        await store.close()

    for name, value in {
        "CHARLA_DATABASE_URL": url,
        "CHARLA_DATA_DIR": str(tmp_path),
        "CHARLA_DATA_KEY": key,
        "CHARLA_LOG_LEVEL": "warning",
    }.items():
        monkeypatch.setenv(name, value)
    asyncio.run(seed(tamper=False))
    assert 0 == main(["audit-check"])
    assert "the audit log is intact" in capsys.readouterr().out
    asyncio.run(seed(tamper=True))
    assert 1 == main(["audit-check"])
    assert "chain t1 breaks at event 1: it event 1 is missing" in capsys.readouterr().out


async def test_logins_and_changes_are_audited_without_what_was_written(hub: LiveHub) -> None:
    tenant, agent, agent_peer, _visitor, chat = await active_chat(hub, text="Mi tarjeta 4111")
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "Secreto de la venta", "client_msg_id": "s"}
    )
    status, _ = await hub.request(
        "POST", "/api/login", json={"email": "nobody@dealer.example", "password": "x"}
    )
    assert 401 == status
    status, changed = await hub.request(
        "PATCH", f"/api/agents/{agent['id']}", token=admin["token"], json={"role": "supervisor"}
    )
    assert 200 == status, changed
    status, _ = await hub.request(
        "POST",
        "/api/webhooks",
        token=admin["token"],
        json={"url": "https://crm.example/hook", "secret": "s" * 20, "events": ["chat.closed"]},
    )
    assert 201 == status

    status, audit = await hub.request("GET", "/api/audit", token=admin["token"])
    assert 200 == status
    events: list[dict[str, Any]] = audit["events"]
    role = next(e for e in events if e["action"] == "PATCH /api/agents/{agent_id}")
    assert (f"agent:{admin['id']}", agent["id"], "supervisor") == (
        role["actor"],
        role["target"],
        role["detail"]["role"],
    )
    hook = next(e for e in events if e["action"] == "POST /api/webhooks")
    assert ["events", "secret", "url"] == hook["detail"]["fields"]
    assert ["chat.closed"] == hook["detail"]["events"]
    logins = [e for e in events if e["action"] == "login.succeeded"]
    assert {agent["id"], admin["id"]} <= {e["target"] for e in logins}
    everything = json.dumps(audit)
    for secret in ("Secreto de la venta", "4111", "s" * 20, PASSWORD):
        assert secret not in everything

    status, provider = await hub.request("GET", "/api/admin/audit", token=ADMIN_TOKEN)
    failed = [e for e in provider["events"] if e["action"] == "login.failed"]
    assert ["nobody@dealer.example"] == [e["target"] for e in failed]
    status, check = await hub.request("GET", "/api/admin/audit/check", token=ADMIN_TOKEN)
    assert (200, True) == (status, check["intact"])

    other = await hub.agent(await hub.tenant(), languages=["es"], role="admin")
    status, theirs = await hub.request("GET", "/api/audit", token=other["token"])
    assert agent["id"] not in json.dumps(theirs)
    status, refused = await hub.request("GET", "/api/audit", token=agent["token"])
    assert (403, "forbidden") == (status, refused["error"]["code"])
    status, bad = await hub.request("GET", "/api/audit?from=yesterday", token=admin["token"])
    assert (400, "invalid_payload") == (status, bad["error"]["code"])
