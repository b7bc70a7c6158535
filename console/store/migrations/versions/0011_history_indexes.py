"""history indexes: a tenant's chats by language and by status, newest first; contact
hashes covering the visitor, for History's search (bench/history_search.py,
docs/performance.md)

A language few chats are in (1 in 330 of 100,000) made the search walk every one of the
tenant's chats newest first: 325 ms at p95 on SQLite; an agent's chats of a status they
have few of, all of the agent's. (tenant, status) gains the time: what used it still can.
Looking up a common name word read each of its thousands of hash rows from the table for
its visitor's id: the index now holds it.

Revision ID: 0011_history_indexes
Revises: 0010_attachments
Create Date: 2026-12-07 03:00:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0011_history_indexes'
down_revision: str | None = '0010_attachments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_chats_tenant_language_created',
        'chats',
        ['tenant_id', 'language', 'created_at'],
        unique=False,
    )
    op.create_index(
        'ix_chats_tenant_status_created',
        'chats',
        ['tenant_id', 'status', 'created_at'],
        unique=False,
    )
    op.drop_index('ix_chats_tenant_status', table_name='chats')
    op.drop_index('ix_contact_keys_lookup', table_name='contact_keys')
    op.create_index(
        'ix_contact_keys_lookup',
        'contact_keys',
        ['tenant_id', 'kind', 'hash', 'visitor_id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_contact_keys_lookup', table_name='contact_keys')
    op.create_index(
        'ix_contact_keys_lookup', 'contact_keys', ['tenant_id', 'kind', 'hash'], unique=False
    )
    op.create_index('ix_chats_tenant_status', 'chats', ['tenant_id', 'status'], unique=False)
    op.drop_index('ix_chats_tenant_status_created', table_name='chats')
    op.drop_index('ix_chats_tenant_language_created', table_name='chats')
