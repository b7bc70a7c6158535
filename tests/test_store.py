"""The store on both backends: SQLite (embedded default) and a throwaway PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Row, text

from console.domain.types import Agent, Chat, Message, Tenant, Ticket
from console.security.crypto import DataCipher
from console.store.db import alembic_config, migrate
from console.store.messages import SECOND_BATCH
from console.store.repository import Store, StoreConflictError


async def dealer(store: Store) -> Tenant:
    return await store.create_tenant(
        name="Autos",
        plan="premium",
        languages=("es", "en"),
        timezone="America/Puerto_Rico",
        allowed_origins=("https://dealer.example",),
        holidays="PR",
    )


async def new_chat(
    store: Store,
    tenant: Tenant,
    visitor_id: str,
    text: str = "Hola",
    status: str = "queued",
    **extra: Any,
) -> tuple[Chat, Message, Ticket | None]:
    return await store.start_chat(
        tenant_id=tenant.id,
        visitor_id=visitor_id,
        language="es",
        status=status,
        text=text,
        client_msg_id=None,
        **extra,
    )


async def new_agent(store: Store, tenant: Tenant, email: str) -> Agent:
    return await store.create_agent(
        tenant_id=tenant.id,
        email=email,
        name=email.split("@", maxsplit=1)[0],
        password_hash="x",
        languages=["es"],
        max_chats=3,
        role="agent",
    )


async def test_migrations_apply_twice_without_change(store: Store) -> None:
    await migrate(store.engine)
    async with store.engine.connect() as conn:
        version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == version
    assert head is not None
    assert head >= "0002"


async def test_tenant_round_trips_every_field(store: Store) -> None:
    created = await store.create_tenant(
        name="Autos",
        plan="proactive",
        languages=("es", "en"),
        timezone="America/Puerto_Rico",
        allowed_origins=("https://a.example",),
        hours={"mon": [["09:00", "18:00"]]},
        holidays="PR",
        bot_enabled=True,
        overflow_after_s=30,
    )
    assert created == await store.get_tenant(created.id)
    assert created == await store.get_tenant_by_site_key(created.site_key)
    changed = await store.update_tenant(created.id, {"plan": "premium", "languages": ["en"]})
    assert changed is not None
    assert ("premium", ("en",)) == (changed.plan, changed.languages)


async def test_agent_email_is_unique_across_tenants_whatever_the_case(store: Store) -> None:
    one, two = await dealer(store), await dealer(store)
    await store.create_agent(
        tenant_id=one.id,
        email="Ana@Dealer.example",
        name="Ana",
        password_hash="x",
        languages=["es"],
        max_chats=3,
        role="agent",
    )
    with pytest.raises(StoreConflictError):
        await store.create_agent(
            tenant_id=two.id,
            email="ana@dealer.example",
            name="Ana 2",
            password_hash="x",
            languages=["es"],
            max_chats=3,
            role="agent",
        )


async def test_returning_visitor_is_the_same_visitor_only_within_its_tenant(store: Store) -> None:
    one, two = await dealer(store), await dealer(store)
    visitor = await store.visitor_arrives(one.id, None)
    assert visitor.id == (await store.visitor_arrives(one.id, visitor.id)).id
    assert visitor.id != (await store.visitor_arrives(two.id, visitor.id)).id
    assert visitor.id != (await store.visitor_arrives(one.id, "made-up-id")).id


async def test_message_with_same_client_id_is_stored_once_even_when_racing(store: Store) -> None:
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    chat, _, _ = await new_chat(store, tenant, visitor.id, "Hola", "queued")
    results = await asyncio.gather(
        *[
            store.post_message(chat.id, author="visitor", text="¿Precio?", client_msg_id="c-1")
            for _ in range(8)
        ]
    )
    assert 1 == sum(1 for _, created, _ in results if created)
    assert 1 == len({m.id for m, _, _ in results})
    assert ["Hola", "¿Precio?"] == [m.text for m in await store.list_messages(chat.id)]


async def test_message_ids_sort_in_storage_order_as_strings(store: Store) -> None:
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    chat, first, _ = await new_chat(store, tenant, visitor.id, "m0", "queued")
    for n in range(1, 12):
        await store.post_message(chat.id, author="visitor", text=f"m{n}")
    messages = await store.list_messages(chat.id)
    assert [m.id for m in messages] == sorted(m.id for m in messages)
    after = await store.list_messages(chat.id, after=int(messages[9].id))
    assert ["m10", "m11"] == [m.text for m in after]
    assert first.id == messages[0].id


async def test_only_one_of_two_racing_assignments_wins(store: Store) -> None:
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    agents = [await new_agent(store, tenant, f"a{n}@d.example") for n in range(2)]
    chat, _, _ = await new_chat(store, tenant, visitor.id, "Hola", "queued")
    results = await asyncio.gather(
        *[store.assign_chat(chat.id, a.id, overflowed=False) for a in agents]
    )
    winners = [r for r in results if r is not None]
    assert 1 == len(winners)
    stored = await store.get_chat(chat.id)
    assert stored is not None
    assert (winners[0].agent_id, "active") == (stored.agent_id, stored.status)


async def test_text_and_contact_details_are_encrypted_at_rest(store: Store) -> None:
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    await store.update_visitor_contact(
        visitor.id, name="Ana Rivera", email="ana@correo.example", phone="+17875550123"
    )
    await new_chat(
        store,
        tenant,
        visitor.id,
        "Busco la Tacoma roja",
        "offline",
        ticket_reason="no_agents",
        contact={"name": "Ana Rivera", "email": "ana@correo.example", "phone": None},
    )
    rows: list[Row[Any]] = []
    async with store.engine.connect() as conn:
        for table in ("visitors", "messages", "tickets"):
            rows += (await conn.execute(text(f"SELECT * FROM {table}"))).all()
    raw = " ".join(str(row) for row in rows)
    assert "no_agents" in raw
    for secret in ("Ana Rivera", "ana@correo.example", "+17875550123", "Tacoma"):
        assert secret not in raw
    stored = await store.get_visitor(visitor.id)
    assert stored is not None
    assert ("Ana Rivera", "ana@correo.example") == (stored.name, stored.email)
    [ticket] = await store.list_tickets(tenant.id)
    assert ("Busco la Tacoma roja", "no_agents") == (ticket.text, ticket.reason)


async def test_rotated_key_still_reads_old_rows(store: Store) -> None:
    old_key = DataCipher.new_key()
    old = Store(store.engine, DataCipher(old_key))
    tenant = await dealer(old)
    visitor = await old.visitor_arrives(tenant.id, None)
    chat, _, _ = await new_chat(old, tenant, visitor.id, "antes de rotar", "queued")
    rotated = Store(store.engine, DataCipher(f"{DataCipher.new_key()},{old_key}"))
    await rotated.post_message(chat.id, author="visitor", text="después de rotar")
    assert ["antes de rotar", "después de rotar"] == [
        m.text for m in await rotated.list_messages(chat.id)
    ]


async def test_requeue_keeps_the_first_queued_time_and_sets_one_for_a_bot_chat(
    store: Store,
) -> None:
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    agent = await new_agent(store, tenant, "q@d.example")
    queued, _, _ = await new_chat(store, tenant, visitor.id, "Hola", "queued")
    await store.assign_chat(queued.id, agent.id, overflowed=False)
    again = await store.requeue_chat(queued.id, language="en", priority=1, from_agent=agent.id)
    assert again is not None
    assert (queued.queued_at, "en", None) == (again.queued_at, again.language, again.agent_id)

    bot, _, _ = await new_chat(store, tenant, visitor.id, "Hola", "bot")
    assert bot.queued_at is None
    handed = await store.requeue_chat(bot.id, language="es", priority=0)
    assert handed is not None
    assert handed.queued_at is not None


async def test_messages_posted_together_share_transactions_and_keep_their_own_outcomes(
    store: Store,
) -> None:
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    chat, _, _ = await new_chat(store, tenant, visitor.id, "Hola", "queued")
    other, _, _ = await new_chat(store, tenant, visitor.id, "Otra", "queued")

    def refuse(seen: Chat | None) -> None:
        assert seen is not None
        raise PermissionError(f"not into {seen.id}")

    batches = store.messages.batches
    posts = [
        store.post_message(chat.id, author="visitor", text=f"m{n}", client_msg_id=f"c{n}")
        for n in range(20)
    ]
    posts.append(store.post_message(other.id, author="visitor", text="no", check=refuse))
    posts.append(store.post_message("no-such-chat", author="visitor", text="nowhere"))
    posts.append(store.post_message(chat.id, author="visitor", text="again", client_msg_id="c3"))
    outcomes = await asyncio.gather(*posts, return_exceptions=True)
    stored = outcomes[:20]
    assert all(isinstance(o, tuple) and o[1] for o in stored)
    assert [o[2].id for o in stored if isinstance(o, tuple) and o[2]] == [chat.id] * 20
    assert isinstance(outcomes[20], PermissionError)
    assert isinstance(outcomes[21], LookupError)
    resent = outcomes[22]
    assert isinstance(resent, tuple)
    assert (False, "m3") == (resent[1], resent[0].text)
    # the first message went alone, the others queued behind it and shared a transaction
    assert store.messages.batches - batches < 5
    messages = await store.list_messages(chat.id)
    assert ["Hola", *[f"m{n}" for n in range(20)]] == [m.text for m in messages]
    assert ["Otra"] == [m.text for m in await store.list_messages(other.id)]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_second_batch_is_written_beside_one_in_flight_on_other_chats_only(
    store: Store,
) -> None:
    """A batch waits on a chat's row (another transaction holds it). Once a quarter of a
    batch waits behind it (the held chat's second message and the others), the others commit
    beside it; the held chat's second message does not go with them, and commits after its
    first, in order."""
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    held, _, _ = await new_chat(store, tenant, visitor.id, "Hola")
    others = [
        (await new_chat(store, tenant, visitor.id, f"c{n}"))[0] for n in range(SECOND_BATCH - 1)
    ]
    async with store.engine.connect() as blocker, blocker.begin():
        await blocker.execute(
            text("SELECT id FROM chats WHERE id = :id FOR UPDATE"), {"id": held.id}
        )
        first = asyncio.ensure_future(
            store.post_message(held.id, author="visitor", text="first", client_msg_id="f")
        )
        await asyncio.sleep(0.2)
        assert not first.done(), "the batch holding it waits for the chat's row"
        second = asyncio.ensure_future(
            store.post_message(held.id, author="visitor", text="second", client_msg_id="s")
        )
        beside = await asyncio.wait_for(
            asyncio.gather(
                *(store.post_message(c.id, author="visitor", text="beside") for c in others)
            ),
            timeout=10,
        )
        assert all(created for _, created, _ in beside)
        await asyncio.sleep(0.2)
        assert not first.done(), "the held chat's first message waits for its row"
        assert not second.done(), "its second message waits for the first's batch"
    (one, _, _), (two, _, _) = await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert one.id < two.id
    messages = await store.list_messages(held.id)
    assert ["Hola", "first", "second"] == [m.text for m in messages]
