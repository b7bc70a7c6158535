"""the data key's check: a value encrypted with the data key, so that a process started
with another key refuses to start instead of failing on every read

Revision ID: 0008_key_check
Revises: 0007_history
Create Date: 2026-12-06 18:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008_key_check'
down_revision: str | None = '0007_history'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('key_checks',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('check_enc', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_key_checks'))
    )


def downgrade() -> None:
    op.drop_table('key_checks')
