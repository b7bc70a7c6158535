"""What a security incident obliges the provider to do, and by when.

- Puerto Rico's Law 111 of 2005 (as amended): the owner of the data notifies the
  Department of Consumer Affairs (DACO) within 10 days of detecting the breach, and the
  people affected as expeditiously as possible.
- The FTC Safeguards Rule (16 CFR 314.4(j), in force since May 2024): a financial
  institution (a car dealer is one) notifies the FTC within 30 days of discovering that
  the unencrypted information of 500 or more consumers was acquired without authorisation.

Pure: the time is a parameter. Legal advice it is not; it is the register's reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DACO_DAYS = 10
FTC_DAYS = 30
FTC_MIN_CONSUMERS = 500


@dataclass(frozen=True)
class Deadline:
    notice: str  # daco, ftc, visitors
    due_at: datetime | None  # None: as soon as possible
    sent: bool
    overdue: bool
    why: str


def deadlines(
    discovered_at: datetime, visitors: int, sent: set[str], now: datetime
) -> list[Deadline]:
    """The notices this incident needs, when each is due, and which are overdue now."""
    found: list[Deadline] = []

    def add(notice: str, due: datetime | None, why: str) -> None:
        done = notice in sent
        late = not done and due is not None and now > due
        found.append(Deadline(notice, due, done, late, why))

    if visitors > 0:
        add(
            "daco",
            discovered_at + timedelta(days=DACO_DAYS),
            "Puerto Rico Law 111: notice to DACO within 10 days of detection",
        )
        add("visitors", None, "Law 111: notice to the people affected as soon as possible")
    if visitors >= FTC_MIN_CONSUMERS:
        add(
            "ftc",
            discovered_at + timedelta(days=FTC_DAYS),
            "FTC Safeguards Rule: notice to the FTC within 30 days (500 or more consumers)",
        )
    return found
