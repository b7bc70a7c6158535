"""What visitors' and agents' actions share about connections: every socket is counted in
the routing state (across processes), a connect that fails midway is uncounted again, and
a socket's typing state goes with it. Each side says what its last socket leaving means."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

from prometheus_client import Gauge

from console.hub.context import HubContext
from console.hub.conversation import Conversation


@dataclass(eq=False)
class SocketSide(ABC):
    ctx: HubContext
    conversation: Conversation
    kind: ClassVar[Literal["visitor", "agent"]]

    @property
    def connections(self) -> Gauge:
        """The metric of this side's connections."""
        metrics = self.ctx.metrics
        return metrics.connected_visitors if self.kind == "visitor" else metrics.connected_agents

    @abstractmethod
    async def last_socket_gone(self, tenant_id: str, owner_id: str) -> None:
        """The owner has no socket left anywhere: their grace period starts."""

    async def socket_gone(self, tenant_id: str, owner_id: str, sid: str) -> None:
        """One of the owner's sockets is gone (here, or with a dead process:
        console.hub.cluster)."""
        if await self.ctx.state.remove_socket(self.kind, owner_id, sid, tenant_id=tenant_id) > 0:
            return
        await self.last_socket_gone(tenant_id, owner_id)

    async def opened(
        self, tenant_id: str, owner_id: str, sid: str, back: Callable[[], Awaitable[None]]
    ) -> None:
        """Count the socket, then `back`: what this side does when someone (re)connects."""
        self.connections.inc()
        try:
            await self.ctx.state.add_socket(self.kind, owner_id, sid, tenant_id=tenant_id)
            await back()
        except Exception:
            # The connection is refused and will never disconnect: uncount its socket, or
            # the owner's last real disconnect would leave them counted with no one there.
            with contextlib.suppress(Exception):
                await self.disconnected(tenant_id, owner_id, sid)
            raise

    async def disconnected(self, tenant_id: str, owner_id: str, sid: str) -> None:
        self.connections.dec()
        await self.conversation.typing.forget(sid)
        await self.socket_gone(tenant_id, owner_id, sid)
