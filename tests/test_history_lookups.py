"""History's keyed hashes of contact details: rebuilt by `charla rebuild-lookups` (all
tenants or one) and by `charla rotate-key`, and written for the demo's past visitors."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import unicodedata
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import delete, select

from console import maintenance
from console.demo import DEMO_AGENTS, DEMO_PASSWORD, ensure_demo
from console.domain.types import Tenant
from console.security.crypto import DataCipher
from console.settings import Settings
from console.store import history
from console.store.db import open_store
from console.store.history import KEYS, Search
from console.store.repository import Store
from console.web.keys import PASSWORDS, STORE
from tests.support.harness import HubFactory
from tests.support.store import new_chat, new_tenant

CARMEN = {
    "name": "Carmen Rivera Ortiz",
    "email": "Carmen.Rivera@Isla.example",
    "phone": "+17875550199",
}


async def found(
    store: Store,
    tenant: Tenant,
    *,
    phone: str | None = None,
    email: str | None = None,
    name: str | None = None,
) -> list[str]:
    wanted = Search(tenant_id=tenant.id, phone=phone, email=email, name=name)
    chats, _cursor = await store.history.search(wanted)
    return [chat["id"] for chat in chats]


async def hash_rows(store: Store) -> list[tuple[Any, ...]]:
    rows = await store.read_rows(select(KEYS).order_by(*KEYS.primary_key.columns))
    return [tuple(row) for row in rows]


async def two_dealers_without_hashes(settings: Settings) -> tuple[Tenant, Tenant, str, str]:
    """Carmen chatted with two dealers before the hashes existed: her details are stored
    (encrypted), no hash row is. (dealer a, dealer b, her chat with each)."""
    store = await open_store(settings)
    try:
        a, b = await new_tenant(store, name="Autos A"), await new_tenant(store, name="Autos B")
        chats = []
        for tenant in (a, b):
            chat = await new_chat(store, tenant)
            await store.update_visitor_contact(chat.visitor_id, tenant_id=tenant.id, **CARMEN)
            chats.append(chat.id)
        assert [chats[0]] == await found(store, a, phone=CARMEN["phone"])  # hashed when written
        async with store.engine.begin() as conn:
            await conn.execute(delete(KEYS))
        assert [] == await found(store, a, phone=CARMEN["phone"])
    finally:
        await store.close()
    return a, b, chats[0], chats[1]


async def test_rebuild_lookups_finds_again_whom_the_hashes_missed_one_tenant_or_all(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url, data_key=DataCipher.new_key())
    a, b, chat_a, chat_b = await two_dealers_without_hashes(settings)
    told: list[tuple[int, int]] = []

    done, lines = await maintenance.rebuild_lookups(settings, a.id, lambda *n: told.append(n))
    assert done, lines
    assert ["charla: the History look-up keys of 1 of Autos A's 1 visitors made again "
            "(the others gave no name, phone or e-mail)"] == lines  # fmt: skip
    assert (1, 1) == told[-1]
    store = await open_store(settings)
    try:
        assert [chat_a] == await found(store, a, phone=CARMEN["phone"])
        assert [chat_a] == await found(store, a, email="carmen.rivera@isla.example")
        assert [chat_a] == await found(store, a, name="ortiz CARMEN")
        assert [] == await found(store, b, phone=CARMEN["phone"])  # only the tenant asked for
        events = await store.audit.events(a.id)
        assert "contact_keys.rebuilt" in [e.action for e in events]
    finally:
        await store.close()

    done, lines = await maintenance.rebuild_lookups(settings)
    assert done, lines
    store = await open_store(settings)
    try:
        assert [chat_b] == await found(store, b, phone=CARMEN["phone"])
        first = await hash_rows(store)
    finally:
        await store.close()
    # 2 visitors: a phone, an e-mail and three name words each
    assert 10 == len(first)
    await maintenance.rebuild_lookups(settings)
    store = await open_store(settings)
    try:
        assert first == await hash_rows(store)  # the same rows however often it runs
    finally:
        await store.close()

    done, lines = await maintenance.rebuild_lookups(settings, "no-such-tenant")
    assert not done
    assert "no tenant 'no-such-tenant'" in lines[0]


async def test_after_rotate_key_the_search_finds_them_with_the_new_key_alone(
    database_url: str, tmp_path: Path
) -> None:
    old, new = DataCipher.new_key(), DataCipher.new_key()
    before = Settings(data_dir=tmp_path, database_url=database_url, data_key=old)
    store = await open_store(before)
    try:
        tenant = await new_tenant(store)
        chat = await new_chat(store, tenant)
        await store.update_visitor_contact(chat.visitor_id, tenant_id=tenant.id, **CARMEN)
        old_hashes = await hash_rows(store)
    finally:
        await store.close()

    lines = await maintenance.rotate_keys(before.with_(data_key=f"{new},{old}"))
    assert "charla: the History look-up keys of 1 visitors made again" in lines, lines

    store = await open_store(before.with_(data_key=new))
    try:
        assert [chat.id] == await found(store, tenant, phone=CARMEN["phone"])
        assert [chat.id] == await found(store, tenant, email="carmen.rivera@isla.example")
        assert [chat.id] == await found(store, tenant, name="Rivera")
        new_hashes = await hash_rows(store)
    finally:
        await store.close()
    assert len(old_hashes) == len(new_hashes)
    assert not {row[2] for row in old_hashes} & {row[2] for row in new_hashes}  # re-keyed


async def test_charla_rebuild_lookups_shows_its_progress_and_refuses_an_unknown_tenant(
    tmp_path: Path,
) -> None:
    key = DataCipher.new_key()
    settings = Settings(data_dir=tmp_path, data_key=key)
    a, _b, chat_a, _chat_b = await two_dealers_without_hashes(settings)
    env = {**os.environ, "CHARLA_DATA_DIR": str(tmp_path), "CHARLA_DATA_KEY": key}
    out, err, code = await charla("rebuild-lookups", env=env)
    assert 0 == code, err
    assert ("charla: the History look-up keys of 2 of every tenant's 2 visitors made again "
            "(the others gave no name, phone or e-mail)\n") == out  # fmt: skip
    assert "charla: 2 of 2 visitors\n" == err  # not a terminal: a line a tenth
    store = await open_store(settings)
    try:
        assert [chat_a] == await found(store, a, phone=CARMEN["phone"])
    finally:
        await store.close()

    out, _err, code = await charla("rebuild-lookups", "--tenant", "nope", env=env)
    assert 2 == code
    assert "charla: no tenant 'nope'" in out


async def charla(*args: str, env: dict[str, str]) -> tuple[str, str, int]:
    """`charla <args>` as its own process: (stdout, stderr, exit code)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", *args, env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return out.decode(), err.decode(), process.returncode


def plain(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text)
    return "".join(c for c in bare if not unicodedata.combining(c)).casefold()


async def test_the_demos_past_visitors_are_found_by_phone_email_and_name(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub()
    store = hub.app[STORE]
    await ensure_demo(store, hub.app[PASSWORDS], ("http://127.0.0.1:8080",))
    tokens = {}
    for agent in (DEMO_AGENTS[0], DEMO_AGENTS[2]):  # María, an agent; Luis, the supervisor
        status, login = await hub.request(
            "POST", "/api/login", json={"email": agent.email, "password": DEMO_PASSWORD}
        )
        assert 200 == status, login
        tokens[agent.email] = login["token"]
    luis = tokens[DEMO_AGENTS[2].email]

    status, body = await hub.request("GET", "/api/chats", token=luis)
    assert 200 == status, body
    visitors = [row["visitor"] for row in body["chats"]]
    assert all(v.get("name") for v in visitors), visitors  # a name always
    phones = [v["phone"] for v in visitors if "phone" in v]
    assert len(phones) > len(visitors) // 2, visitors
    # the numbers kept for fiction: a demo shows nobody's real phone
    assert all(re.fullmatch(r"\+1(787|939)55501\d\d", p) for p in phones), phones
    assert all(v["email"].endswith(".example") for v in visitors if "email" in v), visitors

    someone = next(v for v in visitors if "phone" in v and "email" in v)
    typed = f"({someone['phone'][2:5]}) {someone['phone'][5:8]}-{someone['phone'][8:]}"
    by_phone = await search(hub, luis, f"phone={quote(typed)}")
    assert someone["id"] in [row["visitor"]["id"] for row in by_phone]
    assert {someone["phone"]} == {row["visitor"]["phone"] for row in by_phone}
    by_email = await search(hub, luis, f"email={quote(someone['email'].upper())}")
    assert someone["id"] in [row["visitor"]["id"] for row in by_email]
    assert {someone["email"]} == {row["visitor"]["email"] for row in by_email}
    surname = someone["name"].split()[-1]
    by_name = await search(hub, luis, f"name={quote(plain(surname))}")  # without its accents
    assert someone["id"] in [row["visitor"]["id"] for row in by_name]
    assert all(plain(surname) in plain(row["visitor"]["name"]).split() for row in by_name)

    # María finds that phone among her own chats only
    login = await store.get_agent_login(DEMO_AGENTS[0].email)
    assert login is not None
    maria = login[0]
    mine = await search(hub, tokens[DEMO_AGENTS[0].email], f"phone={quote(typed)}")
    assert {maria.id} >= {row.get("agent_id") for row in mine}
    assert {row["id"] for row in mine} <= {row["id"] for row in by_phone}


async def search(hub: Any, token: str, query: str) -> list[dict[str, Any]]:
    status, body = await hub.request("GET", f"/api/chats?{query}", token=token)
    assert 200 == status, body
    assert "next_cursor" not in body, "more than a page: narrow the test's search"
    return list(body["chats"])


async def test_few_or_many_people_of_a_name_their_chats_come_in_the_same_pages(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to FEW_VISITORS people, their chats are read by visitor; beyond, by walking the
    tenant's chats newest first: the same rows either way, page after page, never another
    dealer's."""
    a, b = await new_tenant(store, name="Autos A"), await new_tenant(store, name="Autos B")
    riveras = set()
    for tenant, name in [(a, "Ana Rivera Cruz"), (a, "Luis Rivera"), (a, "José Rivera Cruz"),
                         (a, "Ana Torres"), (b, "Ana Rivera Cruz")]:  # fmt: skip
        for _ in range(2):
            chat = await new_chat(store, tenant)
            await store.update_visitor_contact(
                chat.visitor_id, name=name, email=None, phone=None, tenant_id=tenant.id
            )
            if tenant is a and "Rivera" in name:
                riveras.add(chat.id)
    monkeypatch.setattr(history, "PAGE", 4)

    async def pages(name: str) -> list[list[str]]:
        found: list[list[str]] = []
        cursor = None
        while True:
            wanted = Search(tenant_id=a.id, name=name, cursor=cursor)
            chats, cursor = await store.history.search(wanted)
            found.append([chat["id"] for chat in chats])
            if cursor is None:
                return found

    by_visitor = await pages("rivera")
    assert riveras == {chat for page in by_visitor for chat in page}
    assert [4, 2] == [len(page) for page in by_visitor]
    assert 4 == len({chat for page in await pages("cruz rivera") for chat in page})
    monkeypatch.setattr(history, "FEW_VISITORS", 2)  # 3 Riveras: the walk
    assert by_visitor == await pages("rivera")
    monkeypatch.setattr(history, "FEW_VISITORS", 0)  # 2 Rivera Cruz: the walk too
    assert 4 == len({chat for page in await pages("cruz rivera") for chat in page})
