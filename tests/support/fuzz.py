"""Generated payloads (hypothesis) and a raw Socket.IO client that counts acks, for
tests/test_fuzz.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aiohttp
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from console.domain.errors import HTTP_STATUS

# -- strategies ---------------------------------------------------------------------------

FIELDS = (
    "chat_id",
    "text",
    "client_msg_id",
    "url",
    "title",
    "language",
    "status",
    "typing",
    "lead",
    "email",
    "phone",
    "name",
    "password",
    "otp",
    "score",
    "agent_id",
    "visitor_id",
    "from",
    "to",
    "limit",
)
TRICKY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\u202e",
        "\ud800",  # a lone surrogate: JSON.stringify writes it as \\ud800
        "\udfff x",
        "a" * 4000,
        "b" * 4001,
        "é" * 4001,
        "4111 1111 1111 1111",
        "'; DROP TABLE chats; --",
        "../../etc/passwd",
        "%00",
        "null",
        "0",
        "-1",
        "1e999",
        "2026-02-30",
        "9999-12-31T23:59:59Z",
        "https://dealer.example/" + "x" * 3000,
        "javascript:alert(1)",
        "<script>alert(1)</script>",
        "whsec_" + "A" * 40,
    ]
)
LONG_TEXT = st.integers(min_value=0, max_value=200_000).map(lambda n: "ñ" * n)
SCALARS = (
    st.sampled_from([None, True, False, 0, -1, 1.5, -0.0, 2**53 + 1, 2**64, -(2**70), 1e300])
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.text(alphabet=st.characters(codec=None, categories=None), max_size=4)
    | TRICKY_TEXT
)
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(FIELDS), inner, max_size=3)
    ),
    max_leaves=5,
)


@st.composite
def around(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """`base` (a valid payload) with fields kept, dropped or replaced, and a few added."""
    out: dict[str, Any] = {}
    for key, value in base.items():
        choice = draw(st.integers(0, 4))
        if choice <= 1:
            out[key] = value
        elif choice == 2:
            continue
        elif isinstance(value, dict) and choice == 3:
            out[key] = draw(around(value))
        else:
            out[key] = draw(JSON | TRICKY_TEXT | (LONG_TEXT if key == "text" else st.nothing()))
    out.update(
        draw(st.dictionaries(st.text(max_size=8) | st.sampled_from(FIELDS), JSON, max_size=2))
    )
    return out


def payloads(base: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """What a client could send for an event whose valid payload is `base`."""
    if base is None:
        return JSON
    return st.one_of(around(base), around(base), JSON)


def generate(strategy: st.SearchStrategy[Any], count: int, per_example: int = 50) -> list[Any]:
    """`count` values of `strategy`, drawn `per_example` to a hypothesis example: its cost
    per example is then shared (about 1 ms a payload rather than 5)."""
    found: list[Any] = []

    @settings(
        max_examples=-(-count // per_example),
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(strategy, min_size=per_example, max_size=per_example))
    def collect(values: list[Any]) -> None:
        found.extend(values)

    collect()
    return found[:count]


# -- checks -------------------------------------------------------------------------------


def protocol_error(body: Any) -> str | None:
    """Why `body` is not `{"error": {"code", "message"}}` of a known code (None: it is)."""
    if not isinstance(body, dict) or set(body) != {"error"}:
        return f"not an error body: {body!r:.300}"
    error = body["error"]
    if not isinstance(error, dict) or set(error) != {"code", "message"}:
        return f"not an error: {error!r:.300}"
    if error["code"] not in HTTP_STATUS:
        return f"unknown code {error['code']!r}"
    if not isinstance(error["message"], str) or not error["message"]:
        return f"no message: {error!r:.300}"
    return None


def ack_problem(acks: list[Any], *, silent_ok: bool) -> str | None:
    """Why these acks of one event are not exactly one ack of the protocol's shape."""
    if len(acks) != 1:
        return f"{len(acks)} acks"
    data = acks[0]
    if data == [] and silent_ok:  # `typing` asked for an ack: an empty one when it worked
        return None
    if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
        return f"ack is not one object: {data!r:.300}"
    ack = data[0]
    if ack.get("ok") is True:
        return None
    if ack.get("ok") is not False:
        return f"ack without ok: {ack!r:.300}"
    return protocol_error({k: v for k, v in ack.items() if k != "ok"})


# -- a raw Socket.IO client ---------------------------------------------------------------

SURROGATE = re.compile("[\ud800-\udfff]")


def as_json(value: Any) -> str:
    """JSON as a browser writes it: UTF-8, a lone surrogate escaped (as JSON.stringify does)."""
    text = json.dumps(value, ensure_ascii=False)
    return SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


class RawClient:
    """Socket.IO v5 over Engine.IO v4 over a bare WebSocket: sends any frame, and records
    every ack by id (so that two acks to one event would show)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, namespace: str) -> None:
        self.ws = ws
        self.namespace = namespace
        self.acks: dict[int, list[Any]] = defaultdict(list)
        self.next_id = 1
        self.closed: str | None = None
        self._arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(
        cls, http: aiohttp.ClientSession, url: str, namespace: str, auth: dict[str, Any], **kw: Any
    ) -> RawClient:
        ws = await http.ws_connect(url + "/socket.io/?EIO=4&transport=websocket", **kw)
        assert (await ws.receive_str(timeout=5)).startswith("0")
        await ws.send_str(f"40{namespace}," + json.dumps(auth))
        while not (frame := await ws.receive_str(timeout=5)).startswith(f"40{namespace},"):
            assert not frame.startswith(f"44{namespace},"), frame
        return cls(ws, namespace)

    async def _read(self) -> None:
        prefix = f"43{self.namespace},"
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame: str = message.data
            if frame == "2":
                await self.ws.send_str("3")
            elif frame.startswith(f"41{self.namespace},"):  # the hub ended the namespace
                self.closed = "disconnected from the namespace"
                self._arrived.set()
            elif frame.startswith(prefix):
                digits = frame[len(prefix) :].split("[", 1)[0]
                self.acks[int(digits)].append(json.loads(frame[len(prefix) + len(digits) :]))
                self._arrived.set()
        self.closed = self.closed or f"closed ({self.ws.close_code})"
        self._arrived.set()

    def frame(self, args: list[Any], *, ack: bool = True) -> tuple[int | None, str]:
        """An EVENT frame of `args` ([event, *data]); with an ack id unless `ack` is False."""
        if not ack:
            return None, f"42{self.namespace}," + as_json(args)
        ack_id, self.next_id = self.next_id, self.next_id + 1
        return ack_id, f"42{self.namespace},{ack_id}" + as_json(args)

    async def send(self, frames: list[str], expected: list[int], timeout_s: float = 10) -> None:
        """Send the frames, then wait until every expected id has an ack and a last event,
        sent after them all, has had its own (a second ack to any would be in by then)."""
        for frame in frames:
            await self.ws.send_str(frame)
        barrier = self.next_id
        await self.ws.send_str(self.frame(["fuzz_barrier", {}])[1])
        waiting = [*expected, barrier]

        async def answered() -> None:
            while self.closed is None and any(not self.acks.get(i) for i in waiting):
                self._arrived.clear()
                await self._arrived.wait()

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(answered(), timeout_s)
        self.acks.pop(barrier, None)

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await self._reader


Check = Callable[[Any], str | None]
