"""The data key rotation (`charla rotate-key`'s work) and the provider's incident register."""

from __future__ import annotations

from datetime import UTC, datetime

from console.security.crypto import DataCipher
from console.store.db import make_engine, migrate
from console.store.repository import Store
from console.store.rotation import rotate_all
from tests.support.harness import ADMIN_TOKEN, HubFactory
from tests.support.store import new_chat, new_tenant


async def test_after_rotation_the_new_key_alone_reads_everything(database_url: str) -> None:
    old, new = DataCipher.new_key(), DataCipher.new_key()
    engine = make_engine(database_url)
    await migrate(engine)
    store = Store(engine, DataCipher(old))
    tenant = await new_tenant(store)
    chat = await new_chat(store, tenant, text="Busco una Tacoma")
    await store.update_visitor_contact(
        chat.visitor_id, name="Ana", email=None, phone="+17875550123"
    )
    await store.mfa.start_enrolment("agent-1", "JBSWY3DPEHPK3PXP")
    await store.close()

    both = Store(make_engine(database_url), DataCipher(f"{new},{old}"))
    counts = await rotate_all(both)
    await both.close()
    assert counts["messages"] >= 1
    assert counts["visitors"] == 2
    assert counts["mfa_factors"] == 1

    only_new = Store(make_engine(database_url), DataCipher(new))
    [message] = await only_new.list_messages(chat.id)
    visitor = await only_new.get_visitor(chat.visitor_id)
    factor = await only_new.mfa.factor("agent-1")
    await only_new.close()
    assert "Busco una Tacoma" == message.text
    assert visitor is not None
    assert ("Ana", "+17875550123") == (visitor.name, visitor.phone)
    assert factor is not None
    assert "JBSWY3DPEHPK3PXP" == factor.secret


class Fixed:
    def now(self) -> datetime:
        return datetime(2026, 12, 20, 12, 0, tzinfo=UTC)


async def test_an_incident_shows_its_notices_and_deadlines(make_hub: HubFactory) -> None:
    hub = await make_hub(clock=Fixed())
    tenant = await hub.tenant()
    status, incident = await hub.request(
        "POST",
        "/api/admin/incidents",
        token=ADMIN_TOKEN,
        json={
            "title": "Laptop with an export stolen",
            "discovered_at": "2026-12-05T09:00:00Z",
            "affected": [{"tenant_id": tenant["id"], "visitors": 620}],
        },
    )
    assert 201 == status, incident
    due = {d["notice"]: (d["due_at"], d["overdue"]) for d in incident["deadlines"]}
    assert {
        "daco": ("2026-12-15T09:00:00.000Z", True),
        "visitors": (None, False),
        "ftc": ("2027-01-04T09:00:00.000Z", False),
    } == due

    status, updated = await hub.request(
        "PATCH",
        f"/api/admin/incidents/{incident['id']}",
        token=ADMIN_TOKEN,
        json={"notice": {"to": "daco", "sent_at": "2026-12-14T15:00:00Z"}},
    )
    assert 200 == status, updated
    daco = next(d for d in updated["deadlines"] if d["notice"] == "daco")
    assert (True, False) == (daco["sent"], daco["overdue"])
    status, naive = await hub.request(
        "POST",
        "/api/admin/incidents",
        token=ADMIN_TOKEN,
        json={"title": "x", "discovered_at": "2026-12-05T09:00:00"},
    )
    assert (400, "invalid_payload") == (status, naive["error"]["code"])
    status, small = await hub.request(
        "POST",
        "/api/admin/incidents",
        token=ADMIN_TOKEN,
        json={"title": "y", "discovered_at": "2026-12-19T09:00:00Z", "affected": []},
    )
    assert ([], 201) == (small["deadlines"], status)
