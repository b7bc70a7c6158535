"""Protocol compatibility: the JavaScript socket.io-client drives a whole chat through the hub."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.harness import ORIGIN, PASSWORD, LiveHub

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "protocol_chat.mjs"

pytestmark = pytest.mark.node


def require_node() -> str:
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "node is not on PATH"
    elif not (NODE_DIR / "node_modules" / "socket.io-client").is_dir():
        problem = "tests/node/node_modules is missing: run `bash .ci/setup`"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    assert node is not None
    return node


async def test_node_socketio_client_runs_a_whole_chat(hub: LiveHub) -> None:
    node = require_node()
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
