"""What the bot runner reads and writes besides messages: a tenant's script."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from console.store.base import StorePart
from console.store.models import TenantRow


class BotRepository(StorePart):
    async def script_data(self, tenant_id: str) -> dict[str, Any] | None:
        """The tenant's stored script (tenants.bot_script), None for Charla's default."""
        async with self.store.session() as s:
            return await s.scalar(select(TenantRow.bot_script).where(TenantRow.id == tenant_id))

    async def set_script_data(self, tenant_id: str, data: dict[str, Any] | None) -> bool:
        """Store a script already validated with bots.script.load_script."""
        async with self.store.session() as s, s.begin():
            row = await s.get(TenantRow, tenant_id)
            if row is None:
                return False
            row.bot_script = data
            return True
