"""Token buckets per visitor or agent, across their tabs, and per client address: whoever
floods gets `rate_limited`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from console.domain.errors import ProtocolError
from console.security.addresses import request_address
from console.settings import Settings


@dataclass
class TokenBucket:
    rate: float
    burst: int
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)
        self.updated = time.monotonic()

    def _refill(self, now: float | None) -> None:
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def available(self, now: float | None = None) -> bool:
        self._refill(now)
        return self.tokens >= 1

    def take(self, now: float | None = None) -> bool:
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Buckets:
    """One bucket per key (a visitor, an agent, an IP address), pruned once refilled."""

    PRUNE_ABOVE = 10_000

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    @classmethod
    def per_minute(cls, count: int) -> Buckets:
        """`count` a minute, all of them at once at most."""
        return cls(count / 60, count)

    def take(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.PRUNE_ABOVE:
                self.prune()
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
        return bucket.take()

    def available(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        return bucket is None or bucket.available()

    def prune(self, now: float | None = None) -> None:
        """Forget buckets that have refilled: they would behave exactly like new ones."""
        now = time.monotonic() if now is None else now
        full_after = self.burst / self.rate if self.rate > 0 else float("inf")
        self._buckets = {
            key: bucket
            for key, bucket in self._buckets.items()
            if now - bucket.updated < full_after
        }

    def __len__(self) -> int:
        return len(self._buckets)


class AddressBudget:
    """What the visitors of one tenant from one client address may do together in a minute
    (chat starts: CHARLA_ADDRESS_CHAT_STARTS_PER_MINUTE): a visitor id is free to make up, an
    address is not. The address is the peer's of the socket's first request, or behind
    CHARLA_TRUSTED_PROXIES the one they forwarded."""

    def __init__(self, per_minute: int, trusted: tuple[str, ...]) -> None:
        self.buckets = Buckets.per_minute(per_minute)
        self.trusted = trusted

    @classmethod
    def chat_starts(cls, settings: Settings) -> AddressBudget:
        return cls(settings.limits.address_chat_starts_per_minute, settings.trusted_proxies)

    def take(self, environ: dict[str, Any] | None, tenant_id: str) -> None:
        """One start for the socket whose connection's `environ` this is, or `rate_limited`."""
        request = (environ or {}).get("aiohttp.request")
        address = "unknown" if request is None else request_address(request, self.trusted)
        if not self.buckets.take(f"{tenant_id}|{address}"):
            raise ProtocolError(
                "rate_limited", "too many chats started from this address; wait a minute"
            )
