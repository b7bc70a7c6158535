"""Working a ticket: what a PATCH may say and who may do it, over the store.

Any agent of the tenant may take a ticket (assign it to themselves), write a note, and
move it between open, in_progress, resolved and no_contact (back to open is a reopen).
Giving a ticket to someone else is for supervisors and admins. Every refusal says why.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from console.domain.errors import ProtocolError
from console.domain.types import TICKET_STATUSES, Agent, Ticket
from console.store.repository import Store

MAX_NOTE = 2000
STATUS_CHOICES = ", ".join(TICKET_STATUSES)


def checked_status(value: str) -> str:
    if value not in TICKET_STATUSES:
        raise ValueError(f"status must be one of {STATUS_CHOICES}, not {value[:40]!r}")
    return value


class TicketPatch(BaseModel):
    """`PATCH /api/tickets/{id}`: any of the three; `assignee_id: null` unassigns."""

    model_config = ConfigDict(extra="forbid", strict=True)

    status: str | None = None
    assignee_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        return None if value is None else checked_status(value)

    @field_validator("note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        if value is not None and len(value) > MAX_NOTE:
            raise ValueError(f"note is {len(value)} characters; at most {MAX_NOTE}")
        return value


async def work(store: Store, agent: Agent, ticket_id: str, patch: TicketPatch) -> Ticket:
    """Apply a PATCH from `agent`; `not_found` for a ticket of another tenant."""
    current = await store.tickets.get(agent.tenant_id, ticket_id)
    if current is None:
        raise ProtocolError("not_found", f"no ticket {ticket_id} in your tenant")
    given = patch.model_fields_set
    if not given:
        raise ProtocolError("invalid_payload", "send at least one of status, assignee_id, note")
    assignee = patch.assignee_id
    if assignee is not None and not await store.tickets.agent_of(agent.tenant_id, assignee):
        raise ProtocolError(
            "invalid_payload", f"assignee_id: no active agent {assignee[:64]} in your tenant"
        )
    if "assignee_id" in given and assignee != agent.id and not agent.supervises:
        raise ProtocolError(
            "forbidden", "only a supervisor or an admin gives a ticket to someone else"
        )
    if patch.status == "in_progress" and "assignee_id" not in given and not current.assignee_id:
        assignee = agent.id  # whoever starts working it has taken it
    updated = await store.tickets.update(
        agent.tenant_id,
        ticket_id,
        agent_id=agent.id,
        status=patch.status,
        assignee_id=assignee,
        unassign="assignee_id" in given and assignee is None,
        note=patch.note,
    )
    if updated is None:
        raise ProtocolError("not_found", f"no ticket {ticket_id} in your tenant")
    return updated
