"""Tables of billing: price books, the IVU table, plan history, billing profiles, invoices
and credit notes with their gap-free counters, payments and late fees (migration 0005)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from console.store.models import Base, BigId


class PriceBookRow(Base):
    """A price book as the provider sent it (`PriceBook.to_wire`), in force from its date."""

    __tablename__ = "price_books"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    effective_from: Mapped[str] = mapped_column(String(10))
    plans: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class IvuRateRow(Base):
    """Puerto Rico's IVU rates in basis points, in force from a day."""

    __tablename__ = "ivu_rates"

    effective_from: Mapped[str] = mapped_column(String(10), primary_key=True)
    state_bp: Mapped[int] = mapped_column(Integer)
    municipal_bp: Mapped[int] = mapped_column(Integer)
    b2b_bp: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class PlanChangeRow(Base):
    """A tenant's plan from an instant on (written with the tenant and each plan change)."""

    __tablename__ = "plan_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    plan: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]


class BillingProfileRow(Base):
    """Who the dealer is on an invoice (`Profile.to_wire`)."""

    __tablename__ = "billing_profiles"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class DocumentCounterRow(Base):
    """The last number given in a series (invoices, credit notes): taken under a row lock
    in the transaction that writes the document, so numbers have no gaps."""

    __tablename__ = "document_counters"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class InvoiceRow(Base):
    """An issued invoice or credit note. `document` never changes once written; only the
    account's state does (void, disputed, a credit note's balance used)."""

    __tablename__ = "invoices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    # invoice, credit_note
    kind: Mapped[str] = mapped_column(String(12))
    number: Mapped[str] = mapped_column(String(20), unique=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    issued_on: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[str] = mapped_column(String(10))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    carried_out_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    # the chats and leads billed, for tracing each line
    trace: Mapped[dict[str, Any]] = mapped_column(JSON)
    # "<tenant>:<period>" while the invoice stands; NULL once void (or for a credit note)
    live_key: Mapped[str | None] = mapped_column(String(60), unique=True, nullable=True)
    corrects_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # a credit note: what was paid on the voided invoice, owed back as a credit balance
    balance_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_in_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    void_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class PaymentRow(Base):
    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[str] = mapped_column(String(10))
    reference: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class LateFeeRow(Base):
    """A late fee charged on an overdue invoice (once per day of charge: every process may
    run the job), billed on the tenant's next invoice."""

    __tablename__ = "late_fees"
    __table_args__ = (UniqueConstraint("invoice_id", "charged_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    charged_on: Mapped[str] = mapped_column(String(10))
    principal_cents: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    billed_in_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime]
