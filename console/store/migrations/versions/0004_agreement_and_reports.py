"""service agreements, one-off closures, closed SLA months, presence history, chats by date

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sla_agreements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.String(length=10), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sla_agreements_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_agreements')),
    sa.UniqueConstraint('tenant_id', 'version', name=op.f('uq_sla_agreements_tenant_id'))
    )
    with op.batch_alter_table('sla_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_agreements_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('closures',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_closures_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'day', name=op.f('pk_closures'))
    )
    op.create_table('sla_months',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('agreement_version', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('figures_sha256', sa.String(length=64), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('discrepancy', sa.JSON(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sla_months_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'month', name=op.f('pk_sla_months'))
    )
    op.create_table('presence_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_presence_events_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presence_events'))
    )
    with op.batch_alter_table('presence_events', schema=None) as batch_op:
        batch_op.create_index('ix_presence_events_tenant_at', ['tenant_id', 'at'], unique=False)

    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.create_index('ix_chats_tenant_created', ['tenant_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_index('ix_chats_tenant_created')
    with op.batch_alter_table('presence_events', schema=None) as batch_op:
        batch_op.drop_index('ix_presence_events_tenant_at')
    op.drop_table('presence_events')
    op.drop_table('sla_months')
    op.drop_table('closures')
    with op.batch_alter_table('sla_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_agreements_tenant_id'))
    op.drop_table('sla_agreements')
