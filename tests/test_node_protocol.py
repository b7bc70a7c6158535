"""Protocol compatibility: the JavaScript socket.io-client drives a whole chat through the hub."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from tests.support.harness import ORIGIN, PASSWORD, LiveHub
from tests.support.tools import require_node

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "protocol_chat.mjs"

pytestmark = pytest.mark.node


async def test_node_socketio_client_runs_a_whole_chat(hub: LiveHub) -> None:
    node = require_node(NODE_DIR, "socket.io-client", "the JavaScript socket.io-client")
    tenant = await hub.tenant(languages=["es", "en"])
    agent = await hub.agent(tenant, languages=["es"], name="María")
    env = {
        **os.environ,
        "HUB_URL": hub.url,
        "SITE_KEY": tenant["site_key"],
        "ORIGIN": ORIGIN,
        "AGENT_EMAIL": agent["email"],
        "AGENT_PASSWORD": PASSWORD,
    }
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        env=env,
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["ok"] is True, (summary, err.decode()[-2000:])
    assert 0 == process.returncode

    # What the JavaScript client saw is what the hub stored, in order.
    status, chat = await hub.request(
        "GET", f"/api/chats/{summary['chat_id']}", token=agent["token"]
    )
    assert 200 == status
    assert summary["messages"] == [m["text"] for m in chat["messages"]]
    assert "closed" == chat["status"]
