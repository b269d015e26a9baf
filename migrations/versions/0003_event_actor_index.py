"""case_events: the actor index also orders by time (the "done by me" inbox)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:10:00
"""
from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_case_events_actor')
        batch_op.create_index('ix_case_events_actor', ['actor_id', 'action', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_case_events_actor')
        batch_op.create_index('ix_case_events_actor', ['actor_id', 'action'], unique=False)
