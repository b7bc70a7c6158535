"""history and supervision: keyed hashes of contact details, whispered messages

Revision ID: 0007_history
Revises: 0006
Create Date: 2026-12-06 16:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_history'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('whisper', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table('contact_keys',
    sa.Column('visitor_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_contact_keys_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['visitor_id'], ['visitors.id'], name=op.f('fk_contact_keys_visitor_id_visitors')),
    sa.PrimaryKeyConstraint('visitor_id', 'kind', 'hash', name=op.f('pk_contact_keys'))
    )
    op.create_index('ix_contact_keys_lookup', 'contact_keys', ['tenant_id', 'kind', 'hash'], unique=False)
    # the chats of one agent, newest first: an agent's History
    op.create_index('ix_chats_agent_created', 'chats', ['agent_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_chats_agent_created', table_name='chats')
    op.drop_index('ix_contact_keys_lookup', table_name='contact_keys')
    op.drop_table('contact_keys')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('whisper')
