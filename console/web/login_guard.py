"""Failed logins counted in Redis, so that every hub process behind the load balancer sees
the same count: past the limit an account (or an address) is locked out for the window.

An account's limit is tight (a guessed password or second-factor code); an address's is
looser, since a whole dealership may sit behind one address.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

PREFIX = "charla:login:failed:"


@dataclass(frozen=True)
class LoginGuard:
    redis: Redis
    account_failures: int = 10
    address_failures: int = 50
    window_s: int = 15 * 60

    def _keys(self, address: str, account: str) -> tuple[tuple[str, int], ...]:
        return (
            (f"{PREFIX}account:{account.strip().lower()}", self.account_failures),
            (f"{PREFIX}address:{address}", self.address_failures),
        )

    async def locked(self, address: str, account: str) -> bool:
        keys = self._keys(address, account)
        counts = await self.redis.mget([key for key, _ in keys])
        return any(int(count or 0) >= limit for count, (_, limit) in zip(counts, keys, strict=True))

    async def failed(self, address: str, account: str) -> None:
        """One more failure for both; each count lives for the window from its first."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for key, _ in self._keys(address, account):
                # the window starts at the first failure (INCR keeps the expiry)
                pipe.set(key, 0, ex=self.window_s, nx=True)
                pipe.incr(key)
            await pipe.execute()
