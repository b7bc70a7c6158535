"""Second factors (TOTP) of agents and operators, and the provider's operator accounts.

The TOTP secret is stored encrypted with the data key; recovery codes only as hashes; the
last accepted step is kept so that a code is used once (`accept` is one conditional
UPDATE: two logins racing with the same code cannot both pass).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from console.store.base import StorePart
from console.store.models import new_id
from console.store.protection_models import MfaFactorRow, OperatorRow


@dataclass(frozen=True)
class Factor:
    principal_id: str
    secret: str
    confirmed: bool
    last_step: int | None
    recovery_left: int


@dataclass(frozen=True)
class Operator:
    id: str
    email: str
    name: str
    active: bool

    def to_wire(self) -> dict[str, str | bool]:
        return {"id": self.id, "email": self.email, "name": self.name, "active": self.active}


class OperatorExistsError(Exception):
    """An operator with this e-mail exists already."""


def _operator(row: OperatorRow) -> Operator:
    return Operator(row.id, row.email, row.name, row.deactivated_at is None)


class MfaRepository(StorePart):
    async def factor(self, principal_id: str) -> Factor | None:
        async with self.store.reading() as s:
            row = await s.get(MfaFactorRow, principal_id)
            if row is None:
                return None
            return Factor(
                principal_id=row.principal_id,
                secret=self.store.cipher.decrypt(row.secret_enc),
                confirmed=row.confirmed_at is not None,
                last_step=row.last_step,
                recovery_left=len(row.recovery_hashes or []),
            )

    async def start_enrolment(self, principal_id: str, secret: str) -> bool:
        """A new unconfirmed secret (replacing an unconfirmed one); False when a confirmed
        factor exists (it must be removed first)."""
        async with self.store.session() as s, s.begin():
            row = await s.get(MfaFactorRow, principal_id)
            if row is not None and row.confirmed_at is not None:
                return False
            if row is None:
                row = MfaFactorRow(principal_id=principal_id, recovery_hashes=[])
                s.add(row)
            row.secret_enc = self.store.cipher.encrypt(secret)
            row.created_at = self.store.clock.now()
            row.last_step = None
            row.recovery_hashes = []
        return True

    async def accept(self, principal_id: str, step: int) -> bool:
        """Spend the code of `step`: False when it (or a later one) was used already."""
        statement = (
            update(MfaFactorRow)
            .where(MfaFactorRow.principal_id == principal_id)
            .where((MfaFactorRow.last_step.is_(None)) | (MfaFactorRow.last_step < step))
            .values(last_step=step)
        )
        return bool(await self.store.write(statement))

    async def confirm(self, principal_id: str, recovery_hashes: list[str]) -> None:
        await self.store.write(
            update(MfaFactorRow)
            .where(MfaFactorRow.principal_id == principal_id)
            .values(confirmed_at=self.store.clock.now(), recovery_hashes=recovery_hashes)
        )

    async def use_recovery_code(self, principal_id: str, code_hash: str) -> bool:
        """Spend one recovery code (each works once)."""
        async with self.store.session() as s, s.begin():
            row = await s.get(MfaFactorRow, principal_id, with_for_update=True)
            if row is None or row.confirmed_at is None or code_hash not in row.recovery_hashes:
                return False
            row.recovery_hashes = [h for h in row.recovery_hashes if h != code_hash]
        return True

    async def remove(self, principal_id: str) -> bool:
        async with self.store.session() as s, s.begin():
            row = await s.get(MfaFactorRow, principal_id)
            if row is None:
                return False
            await s.delete(row)
        return True

    # -- operators -----------------------------------------------------------------------

    async def create_operator(self, *, email: str, name: str, password_hash: str) -> Operator:
        row = OperatorRow(
            id=new_id(),
            email=email.strip().lower(),
            name=name,
            password_hash=password_hash,
            created_at=self.store.clock.now(),
        )
        try:
            await self.store.add(row)
        except IntegrityError:
            raise OperatorExistsError(f"an operator with e-mail {row.email} exists") from None
        return _operator(row)

    async def operator_login(self, email: str) -> tuple[Operator, str] | None:
        async with self.store.reading() as s:
            row = await s.scalar(
                select(OperatorRow).where(OperatorRow.email == email.strip().lower())
            )
            return (_operator(row), row.password_hash) if row else None

    async def get_operator(self, operator_id: str) -> Operator | None:
        async with self.store.reading() as s:
            row = await s.get(OperatorRow, operator_id)
            return _operator(row) if row else None

    async def list_operators(self) -> list[Operator]:
        async with self.store.reading() as s:
            rows = await s.scalars(select(OperatorRow).order_by(OperatorRow.created_at))
            return [_operator(r) for r in rows]

    async def deactivate_operator(self, operator_id: str) -> Operator | None:
        """The operator can no longer log in, and their tokens stop working at once (every
        request with an operator's token reads this row). None: no such operator."""
        async with self.store.session() as s, s.begin():
            row = await s.get(OperatorRow, operator_id)
            if row is None:
                return None
            if row.deactivated_at is None:
                row.deactivated_at = self.store.clock.now()
            return _operator(row)
