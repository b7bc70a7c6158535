"""A real SMTP server (aiosmtpd) on a free loopback port, for what sends mail: the hub's ADF
connector. A test brings the handler, which decides what the server answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.harness import free_port


@asynccontextmanager
async def smtp_server(handler: Any) -> AsyncIterator[int]:
    """The server's port, while the block runs; `handler` has aiosmtpd's `handle_*` hooks."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    await asyncio.to_thread(controller.start)
    try:
        yield port
    finally:
        await asyncio.to_thread(controller.stop)


class Inbox:
    """An aiosmtpd handler that keeps what it received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's handler name
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"
