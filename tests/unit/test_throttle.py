"""Typing notices: bounded in rate, and the last state always arrives."""

from __future__ import annotations

import asyncio

from console.realtime.throttle import TypingThrottle


async def test_a_flood_is_cut_to_one_notice_per_interval_and_the_last_state_wins() -> None:
    throttle = TypingThrottle(interval_s=0.1)
    sent: list[bool] = []

    async def forward(typing: bool) -> None:
        sent.append(typing)

    for n in range(40):
        await throttle.offer("sid", "chat", n % 2 == 0, forward)
    await throttle.offer("sid", "chat", False, forward)
    assert [True] == sent
    await asyncio.sleep(0.15)
    assert [True, False] == sent


async def test_a_repeated_state_inside_the_interval_is_not_sent_again() -> None:
    throttle = TypingThrottle(interval_s=0.05)
    sent: list[bool] = []

    async def forward(typing: bool) -> None:
        sent.append(typing)

    for _ in range(5):
        await throttle.offer("sid", "chat", True, forward)
    await asyncio.sleep(0.08)
    assert [True] == sent


async def test_chats_of_one_connection_are_throttled_separately() -> None:
    throttle = TypingThrottle(interval_s=10)
    sent: list[tuple[str, bool]] = []

    def to(chat: str):  # type: ignore[no-untyped-def]
        async def forward(typing: bool) -> None:
            sent.append((chat, typing))

        return forward

    await throttle.offer("sid", "a", True, to("a"))
    await throttle.offer("sid", "b", True, to("b"))
    assert [("a", True), ("b", True)] == sent


async def test_closing_a_connection_tells_the_other_side_typing_stopped() -> None:
    throttle = TypingThrottle(interval_s=10)
    sent: list[bool] = []

    async def forward(typing: bool) -> None:
        sent.append(typing)

    await throttle.offer("sid", "chat", True, forward)
    await throttle.offer("sid", "chat", False, forward)  # held: inside the interval
    await throttle.forget("sid")
    assert [True, False] == sent
    await throttle.forget("sid")
    assert [True, False] == sent
