"""`appointment_problem`, the contract's pure check of a requested visit against a
tenant's hours and holidays, with the clock a parameter (the hub's tests show it through
`save_lead`; these cover what a hub test cannot set up cheaply)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bots.testing import DEALER_HOURS
from console.contract.hours import Schedule, appointment_problem

DEALER = Schedule("America/Puerto_Rico", DEALER_HOURS, "PR")
ALWAYS_OPEN = Schedule("America/Puerto_Rico", None, "PR")
# Tuesday 24 November 2026 in San Juan (UTC-4): 10:00 open, 22:00 closed
TUESDAY_10 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
TUESDAY_22 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "local", "now", "problem"),
    [
        (DEALER, "2026-11-24T17:59", TUESDAY_10, None),
        (DEALER, "2026-11-28T12:59", TUESDAY_10, None),  # Saturday until 13:00
        (
            DEALER,
            "2026-11-28T13:00",
            TUESDAY_10,
            "2026-11-28T13:00 is outside the dealer's hours (Saturday: 09:00-13:00); "
            "the next opening is 2026-11-30T09:00",
        ),
        (
            DEALER,
            "2026-11-24T20:00",
            TUESDAY_22,
            "2026-11-24T20:00 is in the past (it is 2026-11-24T22:00 at the dealer); "
            "the next opening is 2026-11-25T09:00",
        ),
        (ALWAYS_OPEN, "2026-11-29T03:00", TUESDAY_10, None),  # no weekly hours: any time
        (
            ALWAYS_OPEN,
            "2026-12-25T10:00",
            TUESDAY_10,
            "2026-12-25T10:00 falls on a holiday, when the dealer is closed; "
            "the next opening is 2026-12-26T00:00",
        ),
        (
            ALWAYS_OPEN,
            "2026-11-24T09:00",
            TUESDAY_10,
            "2026-11-24T09:00 is in the past (it is 2026-11-24T10:00 at the dealer); "
            "pick a later time",
        ),
    ],
)
def test_a_visit_is_bookable_only_ahead_and_inside_the_hours(
    schedule: Schedule, local: str, now: datetime, problem: str | None
) -> None:
    assert problem == appointment_problem(schedule, datetime.fromisoformat(local), now)


def test_the_local_time_must_be_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        appointment_problem(DEALER, TUESDAY_10, TUESDAY_10)
