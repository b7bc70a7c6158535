"""The message writer's chats with their row versions (console/store/messages_pg.py) are
bounded: past `size`, the chat kept longest is forgotten first, and a chat put again counts
as new."""

from __future__ import annotations

from datetime import UTC, datetime

from console.domain.types import Chat
from console.store.messages_pg import ChatVersions


def chat(n: int) -> Chat:
    return Chat(
        id=f"c{n}",
        tenant_id="t",
        visitor_id=f"v{n}",
        status="active",
        language="es",
        agent_id=None,
        priority=0,
        overflowed=False,
        close_reason=None,
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
    )


def test_past_its_size_the_chat_kept_longest_goes_first() -> None:
    versions = ChatVersions(size=3)
    for n in range(3):
        versions.put(chat(n), f"{100 + n}")
    versions.put(chat(0), "200")  # read again: now the newest
    versions.put(chat(3), "103")

    assert versions.get("c1") is None
    assert [("c0", "200"), ("c2", "102"), ("c3", "103")] == [
        (seen[0].id, seen[1]) for n in (0, 2, 3) if (seen := versions.get(f"c{n}"))
    ]


def test_a_forgotten_chat_is_read_again() -> None:
    versions = ChatVersions(size=3)
    versions.put(chat(1), "7")
    versions.forget("c1")
    versions.forget("c9")  # never kept: nothing to do
    assert versions.get("c1") is None
