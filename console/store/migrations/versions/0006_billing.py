"""billing: price books, IVU rates, plan history, billing profiles, invoices, payments, late fees

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 14:00:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('price_books',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('effective_from', sa.String(length=10), nullable=False),
    sa.Column('plans', sa.JSON(), nullable=False),
    sa.Column('created_at', When, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_books'))
    )
    ivu = op.create_table('ivu_rates',
    sa.Column('effective_from', sa.String(length=10), nullable=False),
    sa.Column('state_bp', sa.Integer(), nullable=False),
    sa.Column('municipal_bp', sa.Integer(), nullable=False),
    sa.Column('b2b_bp', sa.Integer(), nullable=False),
    sa.Column('created_at', When, nullable=False),
    sa.PrimaryKeyConstraint('effective_from', name=op.f('pk_ivu_rates'))
    )
    op.create_table('plan_changes',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('plan', sa.String(length=20), nullable=False),
    sa.Column('at', When, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_plan_changes_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_changes'))
    )
    op.create_index(op.f('ix_plan_changes_tenant_id'), 'plan_changes', ['tenant_id'], unique=False)
    op.create_table('billing_profiles',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('updated_at', When, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_billing_profiles_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_billing_profiles'))
    )
    counters = op.create_table('document_counters',
    sa.Column('series', sa.String(length=20), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', name=op.f('pk_document_counters'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('issued_on', sa.String(length=10), nullable=False),
    sa.Column('due_on', sa.String(length=10), nullable=False),
    sa.Column('total_cents', sa.BigInteger(), nullable=False),
    sa.Column('carried_out_cents', sa.BigInteger(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('trace', sa.JSON(), nullable=False),
    sa.Column('live_key', sa.String(length=60), nullable=True),
    sa.Column('corrects_id', sa.String(length=36), nullable=True),
    sa.Column('balance_cents', sa.BigInteger(), nullable=False),
    sa.Column('applied_in_id', sa.String(length=36), nullable=True),
    sa.Column('voided_at', When, nullable=True),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.Column('disputed', sa.Boolean(), nullable=False),
    sa.Column('created_at', When, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_invoices_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number')),
    sa.UniqueConstraint('live_key', name=op.f('uq_invoices_live_key'))
    )
    op.create_index(op.f('ix_invoices_tenant_id'), 'invoices', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_invoices_period'), 'invoices', ['period'], unique=False)
    op.create_table('payments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.String(length=10), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('created_at', When, nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payments_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    op.create_index(op.f('ix_payments_invoice_id'), 'payments', ['invoice_id'], unique=False)
    op.create_table('late_fees',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('charged_on', sa.String(length=10), nullable=False),
    sa.Column('principal_cents', sa.BigInteger(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('billed_in_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', When, nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_late_fees_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_late_fees')),
    sa.UniqueConstraint('invoice_id', 'charged_on', name=op.f('uq_late_fees_invoice_id'))
    )
    op.create_index(op.f('ix_late_fees_invoice_id'), 'late_fees', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_late_fees_tenant_id'), 'late_fees', ['tenant_id'], unique=False)
    # The IVU in force since 2015-10-01 (state 10.5%, municipal 1%, B2B services 4%), the
    # counters of both series, and each tenant's plan as it stands, from its creation.
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == 'sqlite':  # as UTCDateTime stores it there
        now = now.replace(tzinfo=None)
    op.bulk_insert(ivu, [{'effective_from': '2015-10-01', 'state_bp': 1050,
                          'municipal_bp': 100, 'b2b_bp': 400, 'created_at': now}])
    op.bulk_insert(counters, [{'series': 'invoice', 'last': 0},
                              {'series': 'credit_note', 'last': 0}])
    op.execute(
        'INSERT INTO plan_changes (tenant_id, plan, at) SELECT id, plan, created_at FROM tenants'
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_late_fees_tenant_id'), table_name='late_fees')
    op.drop_index(op.f('ix_late_fees_invoice_id'), table_name='late_fees')
    op.drop_table('late_fees')
    op.drop_index(op.f('ix_payments_invoice_id'), table_name='payments')
    op.drop_table('payments')
    op.drop_index(op.f('ix_invoices_period'), table_name='invoices')
    op.drop_index(op.f('ix_invoices_tenant_id'), table_name='invoices')
    op.drop_table('invoices')
    op.drop_table('document_counters')
    op.drop_table('billing_profiles')
    op.drop_index(op.f('ix_plan_changes_tenant_id'), table_name='plan_changes')
    op.drop_table('plan_changes')
    op.drop_table('ivu_rates')
    op.drop_table('price_books')
