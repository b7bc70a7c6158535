"""personal invitations: an invitation sent by an agent has no rule and names its agent

Revision ID: 0009_personal_invitations
Revises: 0008_key_check
Create Date: 2026-12-06 20:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009_personal_invitations'
down_revision: str | None = '0008_key_check'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.alter_column('rule_id', existing_type=sa.String(length=36), nullable=True)
        batch_op.add_column(sa.Column('agent_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM invitations WHERE rule_id IS NULL")
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('agent_id')
        batch_op.alter_column('rule_id', existing_type=sa.String(length=36), nullable=False)
