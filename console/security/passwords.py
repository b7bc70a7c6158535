"""Agent password hashing with Argon2id.

Hashing costs tens of milliseconds of CPU by design, so it runs in a worker thread: the
hub's event loop keeps serving chats while someone logs in. argon2-cffi releases the GIL
during the computation, so the thread does run in parallel.
"""

from __future__ import annotations

import asyncio

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


class PasswordHasher:
    """Argon2id with argon2-cffi's recommended parameters unless told otherwise.

    Tests pass a small time and memory cost; production keeps the defaults, and
    `needs_rehash` lets the login path upgrade old hashes when the defaults change.
    """

    def __init__(
        self,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
    ) -> None:
        self._hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, hash: str, password: str) -> bool:
        """False for a wrong password and for a hash that is not Argon2 at all.

        A damaged hash in the database must look like a failed login to the caller,
        not like a server error that tells an attacker which accounts are different.
        """
        try:
            return await asyncio.to_thread(self._hasher.verify, hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hash: str) -> bool:
        """True when the hash was made with other parameters, or cannot be parsed."""
        try:
            return self._hasher.check_needs_rehash(hash)
        except InvalidHashError:
            return True
