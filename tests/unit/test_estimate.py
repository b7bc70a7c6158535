"""Queue positions and wait estimates, as pure arithmetic over a snapshot of the queue."""

from __future__ import annotations

import pytest

from console.routing.estimate import Position, capacity_for, estimate_wait_s, positions
from console.routing.state import AgentPresence, Waiting

NOW_MS = 1_800_000_000_000


def agent(
    agent_id: str, languages: tuple[str, ...], *, max_chats: int = 3, status: str = "online"
) -> AgentPresence:
    return AgentPresence(
        agent_id=agent_id, status=status, load=0, max_chats=max_chats, languages=languages
    )


def waiting(chat_id: str, language: str, *, waited_ms: int = 0) -> Waiting:
    return Waiting(chat_id=chat_id, language=language, since_ms=NOW_MS - waited_ms, priority=False)


def test_capacity_counts_slots_of_online_agents_who_speak_the_language() -> None:
    agents = [
        agent("maria", ("es",), max_chats=3),
        agent("ana", ("es", "en"), max_chats=2),
        agent("john", ("en",), max_chats=5),
        agent("luis", ("es",), max_chats=4, status="away"),
        agent("rosa", ("es",), max_chats=4, status="offline"),
    ]
    assert 5 == capacity_for("es", agents)
    assert 7 == capacity_for("en", agents)
    assert 0 == capacity_for("fr", agents)


@pytest.mark.parametrize(
    ("position", "capacity", "avg_handle_s", "expected"),
    [
        (1, 1, 240.0, 240),
        (3, 1, 240.0, 720),
        (1, 4, 240.0, 60),
        (2, 3, 100.0, 67),  # 66.67 rounds up: the estimate never promises too little
        (5, 2, 0.0, 0),
    ],
)
def test_wait_estimate_is_position_times_handle_time_per_slot_rounded_up(
    position: int, capacity: int, avg_handle_s: float, expected: int
) -> None:
    assert expected == estimate_wait_s(position, capacity, avg_handle_s)


def test_wait_estimate_without_capacity_counts_as_one_slot() -> None:
    assert 480 == estimate_wait_s(2, 0, 240.0)


def test_positions_count_within_each_language_in_queue_order() -> None:
    queue = [
        waiting("c1", "es", waited_ms=90_500),
        waiting("c2", "en", waited_ms=60_000),
        waiting("c3", "es", waited_ms=30_999),
        waiting("c4", "es", waited_ms=0),
        waiting("c5", "en", waited_ms=10_000),
    ]
    agents = [agent("maria", ("es",), max_chats=2), agent("john", ("en",), max_chats=1)]

    places = positions(queue, agents, avg_handle_s=240.0, now_ms=NOW_MS)

    assert [
        Position("c1", "es", position=1, estimated_wait_s=120, waiting_s=90),
        Position("c2", "en", position=1, estimated_wait_s=240, waiting_s=60),
        Position("c3", "es", position=2, estimated_wait_s=240, waiting_s=30),
        Position("c4", "es", position=3, estimated_wait_s=360, waiting_s=0),
        Position("c5", "en", position=2, estimated_wait_s=480, waiting_s=10),
    ] == places


def test_positions_of_an_empty_queue_are_empty() -> None:
    assert [] == positions([], [agent("maria", ("es",))], avg_handle_s=240.0, now_ms=NOW_MS)


def test_waiting_time_is_never_negative_when_clocks_disagree() -> None:
    ahead_of_us = Waiting(chat_id="c1", language="es", since_ms=NOW_MS + 5_000, priority=False)

    [place] = positions([ahead_of_us], [], avg_handle_s=240.0, now_ms=NOW_MS)

    assert 0 == place.waiting_s
    assert 240 == place.estimated_wait_s
