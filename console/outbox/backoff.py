"""When to try a failed delivery again: exponential backoff with jitter and a cap.

Jitter keeps a destination that comes back after an outage from being hit by every parked
delivery in the same second.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 2.0
    cap_s: float = 600.0
    max_attempts: int = 8

    def delay_s(self, attempts: int, rng: random.Random | None = None) -> float:
        """The wait after the `attempts`-th failed attempt (1-based): between half and all
        of min(cap, base * 2^(attempts-1))."""
        ceiling = min(self.cap_s, self.base_s * 2.0 ** max(0, attempts - 1))
        draw: float = (rng or _rng).uniform(0.5, 1.0)
        return ceiling * draw

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def after_failure(
        self,
        attempts: int,
        *,
        throttled: bool = False,
        retry_after_s: float | None = None,
        throttle_pause_s: float = 0.0,
        rng: random.Random | None = None,
    ) -> float:
        """The wait before the next attempt. A rate limit waits at least what the
        destination asked for (Retry-After), or else `throttle_pause_s`: Salesforce's API
        limit is a 24-hour window, so retrying it in seconds only spends attempts."""
        delay = self.delay_s(attempts, rng)
        if retry_after_s is not None:
            return max(delay, min(retry_after_s, self.cap_s))
        if throttled:
            return max(delay, throttle_pause_s)
        return delay


_rng = random.Random()  # noqa: S311 - jitter, not security
