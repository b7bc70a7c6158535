"""The fuzz suite: over 10,000 generated payloads (hypothesis) across every visitor and agent
event and every HTTP endpoint, against one hub, in batches.

Each event sent with an ack gets exactly one ack, `{"ok": true, ...}` or the protocol's error;
each HTTP request answers below 500, an error with the protocol's error body; no connection
closes (every frame is under the hard cap); and the hub logs no error and no traceback
(structlog's and the standard library's records both watched).
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
from collections import Counter
from collections.abc import MutableMapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any
from urllib.parse import quote

import pytest
import structlog
from hypothesis import strategies as st

from console.realtime.namespaces import AgentNamespace, VisitorNamespace
from console.settings import Limits
from console.web.openapi_examples import EXAMPLES
from tests.support.fuzz import (
    JSON,
    TRICKY_TEXT,
    RawClient,
    ack_problem,
    generate,
    payloads,
    protocol_error,
)
from tests.support.harness import ADMIN_TOKEN, ORIGIN, LiveHub, active_chat

EVENTS = 8_000  # a quarter on each of four connections  # Socket.IO events, visitor's and agent's
REQUESTS = 2_500  # HTTP requests
BATCH = 250
OPEN = Limits(
    visitor_events_per_s=1e6, visitor_burst=10**6, agent_events_per_s=1e6, agent_burst=10**6
)
SKIPPED_PATHS = ("/socket.io/",)  # engine.io's own transport: not the protocol's JSON
# Probes answer their own bodies (docs/protocol.md), and /readyz a 503 while the store is slow
PROBES = ("/healthz", "/readyz", "/livez", "/metrics")
# A request line is at most 8 KiB (aiohttp's parser answers a plain 400 before the hub):
# long texts go in bodies, not in paths and queries
SHORT_TRICKY = TRICKY_TEXT.filter(lambda text: len(text) < 100)


class Problems:
    """What the hub logged at error level or with a traceback, from structlog or logging."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def processor(
        self, _logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if method in ("error", "exception", "critical") or event.get("exc_info"):
            self.seen.append(f"structlog {method}: {event.get('event')} {event!r:.500}")
        return event


def events_of(chat_id: str, agent_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every event of each namespace (its class's list) with a valid payload, visitor's and
    agent's; an event added since this was written gets `{"chat_id"}` to vary."""
    visitor = {
        "page_view": {"url": "https://dealer.example/inventory", "title": "Inventario"},
        "start_chat": {
            "text": "Hola",
            "language": "es",
            "name": "Ana",
            "email": "ana@example.com",
            "phone": "787-555-0100",
            "client_msg_id": "s-1",
        },
        "message": {"chat_id": chat_id, "text": "¿Tienen una Tacoma?", "client_msg_id": "m-1"},
        "sync": {"chat_id": chat_id, "after_id": "0"},
        "end_chat": {"chat_id": chat_id},
        "typing": {"chat_id": chat_id, "typing": True},
        "invitation_response": {"invitation_id": "inv-1", "accepted": True},
        "rate": {"chat_id": chat_id, "score": 5, "comment": "Muy bien"},
        "email_transcript": {"chat_id": chat_id, "email": "ana@example.com"},
    }
    agent = {
        "set_status": {"status": "online"},
        "message": {"chat_id": chat_id, "text": "¡Claro que sí!", "client_msg_id": "a-1"},
        "close_chat": {"chat_id": chat_id, "disposition": "sales_lead"},
        "transfer": {"chat_id": chat_id, "language": "en"},
        "sync": {"chat_id": chat_id},
        "typing": {"chat_id": chat_id, "typing": False},
        "save_lead": {
            "chat_id": chat_id,
            "lead": {"first_name": "Ana", "phone": "787-555-0100", "interest": "other"},
        },
        "assign": {"chat_id": chat_id, "agent_id": agent_id},
        "join": {"chat_id": chat_id, "mode": "whisper"},
        "leave": {"chat_id": chat_id},
    }
    tables = []
    for namespace, known in ((VisitorNamespace, visitor), (AgentNamespace, agent)):
        table: dict[str, Any] = {e: known.get(e, {"chat_id": chat_id}) for e in namespace.events}
        table["no_such_event"] = None
        tables.append(table)
    return tables[0], tables[1]


def calls(table: dict[str, Any]) -> st.SearchStrategy[tuple[list[Any], bool]]:
    """An event's arguments ([name, *data]) and whether it asks for an ack."""
    one = st.one_of(
        *(
            st.tuples(st.just(name), payloads(base)).map(lambda pair: [pair[0], pair[1]])
            for name, base in table.items()
        )
    )
    odd = st.one_of(
        st.tuples(st.sampled_from(list(table)), JSON, JSON).map(list),  # two data arguments
        st.sampled_from(list(table)).map(lambda name: [name]),  # none
        st.tuples(JSON | TRICKY_TEXT, JSON).map(list),  # any event name, any type
        st.sampled_from(["connect", "disconnect", "", "__proto__"]).map(lambda n: [n, {}]),
    )
    args = st.one_of(one, one, one, one, odd)
    return st.tuples(args, st.sampled_from([True, True, True, False]))


def event_calls(side: str, ids: dict[str, str], count: int) -> list[tuple[list[Any], bool]]:
    """`count` generated events of the visitor's (`side` "visitor") or the agent's."""
    visitor, agent = events_of(ids["chat"], ids["agent"])
    return generate(calls(visitor if side == "visitor" else agent), count)


async def drive_events(
    client: RawClient,
    generated: list[tuple[list[Any], bool]],
    failures: list[str],
    outcomes: Counter[str],
) -> None:
    for start in range(0, len(generated), BATCH):
        batch = generated[start : start + BATCH]
        frames, expected = [], []
        for args, wants_ack in batch:
            ack_id, frame = client.frame(args, ack=wants_ack)
            frames.append(frame)
            if ack_id is not None:
                expected.append((ack_id, args))
        await client.send(frames, [i for i, _ in expected])
        for ack_id, args in expected:
            acks = client.acks.pop(ack_id, [])
            problem = ack_problem(acks, silent_ok=args[:1] == ["typing"])
            outcome = outcome_of(acks)
            outcomes[outcome] += 1
            if outcome == "unavailable":  # the protocol's shape, but the hub failed
                problem = problem or "unavailable"
            if problem:
                failures.append(f"{client.namespace} {json.dumps(args)[:300]}: {problem}")
        if client.closed is not None:
            failures.append(f"{client.namespace} connection {client.closed} after {batch!r:.500}")
            return


def outcome_of(acks: list[Any]) -> str:
    """ "ok", an error's code, or "?" for an ack of no protocol shape."""
    try:
        ack: Any = acks[0][0] if acks[0] else {"ok": True}
        return "ok" if ack["ok"] is True else str(ack["error"]["code"])
    except (IndexError, KeyError, TypeError):
        return "?"


def routes_of(hub: LiveHub) -> list[tuple[str, str]]:
    """Every route of the hub, as (method, path template)."""
    routes = []
    for route in hub.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("formatter") or info.get("path")
        if route.method in ("HEAD", "OPTIONS") or not template:
            continue
        if template.startswith(SKIPPED_PATHS):
            continue
        routes.append((route.method, template))
    return routes


Request = tuple[str, str, dict[str, str], Any, str | None]


def http_calls(
    routes: list[tuple[str, str]], ids: dict[str, str], tokens: dict[str, str], count: int
) -> list[Request]:
    """`count` generated requests to these routes: (method, path, query, body, token)."""
    segment = st.one_of(
        st.sampled_from([ids["tenant"], ids["chat"]]),  # not the agent's: it would be deleted
        st.text(min_size=1, max_size=40),
        SHORT_TRICKY.filter(bool),
    ).map(lambda value: quote(value.encode("utf-8", "surrogatepass"), safe=""))
    query = st.dictionaries(
        st.sampled_from(["from", "to", "limit", "tenant_id", "site_key", "status", "month"])
        | st.text(max_size=8),
        st.text(max_size=30) | SHORT_TRICKY | st.integers().map(str),
        max_size=3,
    )

    @st.composite
    def one(draw: st.DrawFn) -> tuple[str, str, dict[str, str], Any, str | None]:
        method, template = draw(st.sampled_from(routes))
        path = template
        while "{" in path:
            head, rest = path.split("{", 1)
            path = head + draw(segment) + rest.split("}", 1)[1]
        example = EXAMPLES.get((method.lower(), template)) or EXAMPLES.get((method, template))
        body: Any = None
        if method != "GET":
            body = draw(
                st.one_of(
                    payloads(example if isinstance(example, dict) else None),
                    st.just(b"not json {"),
                    st.integers(60_000, 70_000).map(lambda n: {"name": "x" * n}),
                )
            )
        token = draw(
            st.sampled_from(
                [tokens["admin"], tokens["agent"], tokens["agent"], None, "garbage.token"]
            )
        )
        return method, path, draw(query), body, token

    return generate(one(), count)


async def drive_http(hub: LiveHub, generated: list[Request], failures: list[str]) -> None:
    limit = asyncio.Semaphore(8)

    async def request(method: str, path: str, query: dict[str, str], body: Any, token: Any) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = body if isinstance(body, bytes) else None
        if body is not None and data is None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        params = {
            k.encode("utf-8", "surrogatepass").decode("utf-8", "replace"): v.encode(
                "utf-8", "surrogatepass"
            ).decode("utf-8", "replace")
            for k, v in query.items()
        }
        async with (
            limit,
            hub.http.request(
                method, hub.url + path, params=params, data=data, headers=headers
            ) as response,
        ):
            raw = await response.read()
            sent = body if isinstance(body, bytes) else json.dumps(body)[:200]
            where = f"{method} {path} {sent!r}"
            if response.status >= 500 and not (path in PROBES and response.status == 503):
                failures.append(f"{where}: {response.status} {raw[:300]!r}")
            elif response.status >= 400 and path not in PROBES:
                try:
                    problem = protocol_error(json.loads(raw))
                except ValueError:
                    problem = f"not JSON: {raw[:200]!r}"
                if problem:
                    failures.append(f"{where}: {response.status} {problem}")

    for start in range(0, len(generated), BATCH):
        await asyncio.gather(*(request(*call) for call in generated[start : start + BATCH]))


async def test_generated_payloads_get_one_protocol_answer_each_and_no_traceback(
    make_hub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    problems = Problems()
    structlog.configure(processors=[problems.processor, *structlog.get_config()["processors"]])
    caplog.set_level(logging.WARNING)
    hub: LiveHub = await make_hub(limits=OPEN)
    tenant, agent, _agent_peer, _visitor, chat = await active_chat(hub)
    admin = await hub.agent(tenant, languages=["es", "en"], role="admin")
    ids = {"tenant": tenant["id"], "chat": chat["id"], "agent": agent["id"]}
    tokens = {"admin": ADMIN_TOKEN, "agent": admin["token"]}
    routes = routes_of(hub)
    assert len(routes) > 80, routes

    # Generated in other processes (hypothesis takes about 1 ms a payload), the hub's event
    # loop free meanwhile; then sent in batches, both namespaces and HTTP at once.
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        requests = loop.run_in_executor(pool, http_calls, routes, ids, tokens, REQUESTS)
        events = await asyncio.gather(
            *(
                loop.run_in_executor(pool, event_calls, side, ids, EVENTS // 4)
                for side in ("visitor", "visitor", "agent", "agent")
            )
        )
        generated_requests = await requests
    assert (EVENTS, REQUESTS) == (sum(len(e) for e in events), len(generated_requests))
    origin = {"Origin": ORIGIN}
    visitor_auth = {"site_key": tenant["site_key"]}
    clients = [
        *[
            await RawClient.open(hub.http, hub.url, "/visitor", visitor_auth, headers=origin)
            for _ in range(2)
        ],
        *[
            await RawClient.open(hub.http, hub.url, "/agent", {"token": token})
            for token in (agent["token"], admin["token"])
        ],
    ]
    failures: list[str] = []
    outcomes: Counter[str] = Counter()

    await asyncio.gather(
        *(
            drive_events(c, calls, failures, outcomes)
            for c, calls in zip(clients, events, strict=True)
        ),
        drive_http(hub, generated_requests, failures),
    )

    assert [] == failures[:20], f"{len(failures)} failures:\n" + "\n".join(failures[:40])
    assert [None] * 4 == [c.closed for c in clients]
    # valid payloads were among them, and so was each kind of mistake
    assert {"ok", "invalid_payload", "too_large", "not_found"} <= set(outcomes), outcomes
    logged = [
        f"{r.name} {r.levelname}: {r.getMessage()[:300]}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info
    ]
    assert [] == (problems.seen + logged)[:10]
    for client in clients:
        await client.close()
    await asyncio.sleep(0.5)  # their disconnects handled before the fixture stops Redis
    status, health = await hub.request("GET", "/healthz")
    assert (200, "ok") == (status, health["status"])
