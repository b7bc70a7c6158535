"""The JavaScript socket.io-client against the hub's frame limits: a long paste in one frame
up to the hard cap gets a `too_large` ack and the connection stays; a larger frame closes it."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from console.settings import Limits
from tests.support.harness import ORIGIN, LiveHub
from tests.support.tools import require_node

NODE_DIR = Path(__file__).parent / "node"

pytestmark = pytest.mark.node


async def test_node_client_pasting_a_long_text_gets_too_large_and_stays_connected(
    hub: LiveHub,
) -> None:
    node = require_node(NODE_DIR, "socket.io-client", "the JavaScript socket.io-client")
    tenant = await hub.tenant()
    env = {
        **os.environ,
        "HUB_URL": hub.url,
        "SITE_KEY": tenant["site_key"],
        "ORIGIN": ORIGIN,
        "HARD_CAP": str(Limits().max_frame_bytes),
    }
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "large_frame.mjs"),
        env=env,
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    summary = json.loads(out.decode().strip().splitlines()[-1])

    assert summary["ok"] is True, (summary, err.decode()[-2000:])
    assert "too_large" == summary["pasted"]["error"]["code"]
    assert "4000" in summary["pasted"]["error"]["message"]
    assert {"ok": True} == summary["after"]
    assert True is summary["connected_after"]
    assert "transport close" == summary["disconnected"]
