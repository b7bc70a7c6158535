"""The one place Charla reads the time of day, so that it can be handed a different one.

Opening hours, holidays, grace periods and (soon) SLA timers depend on the date; a test of
"a chat started on a holiday" must not depend on the day it runs. The app factory hands one
clock to the hub and the store; pure code (console/contract/) takes the time as a value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """Time that runs at the real pace from `start`: for tests and demonstrations of a
    given day (a holiday, a Sunday night) with grace periods and timers still running."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


def epoch_ms(at: datetime) -> int:
    """Milliseconds since the epoch, as routing state in Redis keeps instants."""
    return int(at.timestamp() * 1000)
