"""Tables of data protection: the audit log, second factors, provider operators, retention
policies, legal holds, purge records and the incident register (migration 0003); the data
key's check (migration 0008)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from console.store.models import Base, BigId

PROVIDER_CHAIN = "provider"


class AuditEventRow(Base):
    """One audited action. Rows are never changed nor deleted (triggers refuse it); each one
    carries the hash of the one before it in its chain (a tenant's, or the provider's)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        Index("ix_audit_events_chain_at", "chain", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class MfaFactorRow(Base):
    """A TOTP factor of an agent or an operator (`principal_id`); on once confirmed."""

    __tablename__ = "mfa_factors"

    principal_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    secret_enc: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # the last 30-second step whose code was accepted: that code and older ones are refused
    last_step: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # SHA-256 of each unused recovery code (random, 50 bits and more: no slow hash needed)
    recovery_hashes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class OperatorRow(Base):
    """A person of the provider, with a login of their own beside CHARLA_ADMIN_TOKEN."""

    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None] = mapped_column(nullable=True)


class TenantPolicyRow(Base):
    """A tenant's data protection choices; a tenant without a row has the defaults."""

    __tablename__ = "tenant_policies"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    transcripts_days: Mapped[int] = mapped_column(Integer)
    visitor_data_days: Mapped[int] = mapped_column(Integer)
    page_views_days: Mapped[int] = mapped_column(Integer)
    # roles that must use a second factor beyond CHARLA_MFA_ROLES
    mfa_roles: Mapped[list[str]] = mapped_column(JSON)
    # the widget's privacy notice per language; empty: the default wording
    privacy_notice: Mapped[dict[str, str]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class LegalHoldRow(Base):
    """A chat the purge must not touch (litigation, a regulator's request)."""

    __tablename__ = "legal_holds"

    chat_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    placed_by: Mapped[str] = mapped_column(String(120))
    placed_at: Mapped[datetime]


class PurgeRunRow(Base):
    """What one purge of one tenant removed: its cutoffs and counts per table."""

    __tablename__ = "purge_runs"
    __table_args__ = (Index("ix_purge_runs_tenant_ran", "tenant_id", "ran_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    ran_at: Mapped[datetime]
    cutoffs: Mapped[dict[str, str]] = mapped_column(JSON)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)


class IncidentRow(Base):
    """A security incident in the provider's register."""

    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime]
    discovered_at: Mapped[datetime]
    # [{"tenant_id", "visitors"}]
    affected: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # [{"to": "daco"|"ftc"|"tenant"|"visitors", "sent_at", "note"?}]
    notices: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    opened_by: Mapped[str] = mapped_column(String(120))


class KeyCheckRow(Base):
    """A value encrypted with the data key by the first process that had it: a process whose
    CHARLA_DATA_KEY cannot read it refuses to start (console/store/keycheck.py). `*_enc`, so
    `charla rotate-key` re-encrypts it with the rest."""

    __tablename__ = "key_checks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    check_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
