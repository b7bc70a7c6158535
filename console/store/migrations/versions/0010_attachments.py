"""attachments: the files sent in chats, and a message's attachment

Revision ID: 0010_attachments
Revises: 0009_personal_invitations
Create Date: 2026-12-07 02:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010_attachments'
down_revision: str | None = '0009_personal_invitations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachment_enc', sa.Text(), nullable=True))
    op.create_table('attachments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('chat_id', sa.String(length=36), nullable=False),
    sa.Column('author', sa.String(length=10), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=True),
    sa.Column('name_enc', sa.Text(), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('thumbnail_size', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['chats.id'], name=op.f('fk_attachments_chat_id_chats')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_attachments_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    op.create_index('ix_attachments_chat_id', 'attachments', ['chat_id'], unique=False)
    # the sweep's look-up: files to delete, uploads that never finished
    op.create_index('ix_attachments_status_created', 'attachments', ['status', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_attachments_status_created', table_name='attachments')
    op.drop_index('ix_attachments_chat_id', table_name='attachments')
    op.drop_table('attachments')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('attachment_enc')
