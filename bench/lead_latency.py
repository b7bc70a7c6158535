"""Lead to CRM latency: from a lead saved (committed with its outbox row) to the Lead record
created in the fake Salesforce (TLS, real bodies), p50 and p99 over 200 leads.

Measured side by side in one run:
- direct: the Salesforce connector called inline, no outbox (the floor: OAuth is cached, so
  this is the query + create + Task round trips over TLS);
- paced: one lead at a time through `ChatLifecycle.save_lead` (console/hub/chats.py) and
  the in-process outbox worker (woken through Redis);
- burst: 200 leads saved at once (the worker's concurrency and the store bound the tail).

Run: PYTHONPATH=. .venv/bin/python bench/lead_latency.py [count]  (it uses tests/support)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from console.app import create_app
from console.domain.leads import LeadIn
from console.domain.types import Chat, Tenant
from console.runtime.logs import configure_logging
from console.settings import Outbox, Settings
from console.web.keys import HUB, STORE
from integrations.base import DeliveryJob
from integrations.salesforce.connector import SalesforceConnector
from tests.support import FakeSalesforce, running_fake_salesforce


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def lead_in(n: int, run: str) -> LeadIn:
    return LeadIn.model_validate(
        {
            "first_name": "Ana",
            "last_name": f"Bench {n}",
            "email": f"ana.{run}.{n}@example.com",
            "interest": "buy",
            "vehicle": {"year": 2022, "make": "Toyota", "model": "Tacoma"},
        }
    )


async def new_chat(app: web.Application, tenant: Tenant) -> Chat:
    store = app[STORE]
    visitor = await store.visitor_arrives(tenant.id, None)
    chat, _, _ = await store.start_chat(
        tenant_id=tenant.id,
        visitor_id=visitor.id,
        language="es",
        status="queued",
        text="Hola, busco una Tacoma",
        client_msg_id=None,
    )
    return chat


async def created(
    fake: FakeSalesforce, emails: set[str], timeout_s: float = 120
) -> dict[str, float]:
    """When the Lead of each e-mail was created (one watcher, not one per lead)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        found = {
            record["Email"]: fake.created_at[record["Id"]]
            for record in fake.records["Lead"].values()
            if record.get("Email") in emails
        }
        if len(found) == len(emails):
            return found
        await asyncio.sleep(0.002)
    raise TimeoutError(f"{len(emails)} leads expected in Salesforce")


async def direct(
    fake: FakeSalesforce,
    tenant: Tenant,
    config: dict[str, str],
    count: int,
    *,
    concurrency: int = 1,
) -> list[float]:
    """The connector alone; with `concurrency`, all leads are submitted at once."""
    connector = SalesforceConnector(allow_private=True)
    gate = asyncio.Semaphore(concurrency)
    run = f"direct{concurrency}"
    submitted = time.perf_counter()

    async def one(n: int) -> float:
        wire = lead_in(n, run).model_dump(mode="json")
        job = DeliveryJob(
            delivery_id=f"{run}-{n}",
            tenant=tenant,
            event="lead.qualified",
            destination="salesforce",
            payload={"lead": {**wire, "id": f"{run}-{n}", "chat_id": f"{run}-{n}"}},
            config=config,
            secret=fake.client_secret,
            attempt=1,
            created_at=datetime.now(UTC),
        )
        async with gate:
            started = time.perf_counter() if concurrency == 1 else submitted
            done = await connector.deliver(job)
        assert done.external_id is not None
        return fake.created_at[done.external_id] - started

    try:
        if concurrency == 1:
            return [await one(n) for n in range(count)]
        return list(await asyncio.gather(*(one(n) for n in range(count))))
    finally:
        await connector.close()


async def paced(
    app: web.Application, fake: FakeSalesforce, tenant: Tenant, count: int
) -> list[float]:
    latencies = []
    for n in range(count):
        chat = await new_chat(app, tenant)
        lead = lead_in(n, "paced")
        await app[HUB].chats.save_lead(tenant, chat, lead, source="bot", agent_id=None)
        saved = time.perf_counter()
        assert lead.email is not None
        latencies.append((await created(fake, {lead.email}))[lead.email] - saved)
    return latencies


async def burst(
    app: web.Application, fake: FakeSalesforce, tenant: Tenant, count: int
) -> list[float]:
    chats = [await new_chat(app, tenant) for _ in range(count)]

    saved: dict[str, float] = {}

    async def one(n: int) -> None:
        lead = lead_in(n, "burst")
        await app[HUB].chats.save_lead(tenant, chats[n], lead, source="bot", agent_id=None)
        assert lead.email is not None
        saved[lead.email] = time.perf_counter()

    await asyncio.gather(*(one(n) for n in range(count)))
    done = await created(fake, set(saved))
    return [done[email] - at for email, at in saved.items()]


async def main(count: int) -> None:
    configure_logging("warning", json=True)
    with tempfile.TemporaryDirectory(prefix="charla-bench-") as tmp:
        async with running_fake_salesforce(Path(tmp) / "tls") as fake:
            settings = Settings(
                data_dir=Path(tmp) / "var",
                log_level="warning",
                outbox=Outbox(allow_private=True),  # the fake listens on 127.0.0.1
            )
            app = create_app(settings)
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                store = app[STORE]
                tenant = await store.create_tenant(
                    name="Bench Motors",
                    plan="premium",
                    languages=("es", "en"),
                    timezone="America/Puerto_Rico",
                    allowed_origins=(),
                )
                config = {
                    "login_url": fake.base_url,
                    "client_id": fake.client_id,
                    "ca_bundle": str(fake.certificates.ca_pem),
                }
                await store.integrations.put(tenant.id, "salesforce", config, fake.client_secret)
                concurrency = settings.outbox.concurrency
                results = {
                    "direct": await direct(fake, tenant, config, count),
                    "paced": await paced(app, fake, tenant, count),
                    f"direct x{concurrency}": await direct(
                        fake, tenant, config, count, concurrency=concurrency
                    ),
                    "burst": await burst(app, fake, tenant, count),
                }
            finally:
                await runner.cleanup()
    print(f"{count} leads each; milliseconds from lead saved to Lead created in Salesforce")
    print(f"{'mode':<10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p50 ratio':>10}")
    floors = {"direct": "direct", "paced": "direct", "burst": f"direct x{concurrency}"}
    for mode, values in results.items():
        p50, p99 = percentile(values, 50), percentile(values, 99)
        floor = statistics.median(results[floors.get(mode, mode)])
        print(
            f"{mode:<10} {p50 * 1000:>8.1f} {p99 * 1000:>8.1f} {max(values) * 1000:>8.1f} "
            f"{p50 / floor:>10.2f}"
        )
    print("p50 ratio: paced against direct, burst against direct x8 (the same fake, one run)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
