"""A running hub and real Socket.IO peers, for tests that speak the protocol."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio
from aiohttp import web
from aiohttp.test_utils import TestServer

from console.engagement.service import Engagement
from console.web.keys import SIO

ADMIN_TOKEN = "test-admin-token-0123456789"
PASSWORD = "correct horse battery"
ORIGIN = "https://dealer.example"
_counter = itertools.count(1)


async def eventually(check: Callable[[], Any], timeout_s: float = 10, what: str = "") -> Any:
    """Poll an async or sync check until it returns something truthy; that is returned."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what or result!r}")
        await asyncio.sleep(0.05)


# Ports for the servers tests start: below the kernel's ephemeral range (32768 and up on
# Linux), where no outgoing connection takes one between the check and the server's bind,
# and split between pytest-xdist's workers, so that two workers never pick the same one
PORTS = range(20000, 32000)
_PICK = random.SystemRandom()  # not the random module's state, which tests may seed


def free_port() -> int:
    """A loopback TCP port nobody listens on now, for a server a test starts: one of this
    pytest worker's share of PORTS."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    span = len(PORTS) // workers
    low = PORTS.start + (int(worker) % workers if worker.isdigit() else 0) * span
    for _ in range(200):
        port = _PICK.randrange(low, low + span)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{low + span - 1}")


class Sender:
    """Messages sent to one chat, sorted by the hub's answer: acknowledged, or refused as
    `unavailable` (any other answer fails the test). A message's text is its client id."""

    def __init__(self, chat_id: str) -> None:
        self.chat_id = chat_id
        self.acked: list[str] = []
        self.refused: list[str] = []

    async def send(self, peer: Peer, text: str) -> None:
        ack = await peer.call(
            "message", {"chat_id": self.chat_id, "text": text, "client_msg_id": text}, timeout_s=30
        )
        if ack["ok"]:
            self.acked.append(text)
        else:
            assert "unavailable" == ack["error"]["code"], ack
            self.refused.append(text)


class Peer:
    """A python-socketio client that records every event it receives, in order."""

    def __init__(self, url: str, namespace: str) -> None:
        self.url = url
        self.namespace = namespace
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Condition()
        self.connect_error: Any = None
        # registered as calls, not as decorators: python-socketio is untyped, and a function
        # under an untyped decorator would be untyped too
        self.sio.on("*", self._record, namespace=namespace)
        self.sio.on("connect_error", self._refused, namespace=namespace)

    async def _record(self, event: str, data: Any = None) -> None:
        async with self._changed:
            self.events.append((event, data))
            self._changed.notify_all()

    async def _refused(self, data: Any = None) -> None:
        self.connect_error = data

    async def connect(
        self,
        auth: dict[str, Any] | None,
        headers: dict[str, str] | None = None,
        transports: list[str] | None = None,
    ) -> None:
        await self.sio.connect(
            self.url,
            namespaces=[self.namespace],
            auth=auth,
            headers=headers or {},
            transports=transports or ["websocket"],
            wait_timeout=5,
        )

    async def call(self, event: str, data: Any = None, timeout_s: float = 5) -> Any:
        if data is None:
            return await self.sio.call(event, namespace=self.namespace, timeout=timeout_s)
        return await self.sio.call(event, data, namespace=self.namespace, timeout=timeout_s)

    async def emit(self, event: str, data: Any = None) -> None:
        await self.sio.emit(event, data, namespace=self.namespace)

    def seen(self, event: str, where: Callable[[Any], bool] | None = None) -> list[Any]:
        return [d for e, d in self.events if e == event and (where is None or where(d))]

    async def wait_for(
        self,
        event: str,
        where: Callable[[Any], bool] | None = None,
        timeout_s: float = 5,
        count: int = 1,
    ) -> Any:
        """The `count`-th matching event since the peer connected (waits for it)."""

        async def ready() -> Any:
            async with self._changed:
                while True:
                    found = self.seen(event, where)
                    if len(found) >= count:
                        return found[count - 1]
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(ready(), timeout_s)
        except TimeoutError:
            raise AssertionError(
                f"no {event!r} event within {timeout_s}s; saw {[e for e, _ in self.events]}"
            ) from None

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


@dataclass
class LiveHub:
    """A hub on a random loopback port, with helpers to set up tenants, agents and peers."""

    server: TestServer
    app: web.Application
    http: aiohttp.ClientSession
    peers: list[Peer] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def request(
        self, method: str, path: str, *, token: str | None = None, json: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.url + path, json=json, headers=headers) as r:
            body = await r.json(content_type=None)
            return r.status, body

    async def tenant(self, **fields: Any) -> dict[str, Any]:
        body = {
            "name": f"Dealer {next(_counter)}",
            "plan": "premium",
            "languages": ["es", "en"],
            "timezone": "America/Puerto_Rico",
            "allowed_origins": [ORIGIN],
        }
        body.update(fields)
        status, tenant = await self.request(
            "POST", "/api/admin/tenants", token=ADMIN_TOKEN, json=body
        )
        assert status == 201, tenant
        return tenant  # type: ignore[no-any-return]

    async def agent(
        self,
        tenant: dict[str, Any],
        *,
        languages: list[str],
        max_chats: int = 3,
        role: str = "agent",
        name: str | None = None,
    ) -> dict[str, Any]:
        n = next(_counter)
        body = {
            "email": f"agent{n}@dealer.example",
            "name": name or f"Agent {n}",
            "password": PASSWORD,
            "languages": languages,
            "max_chats": max_chats,
            "role": role,
        }
        status, agent = await self.request(
            "POST", f"/api/admin/tenants/{tenant['id']}/agents", token=ADMIN_TOKEN, json=body
        )
        assert status == 201, agent
        status, login = await self.request(
            "POST", "/api/login", json={"email": body["email"], "password": PASSWORD}
        )
        assert status == 200, login
        agent["token"] = login["token"]
        return agent  # type: ignore[no-any-return]

    async def agent_peer(self, agent: dict[str, Any], *, online: bool = True) -> Peer:
        peer = Peer(self.url, "/agent")
        self.peers.append(peer)
        await peer.connect({"token": agent["token"]})
        if online:
            ack = await peer.call("set_status", {"status": "online"})
            assert ack == {"ok": True, "status": "online"}, ack
        return peer

    async def visitor_peer(
        self,
        tenant: dict[str, Any],
        *,
        visitor_id: str | None = None,
        origin: str | None = ORIGIN,
        headers: dict[str, str] | None = None,
        url: str | None = None,
    ) -> Peer:
        """A visitor of `tenant`, connected once its `session` came; `headers` besides the
        Origin (a proxy's X-Forwarded-For, say); `url`: through another address than the
        hub's own (a balancer in front of it)."""
        peer = Peer(url or self.url, "/visitor")
        self.peers.append(peer)
        auth: dict[str, Any] = {"site_key": tenant["site_key"]}
        if visitor_id:
            auth["visitor_id"] = visitor_id
        sent = {**({"Origin": origin} if origin else {}), **(headers or {})}
        await peer.connect(auth, headers=sent or None)
        await peer.wait_for("session")
        return peer

    async def close(self) -> None:
        for peer in self.peers:
            await peer.close()


# `make_hub(data_dir=None, *, clock=None, **settings changed)`: conftest's fixture
HubFactory = Callable[..., Coroutine[Any, Any, LiveHub]]


def engagement(hub: LiveHub) -> Engagement:
    """The hub's invitation engine, whose page watchers a test waits for."""
    namespace = hub.app[SIO].namespace_handlers["/visitor"]
    found: Engagement = namespace.engagement
    return found


def chat_is(chat_id: str) -> Callable[[Any], bool]:
    """A `wait_for` filter: the event is about this chat. In a loop, a lambda would have to
    bind the id as a default argument, whose type mypy cannot infer."""
    return lambda event: bool(event["chat"]["id"] == chat_id)


def text_is(text: str) -> Callable[[Any], bool]:
    """A `wait_for` filter: the message event carries this text (see `chat_is`)."""
    return lambda event: bool(event["message"]["text"] == text)


async def start_chat(
    visitor: Peer, text: str = "Hola, busco una Tacoma 2022", **fields: Any
) -> dict[str, Any]:
    ack = await visitor.call("start_chat", {"text": text, **fields})
    assert ack["ok"] is True, ack
    return ack["chat"]  # type: ignore[no-any-return]


async def active_chat(
    hub: LiveHub,
    tenant: dict[str, Any] | None = None,
    text: str = "Hola, busco una Tacoma",
    *,
    max_chats: int = 3,
) -> tuple[dict[str, Any], dict[str, Any], Peer, Peer, dict[str, Any]]:
    """A tenant whose one visitor talks with its one Spanish-speaking agent:
    (tenant, agent, agent's peer, visitor's peer, chat). With `max_chats=1` the agent is
    busy: the next chat waits in the queue."""
    tenant = tenant or await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"], max_chats=max_chats)
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, text, language="es")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    return tenant, agent, agent_peer, visitor, chat
