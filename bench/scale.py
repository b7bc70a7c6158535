"""Load test of real `charla serve` processes, with the ceilings measured in the same run.

For one hub process and for two (sharing a Redis server and a PostgreSQL database, fan-out
through Redis), it starts the hubs, connects agents and visitors with a lean Socket.IO client
(bench/lean_sio.py), and measures:

- hub memory per idle visitor connection (RSS delta of the hub processes / connections);
- visitor->agent latency p50/p99 while every visitor sends a message every 2 s, and the
  hubs' CPU per message at that steady load (most of a hub's day: a message then costs
  several times what it costs at saturation, where batches are full);
- persisted, acknowledged messages/s at saturation (as many visitors as the ceilings have
  connections each send as fast as their acks come back; the hubs run with the visitors'
  rate limit lifted, CHARLA_VISITOR_EVENTS_PER_S, so that the hub is measured, not the
  protocol's 5 events/s per visitor);
- assignment latency p99 (`start_chat` sent -> `chat_assigned` received) at ~100 chats/s;
- the burst: 200 chats started within one second on a tenant whose 10 agents have free
  slots (500), `start_chat` -> `chat_assigned` p50/p99 and how many were left unassigned;
- hub CPU per acknowledged message at saturation (CPU time of every hub process over the
  messages acked), and with several runs its ratio to the one-process Redis run's; the
  same at the same load per hub (`--paced-rate` messages/s for each hub), where one hub is
  not compared in full batches with four in thin ones; beside
  it, per message, the hubs' user and system CPU, how often their event loops slept (found
  nothing to do) and were preempted, and the transactions PostgreSQL and the commands Redis
  ran: what changes when one process becomes four;

and, as ceilings, round trips/s of a raw aiohttp WebSocket echo server and acks/s of a bare
python-socketio server (bench/ceilings.py), with the same number of connections, and the CPU
those servers spend on each: at as many processes as the hubs, a control for what
splitting a load over more processes on the same cores costs servers that share nothing.

Saturation is measured in rounds (`--rounds`): each measures bare python-socketio with as many
processes, then the deployment, so that each ratio is of two measurements taken side by side
rather than minutes apart. The report gives the median of the rounds and their range: on a
machine whose speed drifts by ±10% over minutes, one pair could not tell 0.45 from 0.55.
(Keeping every deployment up at once, to pair two processes with one round by round too,
made a hub's CPU per message 17% higher on 2 cores, 0.188 against 0.161 ms in one run
each: so one deployment runs at a time.)

Run (from the repository root):
    .venv/bin/python -m bench.scale --visitors 1000 --active 1000 --chat-rate 100 --seconds 8

Two processes against one, each server process held to the same share of a core (`--cap`,
bench/cpucap.py: needs root), so that the servers and not the shared cores are measured:
    .venv/bin/python -m bench.scale --runs 1:redis 2:redis --cap 0.35 --visitors 400 \
        --active 400 --chat-rate 30 --seconds 8

What sharing the cores alone costs a hub (`--hogs N`: N processes that only spin, beside
each deployment), for comparing one process among spinners with four on the same cores:
    .venv/bin/python -m bench.scale --runs 1:redis --hogs 3 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import itertools
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from bench.cpucap import CpuCap
from bench.lean_sio import LeanSocket
from console.runtime.gctune import observe_pauses
from tests.support import (
    ADMIN_TOKEN,
    ORIGIN,
    PASSWORD,
    HubProcess,
    PostgresCluster,
    RedisServer,
    free_port,
    migrate,
)

ROOT = Path(__file__).resolve().parent.parent
UNLIMITED = str(10**9)  # events/s and burst per visitor on the bench's hubs
AGENT_MAX_CHATS = 50
BURST_CHATS = 200  # the burst phase: this many chats started within one second,
BURST_AGENTS = 10  # on a tenant with this many agents online (500 free slots)
# Charla's visitors and agents offer permessage-deflate as browsers do (the hub declines it);
# the ceilings' clients offer nothing, so that bare python-socketio, which would accept it,
# is measured at its best.
BROWSER_DEFLATE = 15


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def token(n: int) -> str:
    """Letters only, so that redaction (digit runs) never touches a marker."""
    letters = string.ascii_lowercase
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = letters[r] + out
    return out


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


async def bounded(limit: int, jobs: Iterable[Callable[[], Awaitable[Any]]]) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[Any]]) -> Any:
        async with semaphore:
            return await job()

    return await asyncio.gather(*(run(job) for job in jobs))


# -- ceilings -----------------------------------------------------------------------------


def start_ceiling(kind: str, cap: CpuCap | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.ceilings", kind, str(port)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    if cap is not None:
        cap.limit(process.pid)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "/healthz", timeout=1):
            return process, url
        time.sleep(0.05)
    raise RuntimeError(f"{kind} server did not start")


@dataclass(frozen=True)
class Ceiling:
    """What a ceiling server did: round trips (or acks) a second, and the CPU its processes
    spent on each, in ms: at 1 and at 4 processes, what the cores cost a server that does
    no work across processes at all, beside Charla's hubs in the same round."""

    rate: float
    cpu_ms: float

    @classmethod
    def of(cls, count: int, elapsed_s: float, cpu_s: float) -> Ceiling:
        return cls(count / elapsed_s, cpu_s * 1000 / max(1, count))


def server_cpu_s(processes: list[psutil.Process]) -> float:
    return float(sum(t.user + t.system for t in (p.cpu_times() for p in processes)))


async def window(
    servers: list[psutil.Process], loops: Iterable[Awaitable[None]]
) -> tuple[float, float]:
    """Run the clients' `loops` together: how long they took, and the servers' CPU seconds
    over exactly that window."""
    started, cpu = time.perf_counter(), server_cpu_s(servers)
    await asyncio.gather(*loops)
    return time.perf_counter() - started, server_cpu_s(servers) - cpu


async def echo_rate(
    urls: list[str], connections: int, seconds: float, servers: list[psutil.Process]
) -> Ceiling:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sockets = [
            await http.ws_connect(urls[n % len(urls)].replace("http", "ws") + "/echo")
            for n in range(connections)
        ]
        count = 0
        deadline = time.perf_counter() + seconds

        async def loop(ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                await ws.send_str('42/visitor,1["message",{"text":"hola"}]')
                await ws.receive()
                count += 1

        elapsed, cpu = await window(servers, (loop(ws) for ws in sockets))
        for ws in sockets:
            await ws.close()
    return Ceiling.of(count, elapsed, cpu)


async def bare_rate(
    urls: list[str], connections: int, seconds: float, servers: list[psutil.Process]
) -> Ceiling:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sockets = [
            LeanSocket(http, urls[n % len(urls)], "/visitor", {}) for n in range(connections)
        ]
        await bounded(50, [s.connect for s in sockets])
        count = 0
        deadline = time.perf_counter() + seconds

        async def loop(sock: LeanSocket) -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                await sock.call("message", {"text": "hola"})
                count += 1

        elapsed, cpu = await window(servers, (loop(s) for s in sockets))
        for sock in sockets:
            await sock.close()
    return Ceiling.of(count, elapsed, cpu)


async def ceiling(
    kind: str, processes: int, connections: int, seconds: float, cores: float = 0
) -> Ceiling:
    """The ceiling server `kind` on `processes` processes (each held to `cores` CPU if set)."""
    cap = CpuCap(cores, label="charla-bench-ceiling") if cores else None
    started = [start_ceiling(kind, cap) for _ in range(processes)]
    try:
        urls = [url for _, url in started]
        servers = [psutil.Process(process.pid) for process, _ in started]
        measure = echo_rate if kind == "echo" else bare_rate  # bare and bare-tuned
        return await measure(urls, connections, seconds, servers)
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(10)
        if cap is not None:
            cap.release()


# -- Charla ---------------------------------------------------------------------------------


class GcPauses:
    """The longest garbage collection of this process (the load generator) while open: a
    pause here delays what the bench measures, not the hub."""

    def __init__(self) -> None:
        self.longest_s = 0.0
        self._callback: Callable[[str, Any], None] | None = None

    def _observe(self, _generation: int, seconds: float) -> None:
        self.longest_s = max(self.longest_s, seconds)

    def __enter__(self) -> GcPauses:
        self._callback = observe_pauses(self._observe)
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._callback is not None, "entered first"
        gc.callbacks.remove(self._callback)


@dataclass
class Results:
    processes: int
    fanout: str
    memory_per_visitor_kb: float = 0.0
    realistic_sent: int = 0
    realistic_rate: float = 0.0
    # hub CPU per sent message at that steady load (what a hub spends most of the day), and
    # the same less what the hubs spend with nothing sent (measured just before)
    realistic_cpu_ms: float = 0.0
    realistic_net_cpu_ms: float = 0.0
    latency_p50_ms: float = 0.0
    latency_p99_ms: float = 0.0
    delivered: int = 0
    # one entry per round: Charla at saturation, and bare python-socketio just before it
    saturation_rates: list[float] = field(default_factory=list)
    bare_rates: list[float] = field(default_factory=list)
    # the bare server's CPU per ack in the same rounds, on as many processes (`Ceiling`)
    bare_cpus_ms: list[float] = field(default_factory=list)
    saturation_refused: int = 0
    saturation_p99s_ms: list[float] = field(default_factory=list)
    saturation_cpus_ms: list[float] = field(default_factory=list)  # hub CPU per acked message
    # the same, less what the hubs spend idle over as long (heartbeats, sweeps, timers)
    saturation_net_cpus_ms: list[float] = field(default_factory=list)
    # what a message costs beside its CPU, per acked message at saturation, each round:
    # the hubs' user and system CPU (ms), their voluntary context switches (the event loop
    # found nothing to do and slept) and involuntary ones (preempted), PostgreSQL's
    # transactions and Redis's commands (those its scripts run included)
    saturation_costs: list[Costs] = field(default_factory=list)
    # each round: hub CPU per acked message at the same load per hub (`Charla.paced`), less
    # the hubs' idle CPU, and the messages/s acked then (all hubs)
    paced_cpus_ms: list[float] = field(default_factory=list)
    paced_rates: list[float] = field(default_factory=list)
    assign_rate: float = 0.0
    assign_p50_ms: float = 0.0
    assign_p99_ms: float = 0.0
    assigned: int = 0
    assign_refused: int = 0
    assign_hub_stalls: int = 0  # event-loop lags over 100 ms in the hubs during assignment
    assign_generator_gc_ms: float = 0.0  # the load generator's longest GC pause then
    burst_p50_ms: float = 0.0  # BURST_CHATS started within a second, BURST_AGENTS agents
    burst_p99_ms: float = 0.0
    burst_assigned: int = 0
    burst_unassigned: int = 0  # no chat_assigned though the agents had free slots
    burst_refused: int = 0  # starts answered with an error (their chat may exist still)
    burst_seconds: float = 0.0  # how long sending the starts took
    burst_hub_stalls: int = 0
    burst_cpu_ms: float = 0.0  # the hubs' CPU from the first start to the last assignment
    gc_long_pauses: int = 0  # collections over 100 ms, in every hub, over the whole run
    gc_full_seconds: float = 0.0  # time in full (generation 2) collections, all hubs
    loads: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.processes} {self.fanout}"

    @property
    def saturation_rate(self) -> float:
        return statistics.median(self.saturation_rates)

    @property
    def bare_ratios(self) -> list[float]:
        """Charla's rate over bare python-socketio's, round by round."""
        pairs = zip(self.saturation_rates, self.bare_rates, strict=True)
        return [ours / bare for ours, bare in pairs]


@dataclass(frozen=True)
class Costs:
    user_ms: float = 0.0
    system_ms: float = 0.0
    slept: float = 0.0
    preempted: float = 0.0
    transactions: float = 0.0
    redis_commands: float = 0.0

    def __sub__(self, other: Costs) -> Costs:
        return Costs(*(a - b for a, b in zip(self.values(), other.values(), strict=True)))

    def __truediv__(self, count: float) -> Costs:
        return Costs(*(value / count for value in self.values()))

    def values(self) -> tuple[float, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


class Charla:
    """Hub processes on their own Redis and database, and the clients that load them."""

    def __init__(
        self,
        workdir: Path,
        pg: PostgresCluster,
        processes: int,
        fanout: str = "redis",
        cores: float = 0,
    ) -> None:
        self.workdir = workdir
        self.cap = CpuCap(cores, label=f"charla-bench-{workdir.name}") if cores else None
        self.redis = RedisServer(workdir / "redis")
        self.database = pg.url(pg.create_database(f"bench_{workdir.name}_{os.getpid()}"))
        self.hubs = [
            HubProcess(
                workdir / f"hub{n}",
                self.database,
                self.redis.url,
                env={
                    "CHARLA_LOG_LEVEL": "warning",
                    "CHARLA_HEARTBEAT_S": "1",
                    "CHARLA_FANOUT": fanout,
                    "CHARLA_VISITOR_EVENTS_PER_S": UNLIMITED,
                    "CHARLA_VISITOR_BURST": UNLIMITED,
                    # every bench visitor comes from 127.0.0.1
                    "CHARLA_ADDRESS_CHAT_STARTS_PER_MINUTE": UNLIMITED,
                    # PostgreSQL's 100 connections shared by every hub, as a deployment
                    # sizes them (4 hubs at the default 30 each were refused at a burst)
                    "CHARLA_DB_POOL_SIZE": str(min(30, 80 // processes)),
                },
            )
            for n in range(processes)
        ]
        self.sent_at: dict[str, float] = {}
        self.latencies: list[float] = []
        self.assign_latencies: list[float] = []
        self.sockets: list[LeanSocket] = []
        self.http: aiohttp.ClientSession | None = None
        self.marks = (token(n) for n in itertools.count())
        self.retried: list[str] = []

    async def start(self, timeout_s: float = 60) -> None:
        self.redis.start()
        await asyncio.to_thread(migrate, self.database, self.workdir / "migrate")
        for hub in self.hubs:
            hub.spawn()
            if self.cap is not None and hub.process is not None:
                self.cap.limit(hub.process.pid)
        await asyncio.gather(*(asyncio.to_thread(h.wait_ready, timeout_s) for h in self.hubs))
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def stop(self) -> None:
        keep = os.environ.get("BENCH_KEEP_LOGS")  # a folder to copy the hubs' logs into
        if keep:
            await asyncio.to_thread(self.keep_logs, Path(keep))
        for sock in self.sockets:
            with contextlib.suppress(Exception):
                await sock.close()
        if self.http is not None:
            await self.http.close()
        for hub in self.hubs:
            hub.stop()
        if self.cap is not None:
            self.cap.release()
        self.redis.kill()

    def keep_logs(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for n, hub in enumerate(self.hubs):
            if hub.log.exists():
                (folder / f"{self.workdir.name}-hub{n}.log").write_bytes(hub.log.read_bytes())

    def cpu_s(self) -> float:
        total = 0.0
        for hub in self.hubs:
            if hub.process:
                times = psutil.Process(hub.process.pid).cpu_times()
                total += times.user + times.system
        return total

    async def idle_cpu_per_s(self, seconds: float) -> float:
        """The hubs' CPU seconds a second over the next `seconds` of sending nothing
        (heartbeats, sweeps, timers): taken off a phase's CPU before it is divided by its
        messages."""
        cpu = self.cpu_s()
        await asyncio.sleep(seconds)
        return (self.cpu_s() - cpu) / seconds

    async def costs(self) -> Costs:
        """The counters behind `Costs`, now (totals since the servers started)."""
        user = system = slept = preempted = 0.0
        for hub in self.hubs:
            if hub.process:
                process = psutil.Process(hub.process.pid)
                times, switches = process.cpu_times(), process.num_ctx_switches()
                user, system = user + times.user * 1000, system + times.system * 1000
                slept, preempted = slept + switches.voluntary, preempted + switches.involuntary
        pg = await asyncpg.connect(self.database.replace("postgresql+asyncpg", "postgresql", 1))
        try:
            transactions = await pg.fetchval(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database"
                " WHERE datname = current_database()"
            )
        finally:
            await pg.close()
        redis = aioredis.from_url(self.redis.url)
        try:
            commands = (await redis.info("stats"))["total_commands_processed"]
        finally:
            await redis.aclose()
        return Costs(user, system, slept, preempted, transactions, commands)

    async def metrics(self, name: str) -> list[Any]:
        """The samples of one metric family, from every hub's /metrics."""
        assert self.http is not None
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        samples = []
        for hub in self.hubs:
            async with self.http.get(hub.url + "/metrics", headers=headers) as r:
                text = await r.text()
            for family in text_string_to_metric_families(text):
                if family.name == name:
                    samples.extend(family.samples)
        return samples

    @staticmethod
    def over_100ms(samples: list[Any]) -> int:
        """How many observations of a histogram's samples exceeded 100 ms."""
        count = 0
        for sample in samples:
            if sample.name.endswith("_count"):
                count += int(sample.value)
            elif sample.name.endswith("_bucket") and sample.labels["le"] == "0.1":
                count -= int(sample.value)
        return count

    async def gc_pauses(self, results: Results) -> None:
        """The hubs' garbage-collector pauses over the run, from their /metrics."""
        samples = await self.metrics("charla_gc_pause_seconds")
        results.gc_long_pauses = self.over_100ms(samples)
        results.gc_full_seconds = sum(
            sample.value
            for sample in samples
            if sample.name.endswith("_sum") and sample.labels["generation"] == "2"
        )

    async def loop_stalls(self) -> int:
        """The hubs' event-loop lags over 100 ms so far (probed every 0.25 s)."""
        return self.over_100ms(await self.metrics("charla_event_loop_lag_seconds"))

    def rss(self) -> int:
        return sum(psutil.Process(h.process.pid).memory_info().rss for h in self.hubs if h.process)

    async def post(self, path: str, body: dict[str, Any], token: str = ADMIN_TOKEN) -> Any:
        assert self.http is not None
        headers = {"Authorization": f"Bearer {token}"}
        async with self.http.post(self.hubs[0].url + path, json=body, headers=headers) as r:
            assert r.status in (200, 201), await r.text()
            return await r.json()

    async def tenant(self, name: str) -> dict[str, Any]:
        tenant = await self.post(
            "/api/admin/tenants",
            {
                "name": name,
                "plan": "basic",
                "languages": ["es"],
                "timezone": "America/Puerto_Rico",
                "allowed_origins": [ORIGIN],
            },
        )
        assert self.http is not None
        for hub in self.hubs:  # other processes learn new origins within a heartbeat
            for _ in range(200):
                url = hub.url + "/socket.io/?EIO=4&transport=polling"
                async with self.http.get(url, headers={"Origin": ORIGIN}) as r:
                    if r.status == 200:
                        break
                await asyncio.sleep(0.05)
        return tenant  # type: ignore[no-any-return]

    async def agents(self, tenant: dict[str, Any], count: int, label: str) -> list[LeanSocket]:
        async def one(n: int) -> LeanSocket:
            email = f"{label}{n}@bench.example"
            await self.post(
                f"/api/admin/tenants/{tenant['id']}/agents",
                {
                    "email": email,
                    "name": f"Agent {label}{n}",
                    "password": PASSWORD,
                    "languages": ["es"],
                    "max_chats": AGENT_MAX_CHATS,
                },
            )
            login = await self.post("/api/login", {"email": email, "password": PASSWORD})
            assert self.http is not None
            sock = LeanSocket(
                self.http,
                self.hubs[n % len(self.hubs)].url,
                "/agent",
                {"token": login["token"]},
                on_event=self.on_agent_event,
                compress=BROWSER_DEFLATE,
            )
            await sock.connect()
            ack = await sock.call("set_status", {"status": "online"})
            assert ack["ok"], ack
            self.sockets.append(sock)
            return sock

        return await bounded(4, [functools.partial(one, n) for n in range(count)])

    async def visitors(
        self, tenant: dict[str, Any], count: int, at_once: int = 50
    ) -> list[LeanSocket]:
        assert self.http is not None
        made = [
            LeanSocket(
                self.http,
                self.hubs[n % len(self.hubs)].url,
                "/visitor",
                {"site_key": tenant["site_key"]},
                headers={"Origin": ORIGIN},
                compress=BROWSER_DEFLATE,
            )
            for n in range(count)
        ]
        await bounded(at_once, [s.connect for s in made])
        self.sockets.extend(made)
        return made

    async def start_chats(self, people: list[LeanSocket]) -> dict[LeanSocket, str]:
        chats: dict[LeanSocket, str] = {}

        async def begin(sock: LeanSocket) -> None:
            for _ in range(5):  # a widget retries an `unavailable` start with the same id
                payload = {"text": "Hola", "language": "es", "client_msg_id": f"start-{id(sock)}"}
                ack = await sock.call("start_chat", payload)
                if ack["ok"]:
                    chats[sock] = ack["chat"]["id"]
                    return
                self.retried.append(ack["error"]["code"])
                await asyncio.sleep(0.5)
            raise RuntimeError(f"start_chat kept failing: {ack}")

        await bounded(20, [functools.partial(begin, s) for s in people])
        return chats

    async def realistic(
        self, results: Results, chats: dict[LeanSocket, str], seconds: float, active: int
    ) -> None:
        """`active` visitors each write every 2 s, from a random phase."""
        self.latencies.clear()
        idle_per_s = await self.idle_cpu_per_s(2)
        cpu, begun = self.cpu_s(), time.perf_counter()
        deadline = begun + seconds
        sent = 0

        async def chatty(sock: LeanSocket) -> None:
            nonlocal sent
            await asyncio.sleep(random.uniform(0, 2))
            while time.perf_counter() < deadline:
                ack = await self.message(sock, chats[sock])
                if ack["ok"]:
                    sent += 1
                await asyncio.sleep(2)

        await asyncio.gather(*(chatty(s) for s in list(chats)[:active]))
        busy_s, elapsed = self.cpu_s() - cpu, time.perf_counter() - begun
        results.realistic_cpu_ms = busy_s * 1000 / max(1, sent)
        results.realistic_net_cpu_ms = (busy_s - idle_per_s * elapsed) * 1000 / max(1, sent)
        await asyncio.sleep(0.5)
        results.realistic_sent = sent
        results.realistic_rate = sent / seconds
        results.delivered = len(self.latencies)
        results.latency_p50_ms = pct(self.latencies, 0.5) * 1000
        results.latency_p99_ms = pct(self.latencies, 0.99) * 1000
        results.loads.append(load())

    async def saturation(
        self, results: Results, chats: dict[LeanSocket, str], seconds: float
    ) -> None:
        """Each of `chats` sends as fast as its acks come back; counted after 1 s warm-up."""
        self.latencies.clear()
        self.sent_at.clear()
        acked = refused = 0
        start = time.perf_counter()
        window = (start + 1.0, start + 1.0 + seconds)

        async def flood(sock: LeanSocket) -> None:
            nonlocal acked, refused
            while time.perf_counter() < window[1]:
                ack = await self.message(sock, chats[sock])
                if time.perf_counter() >= window[0]:
                    if ack["ok"]:
                        acked += 1
                    else:
                        refused += 1

        spy = await self.profile("saturation") if os.environ.get("BENCH_PYSPY") else None
        costs = await self.costs()
        cpu = self.cpu_s()
        await asyncio.gather(*(flood(s) for s in chats))
        busy_s = self.cpu_s() - cpu
        results.saturation_costs.append((await self.costs() - costs) / max(1, acked))
        if spy:
            await spy.wait()
        results.saturation_cpus_ms.append(busy_s * 1000 / max(1, acked))
        # what the hubs spend with every connection open and nothing sent, over a window a
        # third as long (scaled up): per process, not per message
        await asyncio.sleep(1)
        idle_s = await self.idle_cpu_per_s((window[1] - start) / 3) * (window[1] - start)
        results.saturation_net_cpus_ms.append((busy_s - idle_s) * 1000 / max(1, acked))
        results.saturation_rates.append(acked / seconds)
        results.saturation_refused += refused
        results.saturation_p99s_ms.append(pct(self.latencies, 0.99) * 1000)
        self.sent_at.clear()

    async def paced(
        self, results: Results, chats: dict[LeanSocket, str], per_hub: float, seconds: float
    ) -> None:
        """The visitors of `chats` send `per_hub` messages a second for each hub between them
        (each visitor at its own even pace, from a random phase), so that every hub does the
        same work whatever their number: what a message costs a hub is then compared at the
        same load per hub, where at saturation one hub's full batches meet four hubs' thin
        ones. Counted after 1 s; the hubs' idle CPU, measured just before, is taken off."""
        idle_per_s = await self.idle_cpu_per_s(1)
        every = len(chats) / (per_hub * len(self.hubs))  # seconds between a visitor's messages
        begun = time.perf_counter()
        window = (begun + 1.0, begun + 1.0 + seconds)
        acked = 0

        async def pace(sock: LeanSocket) -> None:
            nonlocal acked
            at = begun + random.uniform(0, every)
            while at < window[1]:
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                ack = await self.message(sock, chats[sock])
                if at >= window[0] and ack["ok"]:
                    acked += 1
                at += every

        async def busy() -> float:
            await asyncio.sleep(max(0.0, window[0] - time.perf_counter()))
            cpu = self.cpu_s()
            await asyncio.sleep(max(0.0, window[1] - time.perf_counter()))
            return self.cpu_s() - cpu - idle_per_s * seconds

        measuring = asyncio.ensure_future(busy())
        await asyncio.gather(*(pace(s) for s in chats))
        results.paced_cpus_ms.append(await measuring * 1000 / max(1, acked))
        results.paced_rates.append(acked / seconds)

    async def newcomers(
        self, count: int, at_once: int = 50, agents: int = 0, name: str = "Bench Assign"
    ) -> list[LeanSocket]:
        """`count` connected visitors on a tenant of their own, whose online agents (`agents`,
        or as few as have room) have room for a chat from each."""
        other = await self.tenant(name)
        label = "".join(c for c in name.lower() if c.isalpha())
        await self.agents(other, max(agents, -(-count // AGENT_MAX_CHATS)), label)
        return await self.visitors(other, count, at_once)

    async def arrive(self, sock: LeanSocket) -> dict[str, Any]:
        """A visitor's `start_chat`, its text a mark whose `chat_assigned` is timed; the ack."""
        mark = f"a {next(self.marks)}"
        self.sent_at[mark] = time.perf_counter()
        ack: dict[str, Any] = await sock.call("start_chat", {"text": mark, "language": "es"})
        return ack

    def paced_starts(
        self, newcomers: list[LeanSocket], rate: float, refused: list[str]
    ) -> tuple[float, list[asyncio.Future[None]]]:
        """Each newcomer's `start_chat` sent at its own moment, `rate` a second from now (none
        waits for another's ack); the codes of those refused go to `refused`."""
        begun = time.perf_counter()

        async def arrive(n: int, sock: LeanSocket) -> None:
            await asyncio.sleep(max(0.0, begun + n / rate - time.perf_counter()))
            ack = await self.arrive(sock)
            if not ack["ok"]:
                refused.append(ack["error"]["code"])

        return begun, [asyncio.ensure_future(arrive(n, s)) for n, s in enumerate(newcomers)]

    async def assigned(self, count: int, timeout_s: float) -> bool:
        """Wait until `count` assignments have been timed; False if they were not in time."""
        for _ in range(int(timeout_s / 0.05)):
            if len(self.assign_latencies) >= count:
                return True
            await asyncio.sleep(0.05)
        return len(self.assign_latencies) >= count

    async def assignment(self, results: Results, arriving: int, rate: float) -> None:
        """`rate` chats/s start on a tenant of its own whose agents have free slots."""
        newcomers = await self.newcomers(arriving)
        self.assign_latencies.clear()
        refused: list[str] = []
        stalls = await self.loop_stalls()
        begun, sending = self.paced_starts(newcomers, rate, refused)
        with GcPauses() as pauses:
            await asyncio.gather(*sending)
            results.assign_rate = arriving / (time.perf_counter() - begun)
            await self.assigned(arriving, timeout_s=5)
        results.assign_generator_gc_ms = pauses.longest_s * 1000
        results.assign_hub_stalls = await self.loop_stalls() - stalls
        results.assigned = len(self.assign_latencies)
        results.assign_refused = len(refused)
        if refused:
            step(f"start_chat refused: {sorted(set(refused))} x{len(refused)}")
        results.assign_p50_ms = pct(self.assign_latencies, 0.5) * 1000
        results.assign_p99_ms = pct(self.assign_latencies, 0.99) * 1000
        results.loads.append(load())

    async def burst(
        self, results: Results, count: int, agents: int, name: str = "Bench Burst"
    ) -> None:
        """`count` chats started within one second (each visitor's start sent at its own
        moment in that second, none waiting for another's ack) on a tenant whose `agents`
        agents have more free slots than that: none should be left unassigned."""
        newcomers = await self.newcomers(count, agents=agents, name=name)
        await asyncio.sleep(1)  # the agents' and visitors' connections settle
        self.assign_latencies.clear()
        refused: list[str] = []
        stalls = await self.loop_stalls()
        spy = await self.profile(name) if os.environ.get("BENCH_PYSPY") else None
        cpu = self.cpu_s()
        begun, sending = self.paced_starts(newcomers, count, refused)
        await asyncio.sleep(max(0.0, begun + 1.0 - time.perf_counter()))
        results.burst_seconds = time.perf_counter() - begun  # the last start is sent by now
        await asyncio.gather(*sending)
        await self.assigned(count, timeout_s=10)
        results.burst_cpu_ms = (self.cpu_s() - cpu) / count * 1000
        if spy:
            await spy.wait()
        results.burst_hub_stalls = await self.loop_stalls() - stalls
        results.burst_assigned = len(self.assign_latencies)
        results.burst_unassigned = count - results.burst_assigned
        results.burst_refused = len(refused)
        if refused:
            step(f"burst start_chat refused: {sorted(set(refused))} x{len(refused)}")
        results.burst_p50_ms = pct(self.assign_latencies, 0.5) * 1000
        results.burst_p99_ms = pct(self.assign_latencies, 0.99) * 1000
        results.loads.append(load())

    async def profile(self, name: str, seconds: int = 3) -> asyncio.subprocess.Process:
        """py-spy on the first hub for `seconds` (raw stacks in `$BENCH_PYSPY.<name>`): where
        a phase's CPU goes, sampled from its start."""
        assert self.hubs[0].process is not None
        spy = await asyncio.create_subprocess_exec(
            *(str(Path(sys.executable).parent / "py-spy"), "record", "--nonblocking"),
            *("-r", "500", "-p", str(self.hubs[0].process.pid), "-d", str(seconds)),
            *("-f", "raw", "-o", f"{os.environ['BENCH_PYSPY']}.{name}"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(0.5)  # py-spy attached
        return spy

    async def message(self, sock: LeanSocket, chat_id: str) -> dict[str, Any]:
        """A visitor's message, its text a mark whose delivery to the agent is timed; the ack."""
        mark = f"m {next(self.marks)}"
        self.sent_at[mark] = time.perf_counter()
        payload = {"chat_id": chat_id, "text": mark, "client_msg_id": mark}
        ack: dict[str, Any] = await sock.call("message", payload)
        return ack

    def on_agent_event(self, event: str, data: Any) -> None:
        now = time.perf_counter()
        if event == "message":
            sent = self.sent_at.pop(data["message"]["text"], None)
            if sent is not None:
                self.latencies.append(now - sent)
        elif event == "chat_assigned":
            messages = data["chat"]["messages"]
            sent = self.sent_at.pop(messages[0]["text"], None) if messages else None
            if sent is not None:
                self.assign_latencies.append(now - sent)


def step(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text} (load {load()})", file=sys.stderr, flush=True)


async def run_charla(charla: Charla, results: Results, args: Any) -> None:
    """One deployment: connections (memory), realistic load, chat starts (right after it, as
    a hub meets them in service: after three saturation rounds their p99 rose to 74-102 ms,
    docs/performance.md), then the saturation rounds, each beside bare python-socketio."""
    visitors, seconds = args.visitors, args.seconds
    await charla.start()
    step(f"{results.label}: {len(charla.hubs)} hub process(es) up")
    try:
        results.loads.append(load())
        tenant = await charla.tenant("Bench Motors")
        await charla.agents(tenant, -(-visitors // AGENT_MAX_CHATS), "a")
        step(f"{results.label}: agents online")
        await asyncio.sleep(1)
        before = charla.rss()
        people = await charla.visitors(tenant, visitors)
        await asyncio.sleep(1)
        results.memory_per_visitor_kb = (charla.rss() - before) / visitors / 1024
        step(f"{results.label}: {visitors} visitors connected")
        chats = await charla.start_chats(people)
        results.loads.append(load())
        step(f"{results.label}: chats started")
        await charla.realistic(results, chats, seconds, min(args.active, visitors))
        step(f"{results.label}: realistic load measured")
        await charla.assignment(results, min(300, visitors // 2), args.chat_rate)
        step(f"{results.label}: assignment measured")
        await charla.burst(results, BURST_CHATS, BURST_AGENTS)
        step(
            f"{results.label}: burst of {BURST_CHATS}: p50 {results.burst_p50_ms:.0f} ms, "
            f"p99 {results.burst_p99_ms:.0f} ms, unassigned {results.burst_unassigned}, "
            f"hub CPU {results.burst_cpu_ms:.2f} ms a start"
        )
        flooding = dict(itertools.islice(chats.items(), args.connections))
        for _ in range(args.rounds):
            bare = await ceiling("bare", results.processes, args.connections, seconds, args.cap)
            results.bare_rates.append(bare.rate)
            results.bare_cpus_ms.append(bare.cpu_ms)
            await charla.saturation(results, flooding, seconds)
            await charla.paced(results, flooding, args.paced_rate, seconds)
            step(
                f"{results.label}: {results.saturation_rates[-1]:,.0f}/s at saturation, "
                f"bare python-socketio {bare.rate:,.0f}/s: {results.bare_ratios[-1]:.2f}"
            )
        results.loads.append(load())
        await charla.gc_pauses(results)
    except BaseException:
        for hub in charla.hubs:
            tail = hub.log.read_text(errors="replace")[-4000:] if hub.log.exists() else ""
            print(f"--- {hub.log} ---\n{tail}", file=sys.stderr)
        raise
    finally:
        if charla.retried:
            step(f"start_chat retried after: {sorted(set(charla.retried))} x{len(charla.retried)}")
        await charla.stop()


def spread(values: list[float], digits: int = 2) -> str:
    """The median, and the range when there are several values."""
    middle = f"{statistics.median(values):,.{digits}f}"
    if len(values) < 2:
        return middle
    return f"{middle} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def report(runs: list[Results], ceilings: dict[tuple[str, int], Ceiling], args: Any) -> None:
    print()
    print(
        f"visitors={args.visitors} active={args.active} chat-rate={args.chat_rate} "
        f"seconds={args.seconds} connections={args.connections} rounds={args.rounds}"
        + (f" cap={args.cap} CPU per server process" if args.cap else "")
    )
    print("saturation figures: median of the rounds (lowest-highest)")
    width = 24
    print(f"{'':46}" + "".join(f"{r.label:>{width}}" for r in runs))

    def row(label: str, values: Iterable[str]) -> None:
        print(f"{label:46}" + "".join(f"{v:>{width}}" for v in values))

    def ceiling_of(kind: str, r: Results) -> float:
        return ceilings[(kind, r.processes)].rate

    row(
        "raw aiohttp WebSocket echo, round trips/s", (f"{ceiling_of('echo', r):,.0f}" for r in runs)
    )
    row("bare python-socketio, acks/s", (spread(r.bare_rates, 0) for r in runs))
    row(
        "  the same with Charla's serving changes, acks/s",
        (f"{ceiling_of('bare-tuned', r):,.0f}" for r in runs),
    )
    row("Charla persisted+acked messages/s (sat.)", (spread(r.saturation_rates, 0) for r in runs))
    row("  ratio to bare python-socketio, paired", (spread(r.bare_ratios) for r in runs))
    row(
        "  ratio to it with Charla's serving changes",
        (f"{r.saturation_rate / ceiling_of('bare-tuned', r):.2f}" for r in runs),
    )
    row(
        "  ratio to raw echo",
        (f"{r.saturation_rate / ceiling_of('echo', r):.3f}" for r in runs),
    )

    def cpu_of(kind: str, r: Results) -> str:
        """A ceiling's CPU per reply at this run's processes, and its ratio to one process."""
        cpu, alone = ceilings[(kind, r.processes)].cpu_ms, ceilings.get((kind, 1))
        return f"{cpu:.3f}" + (f" ({cpu / alone.cpu_ms:.2f})" if alone else "")

    for kind in ("echo", "bare-tuned"):
        row(f"  {kind}'s server CPU per reply, ms (/ at 1)", (cpu_of(kind, r) for r in runs))
    row("  refused (rate_limited/unavailable)", (str(r.saturation_refused) for r in runs))
    report_cpu(runs, row)
    row("  visitor->agent p99 at saturation, ms", (spread(r.saturation_p99s_ms, 0) for r in runs))
    row("realistic load: messages/s sent", (f"{r.realistic_rate:,.0f}" for r in runs))
    row("  delivered to agents / sent", (f"{r.delivered}/{r.realistic_sent}" for r in runs))
    row("  hub CPU per message, ms", (f"{r.realistic_cpu_ms:.3f}" for r in runs))
    row("  the same less the hubs' idle CPU, ms", (f"{r.realistic_net_cpu_ms:.3f}" for r in runs))
    row("  visitor->agent p50, ms", (f"{r.latency_p50_ms:.1f}" for r in runs))
    row("  visitor->agent p99, ms", (f"{r.latency_p99_ms:.1f}" for r in runs))
    row("assignment: chats/s started", (f"{r.assign_rate:.0f}" for r in runs))
    row("  assigned / refused (unavailable)", (f"{r.assigned} / {r.assign_refused}" for r in runs))
    row("  start_chat->chat_assigned p50, ms", (f"{r.assign_p50_ms:.1f}" for r in runs))
    row("  start_chat->chat_assigned p99, ms", (f"{r.assign_p99_ms:.1f}" for r in runs))
    row("  hub event-loop stalls over 100 ms", (str(r.assign_hub_stalls) for r in runs))
    row(
        f"burst: {BURST_CHATS} starts sent within, s",
        (f"{r.burst_seconds:.2f}" for r in runs),
    )
    row("  start_chat->chat_assigned p50, ms", (f"{r.burst_p50_ms:.1f}" for r in runs))
    row("  start_chat->chat_assigned p99, ms", (f"{r.burst_p99_ms:.1f}" for r in runs))
    row(
        f"  assigned / unassigned / refused ({BURST_AGENTS} agents)",
        (f"{r.burst_assigned} / {r.burst_unassigned} / {r.burst_refused}" for r in runs),
    )
    row("  hub event-loop stalls over 100 ms", (str(r.burst_hub_stalls) for r in runs))
    row(
        "  load generator's longest GC pause, ms",
        (f"{r.assign_generator_gc_ms:.0f}" for r in runs),
    )
    row("hub memory per idle visitor, KB", (f"{r.memory_per_visitor_kb:.1f}" for r in runs))
    row("GC pauses over 100 ms, whole run", (str(r.gc_long_pauses) for r in runs))
    row("  time in full collections, s", (f"{r.gc_full_seconds:.2f}" for r in runs))
    print("load average (1 min/5 min) at each phase's end:")
    for r in runs:
        print(f"  {r.label}: " + ", ".join(r.loads))
    by_label = {r.label: r for r in runs}
    one, two = by_label.get("1 redis"), by_label.get("2 redis")
    if one and two:
        bare = statistics.median(two.bare_rates) / statistics.median(one.bare_rates)
        print(
            "two processes / one (both through Redis), medians of the rounds: "
            f"{two.saturation_rate / one.saturation_rate:.2f} (Charla), "
            f"{bare:.2f} (bare python-socketio), "
            f"{ceilings[('echo', 2)].rate / ceilings[('echo', 1)].rate:.2f} (echo)"
        )


def report_cpu(runs: list[Results], row: Callable[[str, Iterable[str]], None]) -> None:
    """The saturation rounds' CPU per message, its ratio to one process, and what else a
    message cost the servers."""
    row("  hub CPU per acked message, ms", (spread(r.saturation_cpus_ms, 3) for r in runs))
    row(
        "  the same less the hubs' idle CPU, ms",
        (spread(r.saturation_net_cpus_ms, 3) for r in runs),
    )
    base = next((r for r in runs if r.label == "1 redis"), None)

    def to_base(label: str, of: Callable[[Results], list[float]]) -> None:
        """The median of `of` for each run over the one-process Redis run's."""
        if base is not None:
            one = statistics.median(of(base))
            row(label, (f"{statistics.median(of(r)) / one:.2f}" for r in runs))

    to_base("  CPU per message / 1 process through Redis", lambda r: r.saturation_cpus_ms)
    to_base("  the same less idle CPU / 1 process", lambda r: r.saturation_net_cpus_ms)
    row("  bare python-socketio's CPU per ack, ms", (spread(r.bare_cpus_ms, 3) for r in runs))
    to_base("  — bare, / its own at 1 process", lambda r: r.bare_cpus_ms)
    row("  at the same load per hub (paced), ms", (spread(r.paced_cpus_ms, 3) for r in runs))
    to_base("  — paced, / 1 process through Redis", lambda r: r.paced_cpus_ms)
    row("  — paced phase's messages/s, all hubs", (spread(r.paced_rates, 0) for r in runs))
    for label, name, digits in COST_ROWS:
        row(
            label,
            (spread([getattr(c, name) for c in r.saturation_costs], digits) for r in runs),
        )


COST_ROWS = (  # per acked message, medians of the rounds (`Costs`)
    ("  of it user CPU, ms", "user_ms", 3),
    ("  of it system CPU, ms", "system_ms", 3),
    ("  hub sleeps a message (nothing to do)", "slept", 3),
    ("  hub preemptions a message", "preempted", 3),
    ("  PostgreSQL transactions a message", "transactions", 3),
    ("  Redis commands a message (in scripts too)", "redis_commands", 2),
)


@contextlib.contextmanager
def hogs(count: int) -> Iterator[None]:
    """`count` processes that only spin, for as long as the block runs."""
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for process in spinning:
            process.kill()
            process.wait()


def run_spec(text: str) -> tuple[int, str]:
    processes, _, fanout = text.partition(":")
    if not processes.isdigit() or fanout not in ("local", "redis"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected PROCESSES:local|redis, e.g. 2:redis")
    if int(processes) > 1 and fanout != "redis":
        raise argparse.ArgumentTypeError(f"{text!r}: several processes fan out through redis")
    return int(processes), fanout


async def bursts_only(charla: Charla, fanout: str, rounds: int) -> None:
    """The burst phase alone, `rounds` times on one deployment, with the hubs' CPU time."""
    await charla.start()
    try:
        for n in range(rounds):
            results = Results(len(charla.hubs), fanout)
            await charla.burst(results, BURST_CHATS, BURST_AGENTS, f"Burst {chr(97 + n)}")
            print(
                f"{results.label} burst {n + 1}: p50 {results.burst_p50_ms:.0f} ms, "
                f"p99 {results.burst_p99_ms:.0f} ms, assigned {results.burst_assigned}, "
                f"refused {results.burst_refused}, stalls {results.burst_hub_stalls}, "
                f"hub CPU {results.burst_cpu_ms:.2f} ms a start (load {load()})",
                flush=True,
            )
    finally:
        await charla.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument(
        "--active", type=int, default=1000, help="visitors writing every 2 s (realistic load)"
    )
    parser.add_argument("--chat-rate", type=float, default=100, help="chats started per second")
    parser.add_argument(
        "--runs",
        type=run_spec,
        nargs="+",
        default=[(1, "local"), (1, "redis"), (2, "redis")],
        help="hub processes and their fan-out (CHARLA_FANOUT) for each run, e.g. 1:local 2:redis",
    )
    parser.add_argument(
        "--cap",
        type=float,
        default=0,
        metavar="CORES",
        help="hold every server process (each hub, each ceiling server) to this many CPUs "
        "with a cgroup, so that two processes against one measures the servers, not a "
        "machine whose cores the load generator, PostgreSQL and Redis share (needs root)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=200,
        help="connections of the ceilings, and visitors flooding at saturation",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="saturation rounds, each measuring every deployment beside bare python-socketio",
    )
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=250,
        help="messages/s per hub in each round's paced phase (the same load on every hub)",
    )
    parser.add_argument(
        "--hogs",
        type=int,
        default=0,
        help="busy processes (a Python loop each) running beside each deployment's hubs: "
        "what sharing the cores costs a hub's messages, with nothing else changed",
    )
    parser.add_argument(
        "--burst-only",
        action="store_true",
        help="only the burst phase, once per round (for working on the start path); with "
        "BENCH_PYSPY=<file> in the environment, each burst sampled by py-spy",
    )
    args = parser.parse_args()
    if args.cap:
        reason = CpuCap.why_not()
        if reason:
            parser.error(f"--cap: {reason}")
    print(
        f"bench/scale.py on {os.cpu_count()} cores, load average {load()}"
        + (f", each server process held to {args.cap} CPU" if args.cap else "")
        + (f", {args.hogs} busy processes beside the hubs" if args.hogs else ""),
        flush=True,
    )
    ceilings: dict[tuple[str, int], Ceiling] = {}
    runs: list[Results] = []
    with tempfile.TemporaryDirectory(prefix="charla-bench-") as tmp, PostgresCluster() as pg:
        if args.burst_only:
            for n, (processes, fanout) in enumerate(args.runs):
                charla = Charla(Path(tmp) / f"burst{n}", pg, processes, fanout, args.cap)
                await bursts_only(charla, fanout, args.rounds)
            return
        for processes in sorted({processes for processes, _ in args.runs}):
            for kind in ("echo", "bare-tuned"):
                found = await ceiling(kind, processes, args.connections, args.seconds, args.cap)
                ceilings[(kind, processes)] = found
                print(
                    f"{processes} process(es): {kind} {found.rate:,.0f}/s, "
                    f"{found.cpu_ms:.3f} ms of server CPU each",
                    flush=True,
                )
        for n, (processes, fanout) in enumerate(args.runs):
            charla = Charla(
                Path(tmp) / f"charla{n}_{processes}{fanout}", pg, processes, fanout, args.cap
            )
            results = Results(processes, fanout)
            with hogs(args.hogs):
                await run_charla(charla, results, args)
            print(f"{results.label}: {results}", flush=True)
            runs.append(results)
    report(runs, ceilings, args)


if __name__ == "__main__":
    asyncio.run(main())
