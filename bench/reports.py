"""The reports on a month of 20,000 chats (issue 20: "any range up to 366 days answers in
under 2 s on a month of 20,000 chats"), over HTTP, on SQLite.

The demo tenant (its agreement, rules, agents and a month of history) plus 20,000 more
chats in November 2026, made by the demo's own history generator (timings, ratings,
invitations and leads); the hub's clock is 2026-12-06. Each report is asked three times and
its median is printed beside the 2 s goal, all in one run: the month's SLA (live), the
chats as JSON and as CSV, CSAT by agent and by day, the invitation funnel, staffing, and
the chats over the longest range allowed (366 days, the same month inside it).

Run: PYTHONPATH=. .venv/bin/python bench/reports.py [chats]  (it uses tests/support)
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import insert

from console.app import create_app
from console.contract.sla import local_midnight
from console.demo import DEMO_AGENTS, DEMO_PASSWORD, ensure_demo
from console.demo_history import _History
from console.domain.clock import ShiftedClock
from console.runtime.logs import configure_logging
from console.security.passwords import PasswordHasher
from console.settings import Settings
from console.web.keys import PASSWORDS, STORE

GOAL_S = 2.0
NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
MONTH = "from=2026-11-01&to=2026-11-30"
REPORTS = {
    "sla (live month)": "/api/reports/sla?month=2026-11",
    "chats json": f"/api/reports/chats?{MONTH}",
    "chats csv": f"/api/reports/chats?{MONTH}&format=csv",
    "csat by agent": f"/api/reports/csat?{MONTH}&group_by=agent",
    "csat by day": f"/api/reports/csat?{MONTH}&group_by=day",
    "invitation rules": f"/api/reports/invitation-rules?{MONTH}",
    "staffing": f"/api/reports/staffing?{MONTH}",
    "chats json, 366 days": "/api/reports/chats?from=2025-12-01&to=2026-11-30",
}


async def seed(app: web.Application, count: int) -> int:
    """The demo, then `count` more November chats in its open hours; the month's total."""
    store = app[STORE]
    tenant = await ensure_demo(store, app[PASSWORDS], ("http://127.0.0.1",))
    zone = ZoneInfo(tenant.timezone)
    agents = [a for a in await store.list_agents(tenant.id) if a.role != "admin"]
    rules = [rule.id for rule in await store.engagement.list_rules(tenant.id)]
    rng = random.Random(20)
    days = [
        local_midnight(NOW.date().replace(month=11, day=d), zone) + timedelta(hours=9)
        for d in range(1, 31)
        if NOW.date().replace(month=11, day=d).weekday() < 6
    ]
    rows = _History(store, tenant, agents, rules, rng)
    for _ in range(count):
        rows.chat(rng.choice(days) + timedelta(seconds=rng.randint(0, 9 * 3600 - 900)))
    async with store.engine.begin() as conn:
        for table, values in rows.tables():
            for at in range(0, len(values), 2000):
                await conn.execute(insert(table), values[at : at + 2000])
    start = local_midnight(NOW.date().replace(month=11, day=1), zone)
    end = local_midnight(NOW.date().replace(day=1), zone)
    return len(await store.reports.chats(tenant.id, start, end))


async def main(count: int) -> None:
    configure_logging("warning", json=True)
    with tempfile.TemporaryDirectory(prefix="charla-reports-") as tmp:
        settings = Settings(data_dir=Path(tmp), log_level="warning", mfa_roles=())
        passwords = PasswordHasher(time_cost=1, memory_cost=1024)
        app = create_app(settings, passwords=passwords, clock=ShiftedClock(NOW))
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            seeded = time.perf_counter()
            total = await seed(app, count)
            seeded = time.perf_counter() - seeded
            async with aiohttp.ClientSession(str(server.make_url(""))) as http:
                login = {"email": DEMO_AGENTS[2].email, "password": DEMO_PASSWORD}
                async with http.post("/api/login", json=login) as response:
                    token = (await response.json())["token"]
                headers = {"Authorization": f"Bearer {token}"}
                results: dict[str, tuple[float, int]] = {}
                for name, path in REPORTS.items():
                    times = []
                    for _ in range(3):
                        began = time.perf_counter()
                        async with http.get(path, headers=headers) as response:
                            body = await response.read()
                            assert response.status == 200, body[:300]
                        times.append(time.perf_counter() - began)
                    results[name] = (statistics.median(times), len(body))
        finally:
            await server.close()
    print(f"{total} chats in November 2026 (seeded in {seeded:.1f} s); SQLite; median of 3")
    print(f"{'report':<22} {'seconds':>8} {'of 2 s':>7} {'bytes':>10}")
    for name, (seconds, size) in results.items():
        print(f"{name:<22} {seconds:>8.3f} {seconds / GOAL_S:>7.2f} {size:>10}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000))
