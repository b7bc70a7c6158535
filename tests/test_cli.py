"""The `charla` command as a user runs it: serve, stop on SIGTERM, demo twice."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import aiohttp
import pytest
import socketio

from tests.support.harness import eventually, free_port
from tests.support.processes import charla_process

ADMIN = "cli-test-admin-token"


def charla(
    command: str, data_dir: Path, port: int, **extra_env: str
) -> AbstractAsyncContextManager[asyncio.subprocess.Process]:
    env = {
        **os.environ,
        "CHARLA_PORT": str(port),
        "CHARLA_DATA_DIR": str(data_dir),
        "CHARLA_ADMIN_TOKEN": ADMIN,
        **extra_env,
    }
    return charla_process(command, env)


async def wait_healthy(port: int, timeout_s: float = 30) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    if r.status == 200:
                        return dict(await r.json())
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"charla did not become healthy on port {port}")


async def read_metrics(port: int) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {ADMIN}"}
        ) as r,
    ):
        assert 200 == r.status, await r.text()
        return await r.text()


def redis_running(data_dir: Path) -> bool:
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"redis-server" in cmdline and str(data_dir).encode() in cmdline:
                return True
    return False


@pytest.mark.parametrize(("choice", "loop"), [("", "uvloop"), ("asyncio", "asyncio")])
async def test_serve_stops_cleanly_on_sigterm_with_its_embedded_redis(
    tmp_path: Path, choice: str, loop: str
) -> None:
    """On uvloop (the default) and on asyncio's own loop (CHARLA_EVENT_LOOP=asyncio)."""
    port = free_port()
    data_dir = tmp_path / "var"
    async with charla("serve", data_dir, port, CHARLA_EVENT_LOOP=choice) as process:
        assert {"status": "ok", "checks": {"database": "ok", "redis": "ok"}} == await wait_healthy(
            port
        )
        assert redis_running(data_dir)
        metrics = await read_metrics(port)
        assert f'charla_event_loop{{loop="{loop}"}} 1.0' in metrics, metrics[-2000:]
        # the full collection that freezes start-up objects, at least
        assert 'charla_gc_pause_seconds_count{generation="2"}' in metrics, metrics[-2000:]
        # the loop's lag probe runs, every 0.25 s
        for _ in range(50):
            if re.search(r"^charla_event_loop_lag_seconds_count [1-9]", metrics, re.M):
                break
            await asyncio.sleep(0.1)
            metrics = await read_metrics(port)
        else:
            raise AssertionError(f"the event loop's lag was never probed: {metrics[-2000:]}")
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        _, err = await process.communicate()
    assert 0 == code, err.decode()[-2000:]
    assert not redis_running(data_dir)
    assert not (data_dir / "redis.sock").exists()
    assert (data_dir / "charla.sqlite3").exists()
    for line in err.decode().splitlines():
        assert "Traceback" not in line


async def test_demo_is_idempotent_and_its_credentials_work(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    for _run in range(2):
        port = free_port()
        async with charla("demo", data_dir, port) as process:
            await wait_healthy(port)
            async with aiohttp.ClientSession() as http:
                base = f"http://127.0.0.1:{port}"
                auth = {"Authorization": f"Bearer {ADMIN}"}
                async with http.get(f"{base}/api/admin/tenants", headers=auth) as r:
                    tenants = (await r.json())["tenants"]
                assert ["Autos Borinquen (demo)"] == [t["name"] for t in tenants]
                assert ("premium", ["es", "en"]) == (tenants[0]["plan"], tenants[0]["languages"])
                async with http.get(
                    f"{base}/api/admin/tenants/{tenants[0]['id']}/agents", headers=auth
                ) as r:
                    agents = (await r.json())["agents"]
                assert [["es"], ["en"], ["es", "en"], ["es", "en"]] == [
                    a["languages"] for a in agents
                ]
                login = {"email": "maria@autosborinquen.example", "password": "charla-demo-2026"}
                async with http.post(f"{base}/api/login", json=login) as r:
                    assert 200 == r.status
                    maria = (await r.json())["token"]
                # With no SMTP relay, the demo's e-mails are files: a ticket's notice
                wanted = f"Llamar a Luis ({_run})"
                ticket = {"text": wanted, "name": "Luis Pérez"}
                async with http.post(
                    f"{base}/api/tickets",
                    json=ticket,
                    headers={"Authorization": f"Bearer {maria}"},
                ) as r:
                    assert 201 == r.status, await r.text()
                mail = await eventually(
                    lambda: [
                        m
                        for m in sorted((data_dir / "mail").glob("*.eml"))
                        if wanted.encode() in m.read_bytes()  # noqa: B023 - awaited at once
                    ],
                    what="the ticket notice's .eml file",
                )
                assert b"To: ventas@autosborinquen.example" in mail[0].read_bytes()
            process.send_signal(signal.SIGTERM)
            assert 0 == await asyncio.wait_for(process.wait(), 30)
            out = (await process.stdout.read()).decode() if process.stdout else ""
            assert "sk_demo_autos_borinquen" in out
            assert f"http://127.0.0.1:{port}/console/" in out
            assert f"are written to {data_dir / 'mail'}" in out


async def run_to_its_end(command: str, env: dict[str, str]) -> tuple[int | None, str, bytes]:
    """`charla <command>` with `env`, expected to exit by itself: (exit code, stdout, stderr)."""
    async with charla_process(command, env) as process:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err


async def test_migrate_creates_the_schema_and_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "CHARLA_DATA_DIR": str(tmp_path / "var")}
    code, out, err = await run_to_its_end("migrate", env)
    assert 0 == code, err.decode()
    assert "charla: the database schema is up to date\n" == out
    assert (tmp_path / "var" / "charla.sqlite3").exists()


async def test_bad_configuration_is_reported_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "CHARLA_PORT": "eighty", "CHARLA_DATA_DIR": str(tmp_path)}
    code, out, err = await run_to_its_end("serve", env)
    assert 2 == code
    assert "CHARLA_PORT must be a whole number, got 'eighty'" in out
    assert b"Traceback" not in err


async def test_an_event_loop_that_is_not_installed_is_reported_without_a_traceback(
    tmp_path: Path,
) -> None:
    """CHARLA_EVENT_LOOP=uvloop where uvloop cannot be imported (as on Windows)."""
    hidden = tmp_path / "no-uvloop" / "uvloop"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("uvloop is not here")\n')
    env = {
        **os.environ,
        "CHARLA_EVENT_LOOP": "uvloop",
        "CHARLA_DATA_DIR": str(tmp_path / "var"),
        "PYTHONPATH": str(hidden.parent),
    }
    code, out, err = await run_to_its_end("serve", env)
    assert 2 == code, err.decode()[-2000:]
    assert "CHARLA_EVENT_LOOP=uvloop, but uvloop is not installed" in out
    assert b"Traceback" not in err
    assert not (tmp_path / "var" / "redis.sock").exists(), "nothing started"


async def test_sigterm_mid_conversation_loses_no_acknowledged_message(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {ADMIN}"}
    acked: list[str] = []
    async with charla("serve", data_dir, port) as process, aiohttp.ClientSession() as http:
        await wait_healthy(port)
        tenant_body = {
            "name": "D",
            "plan": "basic",
            "languages": ["es"],
            "allowed_origins": ["https://d.example"],
        }
        async with http.post(f"{base}/api/admin/tenants", json=tenant_body, headers=admin) as r:
            tenant = await r.json()
        agent_body = {
            "email": "a@d.example",
            "name": "A",
            "password": "password-1",
            "languages": ["es"],
        }
        async with http.post(
            f"{base}/api/admin/tenants/{tenant['id']}/agents", json=agent_body, headers=admin
        ) as r:
            assert 201 == r.status
        async with http.post(
            f"{base}/api/login", json={"email": "a@d.example", "password": "password-1"}
        ) as r:
            token = (await r.json())["token"]
        agent = socketio.AsyncClient(reconnection=False)
        await agent.connect(
            base, namespaces=["/agent"], transports=["websocket"], auth={"token": token}
        )
        await agent.call("set_status", {"status": "online"}, namespace="/agent")
        visitor = socketio.AsyncClient(reconnection=False)
        await visitor.connect(
            base,
            namespaces=["/visitor"],
            transports=["websocket"],
            auth={"site_key": tenant["site_key"]},
        )
        start = await visitor.call("start_chat", {"text": "Hola"}, namespace="/visitor")
        assert "active" == start["chat"]["status"]
        chat_id = start["chat"]["id"]

        async def send(n: int) -> None:
            payload = {"chat_id": chat_id, "text": f"m{n}", "client_msg_id": f"c{n}"}
            try:
                ack = await visitor.call("message", payload, namespace="/visitor", timeout=10)
            except socketio.exceptions.SocketIOError:
                return  # the connection closed under it: not acknowledged, may be resent
            if ack.get("ok"):
                acked.append(f"m{n}")

        senders = [asyncio.create_task(send(n)) for n in range(60)]
        await asyncio.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        await asyncio.gather(*senders)
        assert 0 == await asyncio.wait_for(process.wait(), 30)
        for client in (agent, visitor):
            if client.connected:
                await client.disconnect()

    port = free_port()
    async with charla("serve", data_dir, port) as process, aiohttp.ClientSession() as http:
        await wait_healthy(port)
        async with http.get(
            f"http://127.0.0.1:{port}/api/chats/{chat_id}",
            headers={"Authorization": f"Bearer {token}"},
        ) as r:
            stored = [m["text"] for m in (await r.json())["messages"]]
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    assert acked, "no message was acknowledged before the stop"
    assert set(acked) <= set(stored)
    assert len(stored) == len(set(stored))


async def test_a_hub_killed_outright_restarts_with_everything_it_stored(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    port = free_port()
    admin = {"Authorization": f"Bearer {ADMIN}"}
    async with charla("serve", data_dir, port) as process, aiohttp.ClientSession() as http:
        await wait_healthy(port)
        body = {"name": "D", "plan": "basic", "languages": ["es"], "allowed_origins": []}
        async with http.post(
            f"http://127.0.0.1:{port}/api/admin/tenants", json=body, headers=admin
        ) as r:
            tenant = await r.json()
        process.kill()  # SIGKILL: no cleanup runs
        await process.wait()
    for _ in range(200):  # Linux delivers the parent-death signal at once; allow 10 s
        if not redis_running(data_dir):
            break
        await asyncio.sleep(0.05)
    assert not redis_running(data_dir), "the embedded Redis outlived its hub"

    port = free_port()
    async with charla("serve", data_dir, port) as process, aiohttp.ClientSession() as http:
        await wait_healthy(port)
        async with http.get(
            f"http://127.0.0.1:{port}/api/admin/tenants/{tenant['id']}", headers=admin
        ) as r:
            assert (200, tenant["site_key"]) == (r.status, (await r.json())["site_key"])
        process.send_signal(signal.SIGTERM)
        assert 0 == await asyncio.wait_for(process.wait(), 30)
