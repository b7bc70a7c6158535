"""What the bot runner reads and writes besides messages: a tenant's script."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from console.security.crypto import DataCipher
from console.store.models import TenantRow


class BotRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: DataCipher) -> None:
        self._sessions = sessions
        self.cipher = cipher

    async def script_data(self, tenant_id: str) -> dict[str, Any] | None:
        """The tenant's stored script (tenants.bot_script), None for Charla's default."""
        async with self._sessions() as s:
            return await s.scalar(select(TenantRow.bot_script).where(TenantRow.id == tenant_id))

    async def set_script_data(self, tenant_id: str, data: dict[str, Any] | None) -> bool:
        """Store a script already validated with bots.script.load_script."""
        async with self._sessions() as s, s.begin():
            row = await s.get(TenantRow, tenant_id)
            if row is None:
                return False
            row.bot_script = data
            return True
