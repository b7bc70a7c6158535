"""The webhook connector against a real aiohttp receiver: what each answer means."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from integrations.base import Delivered, DeliveryError, PermanentError, RetryableError
from integrations.webhooks.connector import WebhookConnector, verify
from tests.support.connectors import job

SECRET = "receiver-secret-0123456789"


@pytest.fixture
async def receiver(aiohttp_server: Any) -> tuple[str, list[Any]]:
    seen: list[Any] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append((dict(request.headers), body))
        answer = request.match_info["answer"]
        if answer == "slow":
            await asyncio.sleep(3)
        if answer == "redirect":
            raise web.HTTPFound("/hook/ok")
        status = 204 if answer in ("ok", "slow") else int(answer)
        headers = {"Retry-After": "7"} if status == 429 else {}
        return web.Response(status=status, headers=headers)

    app = web.Application()
    app.router.add_post("/hook/{answer}", handle)
    server = await aiohttp_server(app)
    return str(server.make_url("/hook/")), seen


async def send(base: str, answer: str) -> Delivered:
    connector = WebhookConnector(timeout_s=1, allow_private=True)  # the receiver is local
    try:
        return await connector.deliver(
            job(
                destination="webhook",
                config={"url": base + answer},
                secret=SECRET,
                delivery_id="d-42",
            )
        )
    finally:
        await connector.close()


async def test_a_2xx_is_delivered_and_the_receiver_can_verify_the_body(
    receiver: tuple[str, list[Any]],
) -> None:
    base, seen = receiver
    assert Delivered(external_id=None, detail={"status": 204}) == await send(base, "ok")
    [(headers, body)] = seen
    assert verify(SECRET, body, headers["X-Charla-Signature"])
    assert ("lead.qualified", "d-42") == (headers["X-Charla-Event"], headers["X-Charla-Delivery"])


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("500", (RetryableError, "500", False, None)),
        ("429", (RetryableError, "429", True, 7.0)),
        ("410", (PermanentError, "410", False, None)),
        ("redirect", (PermanentError, "302", False, None)),
        ("slow", (RetryableError, "timeout", False, None)),
    ],
)
async def test_each_answer_is_retried_or_parked(
    receiver: tuple[str, list[Any]],
    answer: str,
    expected: tuple[type[DeliveryError], str, bool, float | None],
) -> None:
    base, _seen = receiver
    kind, code, throttled, retry_after = expected
    with pytest.raises(kind) as raised:
        await send(base, answer)
    assert (code, throttled, retry_after) == (
        raised.value.code,
        raised.value.throttled,
        raised.value.retry_after_s,
    )
