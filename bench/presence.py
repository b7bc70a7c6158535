"""Visitors on site (PROTOCOL 1.2): what agents watching the live list cost the hub.

One real `charla serve` process (its own Redis server, SQLite), a `proactive` tenant with
`--visitors` visitors connected to /visitor, viewing `--visitors / --every` pages a second
in all (`page_view` with its ack, through the real hub: stored, presence record written,
rules checked; each view's visitor drawn at random, so the list's top rows keep changing),
and `--watchers` agents connected to /agent. Phases alternate, side by side:

- **off**: the agents are connected but do not watch (`watch_visitors` false);
- **on**: every agent watches (`watch_visitors` true): once a second the hub builds the
  tenant's snapshot (Redis, and SQL for every visitor on the site: chats, invitations,
  leads, for the supervisor's counts) and sends the diff to the room.

Each phase measures the hub process's CPU time (user + system, psutil) over the page views
acknowledged in it; the report gives each round's ratio (on / off) and their median, and for
the "on" phases the bytes a watcher received per second (`visitors` events, the WebSocket
frames' text as sent) and how many events. The load generator runs in this process, on the
same cores: the hub's CPU is its own process's, whatever the machine's load.

Then, measured in this process (a hub app of its own, idle otherwise), the CPU of one
push's snapshot for 200 and for `--visitors` visitors on the site (presence records in
Redis, their SQL facts read): what a watched tenant costs a process each second, whatever
the number of its watchers.

Run (from the repository root; about 3-4 minutes with the defaults):
    .venv/bin/python -m bench.presence --visitors 2000 --watchers 20 --every 20 \
        --seconds 15 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from aiohttp.test_utils import TestServer

from bench.lean_sio import LeanSocket
from console.app import create_app
from console.engagement.presence import index_key, record_key
from console.settings import Settings
from console.web.keys import SIO
from tests.support import (
    ADMIN_TOKEN,
    ORIGIN,
    PASSWORD,
    HubProcess,
    LiveHub,
    RedisServer,
    migrate,
)

PAGES = ("/", "/inventario", "/vehiculos/2024-toyota-tacoma", "/financiamiento", "/servicio")


class Watcher(LeanSocket):
    """An agent's socket that counts what the live list costs it on the wire."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bytes = 0
        self.events = 0

    def _packet(self, packet: str) -> None:
        if packet.startswith(('2/agent,["visitors"', '2["visitors"')):
            self.bytes += len(packet.encode()) + 1  # the frame: "4" + the packet
            self.events += 1
        super()._packet(packet)


@dataclass
class Phase:
    watching: bool
    views: int
    cpu_s: float
    seconds: float
    watcher_bytes: list[int] = field(default_factory=list)
    watcher_events: list[int] = field(default_factory=list)

    @property
    def cpu_ms_per_view(self) -> float:
        return self.cpu_s * 1000 / max(1, self.views)

    @property
    def bytes_per_s(self) -> float:
        return statistics.mean(self.watcher_bytes) / self.seconds if self.watcher_bytes else 0.0

    @property
    def events_per_s(self) -> float:
        return statistics.mean(self.watcher_events) / self.seconds if self.watcher_events else 0.0


class Bench:
    def __init__(self, workdir: Path) -> None:
        self.redis = RedisServer(workdir / "redis")
        self.database = f"sqlite+aiosqlite:///{workdir / 'charla.sqlite3'}"
        self.hub = HubProcess(workdir / "hub", self.database, "", env={"CHARLA_HEARTBEAT_S": "1"})
        self.workdir = workdir
        self.http: aiohttp.ClientSession | None = None
        self.visitors: list[LeanSocket] = []
        self.watchers: list[Watcher] = []

    async def start(self) -> None:
        self.redis.start()
        self.hub.redis_url = self.redis.url
        await asyncio.to_thread(migrate, self.database, self.workdir / "migrate")
        self.hub.spawn()
        await asyncio.to_thread(self.hub.wait_ready, 60)
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def stop(self) -> None:
        for sock in [*self.visitors, *self.watchers]:
            with contextlib.suppress(Exception):
                await sock.close()
        if self.http is not None:
            await self.http.close()
        self.hub.stop()
        self.redis.kill()

    def cpu_s(self) -> float:
        assert self.hub.process is not None
        times = psutil.Process(self.hub.process.pid).cpu_times()
        return float(times.user + times.system)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        assert self.http is not None
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with self.http.post(self.hub.url + path, json=body, headers=headers) as r:
            assert r.status in (200, 201), await r.text()
            return await r.json()

    async def setup(self, visitors: int, watchers: int) -> None:
        tenant = await self.post(
            "/api/admin/tenants",
            {
                "name": "Autos del Bench",
                "plan": "proactive",
                "languages": ["es", "en"],
                "timezone": "America/Puerto_Rico",
                "allowed_origins": [ORIGIN],
            },
        )
        assert self.http is not None
        for n in range(watchers):
            email = f"watcher{n}@bench.example"
            await self.post(
                f"/api/admin/tenants/{tenant['id']}/agents",
                {"email": email, "name": f"Watcher {n}", "password": PASSWORD,
                 "languages": ["es"], "max_chats": 3},
            )  # fmt: skip
            login = await self.post("/api/login", {"email": email, "password": PASSWORD})
            sock = Watcher(self.http, self.hub.url, "/agent", {"token": login["token"]})
            await sock.connect()
            self.watchers.append(sock)
        made = [
            LeanSocket(
                self.http,
                self.hub.url,
                "/visitor",
                {"site_key": tenant["site_key"]},
                headers={"Origin": ORIGIN},
            )
            for _ in range(visitors)
        ]
        semaphore = asyncio.Semaphore(50)

        async def connect(sock: LeanSocket) -> None:
            async with semaphore:
                await sock.connect(timeout_s=60)
                await view(sock, 0)  # on the site from now on

        await asyncio.gather(*(connect(s) for s in made))
        self.visitors = made

    async def watch(self, on: bool) -> None:
        acks = await asyncio.gather(
            *(w.call("watch_visitors", {"watching": on}) for w in self.watchers)
        )
        assert all(a["ok"] for a in acks), acks[:1]

    async def phase(self, watching: bool, seconds: float, every_s: float) -> Phase:
        await self.watch(watching)
        await asyncio.sleep(1.5)  # the first snapshot (the ack's list) is not the steady state
        for w in self.watchers:
            w.bytes = w.events = 0
        views = 0
        tick = 0.05
        per_tick = len(self.visitors) * tick / every_s
        pending: set[asyncio.Task[Any]] = set()
        chosen = random.Random(7)  # who views next: anyone, as on a real site
        count = itertools.count(1)
        owed = 0.0
        cpu0, t0 = self.cpu_s(), time.perf_counter()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            owed += per_tick
            while owed >= 1:
                owed -= 1
                task = asyncio.create_task(view(chosen.choice(self.visitors), next(count)))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.sleep(tick)
        done = await asyncio.gather(*pending, return_exceptions=True)
        views = next(count) - 1 - sum(1 for d in done if d is not True)
        cpu, elapsed = self.cpu_s() - cpu0, time.perf_counter() - t0
        return Phase(
            watching=watching,
            views=views,
            cpu_s=cpu,
            seconds=elapsed,
            watcher_bytes=[w.bytes for w in self.watchers] if watching else [],
            watcher_events=[w.events for w in self.watchers] if watching else [],
        )


async def view(sock: LeanSocket, n: int) -> bool:
    page = PAGES[n % len(PAGES)]
    ack = await sock.call(
        "page_view", {"url": f"{ORIGIN}{page}?n={n}", "title": f"Página {n % 97}"}, timeout_s=60
    )
    return bool(ack and ack.get("ok"))


async def snapshot_cpu_ms(counts: tuple[int, ...], repeat: int = 5) -> dict[int, float]:
    """The CPU of one snapshot (median of `repeat`), in this process, by visitors on site."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), admin_token=ADMIN_TOKEN, mfa_roles=(), log_level="warning"
        )
        app = create_app(settings)
        server = TestServer(app)
        await server.start_server()
        hub = LiveHub(server=server, app=app, http=aiohttp.ClientSession())
        try:
            tenant = await hub.tenant(plan="proactive")
            onsite = app[SIO].namespace_handlers["/visitor"].engagement.onsite
            found: dict[int, float] = {}
            for count in counts:
                await fake_visitors(onsite.redis, tenant["id"], count, onsite.ctx.now_ms())
                costs = []
                for _ in range(repeat):
                    started = time.process_time()
                    snapshot = await onsite.snapshot(tenant["id"])
                    costs.append((time.process_time() - started) * 1000)
                    assert count == snapshot.total
                found[count] = statistics.median(costs)
            return found
        finally:
            await hub.http.close()
            await server.close()


async def fake_visitors(redis: Any, tenant_id: str, count: int, now_ms: int) -> None:
    """`count` presence records as page views write them (arrived in the last 10 minutes)."""
    now = time.time()
    async with redis.pipeline(transaction=False) as pipe:
        for n in range(count):
            arrived = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - n % 600))
            record = {
                "visitor_id": f"v{n:05}",
                "url": f"{ORIGIN}{PAGES[n % len(PAGES)]}",
                "title": f"Página {n % 97}",
                "pages_viewed": n % 9 + 1,
                "arrived_at": f"{arrived}.000Z",
                "returning": n % 3 == 0,
                "language": "es",
            }
            pipe.set(record_key(f"v{n:05}"), json.dumps(record), px=600_000)
            pipe.zadd(index_key(tenant_id), {f"v{n:05}": now_ms + 600_000})
        await pipe.execute()


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=2000)
    parser.add_argument("--watchers", type=int, default=20)
    parser.add_argument("--every", type=float, default=20.0, help="s between a visitor's views")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp))
        await bench.start()
        try:
            started = time.perf_counter()
            await bench.setup(args.visitors, args.watchers)
            print(
                f"{args.visitors} visitors (a page every {args.every:g} s each), "
                f"{args.watchers} agents; set up in {time.perf_counter() - started:.0f} s; "
                f"load {load()}"
            )
            header = (
                f"{'round':>5} {'off ms/view':>12} {'on ms/view':>11} {'ratio':>6} "
                f"{'views/s':>8} {'B/s/watcher':>12} {'events/s':>9} {'load':>8}"
            )
            print(header)
            ratios, costs_off, costs_on, rates, sizes = [], [], [], [], []
            for r in range(1, args.rounds + 1):
                off = await bench.phase(False, args.seconds, args.every)
                on = await bench.phase(True, args.seconds, args.every)
                ratio = on.cpu_ms_per_view / off.cpu_ms_per_view
                ratios.append(ratio)
                costs_off.append(off.cpu_ms_per_view)
                costs_on.append(on.cpu_ms_per_view)
                rates.append(on.views / on.seconds)
                sizes.append(on.bytes_per_s)
                print(
                    f"{r:>5} {off.cpu_ms_per_view:>12.3f} {on.cpu_ms_per_view:>11.3f} "
                    f"{ratio:>6.2f} {on.views / on.seconds:>8.0f} {on.bytes_per_s:>12.0f} "
                    f"{on.events_per_s:>9.2f} {load():>8}"
                )
            print(
                f"median {statistics.median(costs_off):>11.3f} "
                f"{statistics.median(costs_on):>11.3f} {statistics.median(ratios):>6.2f} "
                f"{statistics.median(rates):>8.0f} {statistics.median(sizes):>12.0f}"
            )
        finally:
            await bench.stop()
    costs = await snapshot_cpu_ms((200, args.visitors))
    print("one snapshot (a watched tenant's push), CPU ms, measured in this process:")
    for count, ms in costs.items():
        print(f"{count:>6} visitors on site: {ms:6.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
