"""Finding whom to erase by e-mail or phone (issue 22): through History's keyed hashes, and
the way it was done before, decrypting every visitor of the tenant who has a detail (what
the look-up still does for visitors stored before the hashes existed). Side by side on one
SQLite store, a tenant of N visitors each with a name, an e-mail and a phone.

Run: .venv/bin/python -m bench.erasure_lookup
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete

from console.security.crypto import DataCipher
from console.store.db import make_engine, migrate
from console.store.history_models import ContactKeyRow
from console.store.repository import Store
from tests.support.store import new_tenant

SIZES = (1000, 5000)
ROUNDS = 20


async def seed(store: Store, tenant_id: str, n: int) -> None:
    for i in range(n):
        visitor = await store.visitor_arrives(tenant_id, None)
        await store.update_visitor_contact(
            visitor.id,
            name=f"Cliente {i}",
            email=f"cliente{i}@example.com",
            phone=f"+1787{i:07d}",
            tenant_id=tenant_id,
        )


async def timed(store: Store, tenant_id: str, n: int) -> float:
    """Milliseconds a look-up by phone takes (the last visitor's), averaged after one."""
    await store.privacy.find_visitors(tenant_id, phone=f"+1787{n - 1:07d}")
    started = time.perf_counter()
    for _ in range(ROUNDS):
        found = await store.privacy.find_visitors(tenant_id, phone=f"+1787{n - 1:07d}")
        assert len(found) == 1
    return (time.perf_counter() - started) / ROUNDS * 1000


async def main() -> None:
    print(f"{'visitors':>9} {'hashes, ms':>11} {'decrypt all, ms':>16} {'ratio':>7}")
    for n in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
            await migrate(engine)
            store = Store(engine, DataCipher(DataCipher.new_key()))
            tenant = await new_tenant(store)
            await seed(store, tenant.id, n)
            hashed = await timed(store, tenant.id, n)
            # the same visitors as if stored before the hashes existed: the fallback
            await store.write(delete(ContactKeyRow).where(ContactKeyRow.tenant_id == tenant.id))
            decrypted = await timed(store, tenant.id, n)
            print(f"{n:>9} {hashed:>11.2f} {decrypted:>16.2f} {decrypted / hashed:>6.0f}x")
            await store.close()


if __name__ == "__main__":
    asyncio.run(main())
