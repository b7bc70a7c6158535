"""compose.yaml's balancer, deploy/nginx.conf, run by a real nginx in front of a real hub: a
visitor chats over its WebSocket upgrade and sends a photo over 64 KiB; its refusals (a body
too large, a hub that is gone) come in the protocol's error shape, and a hub's own refusal
passes through as the hub wrote it.

The configuration is the file itself with only what binds it to Docker changed: the hubs'
addresses (hub-1 becomes the test's hub, hub-2 is left out), the port it listens on, the
directory of the TLS include, and `resolve` (for Docker's DNS, nginx 1.27.3+; the hub here
is an address, and Debian 12's nginx is 1.22). tests/test_compose.py checks what this cannot
run (the TLS server has the same locations, the image's version).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from console.settings import Files
from tests.support.attachments import BOUNDARY, multipart, pdf_bytes
from tests.support.harness import (
    HubFactory,
    LiveHub,
    active_chat,
    free_port,
    start_chat,
)
from tests.support.tools import ROOT, missing

CONF = ROOT / "deploy" / "nginx.conf"
HUB_LIMIT = 200_000  # the hub's own attachment limit here, under the balancer's 11m
Balancer = Callable[[int], Coroutine[Any, Any, str]]


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (str(p) for p in (Path("/usr/sbin/nginx"),) if p.exists()), None
    )
    if found is None:
        missing("nginx", "nginx is not installed: run `bash .ci/setup` (apt-get nginx-light)")
    return found


def render(conf: str, *, hub_port: int, port: int, include: Path) -> str:
    """deploy/nginx.conf bound to this machine instead of compose's network."""
    changes = [
        (r"server hub-1:8080 resolve ", f"server 127.0.0.1:{hub_port} "),
        (r"\n\s*server hub-2:8080 [^\n]*;", ""),
        (r"listen 80;", f"listen 127.0.0.1:{port};"),
        (r"include /etc/nginx/charla\.d/\*\.conf;", f"include {include}/*.conf;"),
    ]
    for pattern, replacement in changes:
        conf, count = re.subn(pattern, replacement, conf)
        assert 1 == count, f"deploy/nginx.conf changed: {pattern!r} matched {count} times"
    return conf


@pytest.fixture
async def balancer(tmp_path: Path) -> AsyncIterator[Balancer]:
    """Start nginx with deploy/nginx.conf in front of the hub on `hub_port`; its URL."""
    binary = nginx_binary()
    running: list[asyncio.subprocess.Process] = []

    async def start(hub_port: int) -> str:
        home = tmp_path / f"nginx{len(running)}"
        (home / "charla.d").mkdir(parents=True)
        port = free_port()
        conf = home / "nginx.conf"
        conf.write_text(
            render(CONF.read_text(), hub_port=hub_port, port=port, include=home / "charla.d")
        )
        log = home / "error.log"
        process = await asyncio.create_subprocess_exec(
            binary,
            "-c",
            str(conf),
            "-p",
            str(home),
            "-e",
            str(log),
            "-g",
            f"daemon off; pid {home / 'nginx.pid'};",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.STDOUT,
        )
        running.append(process)
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                if process.returncode is not None:
                    pytest.fail(f"nginx exited ({process.returncode}): {log.read_text()}")
                try:
                    async with http.get(url + "/metrics") as answer:
                        if answer.status == 404:  # nginx's own answer: it serves
                            return url
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
        pytest.fail(f"nginx did not answer on {url}: {log.read_text()}")

    yield start
    for process in running:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


async def post_file(url: str, chat_id: str, token: str, body: bytes) -> tuple[int, Any]:
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Authorization": f"Bearer {token}",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/api/chats/{chat_id}/attachments", data=body, headers=headers) as answer,
    ):
        assert answer.content_type == "application/json", await answer.text()
        return answer.status, await answer.json()


async def hub_and_balancer(make_hub: HubFactory, balancer: Balancer) -> tuple[LiveHub, str]:
    hub = await make_hub(files=Files(max_bytes=HUB_LIMIT))
    assert hub.server.port is not None
    return hub, await balancer(hub.server.port)


async def test_a_visitor_chats_and_sends_a_photo_over_64_kib_through_the_balancer(
    make_hub: HubFactory, balancer: Balancer
) -> None:
    hub, url = await hub_and_balancer(make_hub, balancer)
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant, url=url)  # through nginx: its WebSocket upgrade
    session = visitor.seen("session")[0]
    chat = await start_chat(visitor, "Hola, le mando la foto del carro", language="es")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])

    photo = pdf_bytes(150_000)  # over the 64 KiB every other body is held to
    status, body = await post_file(
        url, chat["id"], session["upload_token"], multipart(photo, "carro.pdf", "x")
    )
    assert 201 == status, body
    pushed = await agent_peer.wait_for("message", lambda e: "attachment" in e["message"])
    assert 150_000 == pushed["message"]["attachment"]["size"]


async def test_the_balancers_refusals_come_in_the_protocols_error_shape(
    make_hub: HubFactory, balancer: Balancer
) -> None:
    hub, url = await hub_and_balancer(make_hub, balancer)
    _tenant, _agent, _agent_peer, visitor, chat = await active_chat(hub)
    token = visitor.seen("session")[0]["upload_token"]
    too_much = b"{" + b" " * 100_000 + b"}"
    async with (
        aiohttp.ClientSession() as http,
        http.post(url + "/api/login", data=too_much) as answer,
    ):
        body = await answer.json(content_type=None)
        assert (413, "too_large") == (answer.status, body["error"]["code"]), body
        assert "64 KiB" in body["error"]["message"]

    # over the balancer's own cap for a file: refused before the hub sees it
    status, body = await post_file(
        url, chat["id"], token, multipart(pdf_bytes(12 * 1024 * 1024), "a.pdf", "x")
    )
    assert (413, "too_large") == (status, body["error"]["code"]), body
    assert "10 MiB" in body["error"]["message"]
    # under it but over the hub's limit: the hub's own answer, through
    status, body = await post_file(
        url, chat["id"], token, multipart(pdf_bytes(HUB_LIMIT + 1), "a.pdf", "x")
    )
    assert (413, "too_large") == (status, body["error"]["code"]), body
    assert "10 MiB" not in body["error"]["message"]


async def test_a_hub_that_is_gone_is_unavailable_in_the_protocols_error_shape(
    balancer: Balancer,
) -> None:
    url = await balancer(free_port())  # nothing listens there
    async with (
        aiohttp.ClientSession() as http,
        http.get(url + "/api/widget/config?site_key=sk") as answer,
    ):
        body = await answer.json(content_type=None)
        assert (503, "unavailable") == (answer.status, body["error"]["code"]), body
        assert "5" == answer.headers["Retry-After"]
