"""data protection: audit log (append-only, hash chain), MFA factors, operators, retention
policies, legal holds, purge records, incidents; chats.purged_at

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('chain', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', When, nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('chain', 'seq', name=op.f('uq_audit_events_chain')),
    )
    op.create_index('ix_audit_events_chain_at', 'audit_events', ['chain', 'at'], unique=False)
    # Append-only, whoever connects: an UPDATE or DELETE of an audit row fails.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "CREATE FUNCTION charla_audit_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'audit_events is append-only'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION charla_audit_append_only()"
        )
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )

    op.create_table('mfa_factors',
    sa.Column('principal_id', sa.String(length=36), nullable=False),
    sa.Column('secret_enc', sa.Text(), nullable=False),
    sa.Column('confirmed_at', When, nullable=True),
    sa.Column('last_step', BigId, nullable=True),
    sa.Column('recovery_hashes', sa.JSON(), nullable=False),
    sa.Column('created_at', When, nullable=False),
    sa.PrimaryKeyConstraint('principal_id', name=op.f('pk_mfa_factors')),
    )
    op.create_table('operators',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', When, nullable=False),
    sa.Column('deactivated_at', When, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operators')),
    sa.UniqueConstraint('email', name=op.f('uq_operators_email')),
    )
    op.create_table('tenant_policies',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('transcripts_days', sa.Integer(), nullable=False),
    sa.Column('visitor_data_days', sa.Integer(), nullable=False),
    sa.Column('page_views_days', sa.Integer(), nullable=False),
    sa.Column('mfa_roles', sa.JSON(), nullable=False),
    sa.Column('privacy_notice', sa.JSON(), nullable=False),
    sa.Column('updated_at', When, nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_tenant_policies')),
    )
    op.create_table('legal_holds',
    sa.Column('chat_id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('placed_by', sa.String(length=120), nullable=False),
    sa.Column('placed_at', When, nullable=False),
    sa.PrimaryKeyConstraint('chat_id', name=op.f('pk_legal_holds')),
    )
    op.create_index(op.f('ix_legal_holds_tenant_id'), 'legal_holds', ['tenant_id'], unique=False)
    op.create_table('purge_runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('ran_at', When, nullable=False),
    sa.Column('cutoffs', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purge_runs')),
    )
    op.create_index('ix_purge_runs_tenant_ran', 'purge_runs', ['tenant_id', 'ran_at'], unique=False)
    op.create_table('incidents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('opened_at', When, nullable=False),
    sa.Column('discovered_at', When, nullable=False),
    sa.Column('affected', sa.JSON(), nullable=False),
    sa.Column('notices', sa.JSON(), nullable=False),
    sa.Column('closed_at', When, nullable=True),
    sa.Column('opened_by', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    )
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', When, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chats', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
    op.drop_table('incidents')
    op.drop_index('ix_purge_runs_tenant_ran', table_name='purge_runs')
    op.drop_table('purge_runs')
    op.drop_index(op.f('ix_legal_holds_tenant_id'), table_name='legal_holds')
    op.drop_table('legal_holds')
    op.drop_table('tenant_policies')
    op.drop_table('operators')
    op.drop_table('mfa_factors')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION charla_audit_append_only()")
    op.drop_index('ix_audit_events_chain_at', table_name='audit_events')
    op.drop_table('audit_events')
