"""ix_cases_open on (closed_at, item_id, received_at): the statistics' backlog and in-progress counts per
item are then read from the index alone (measured with benchmarks/statistics.py at 1 000 000 cases)

Revision ID: 0024b_cases_open_index
Revises: 0024_statistics
Create Date: 2026-12-03 17:50:00
"""
from __future__ import annotations

from alembic import op

revision = '0024b_cases_open_index'
down_revision = '0024_statistics'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_cases_open', table_name='cases')
    op.create_index('ix_cases_open', 'cases', ['closed_at', 'item_id', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_open', table_name='cases')
    op.create_index('ix_cases_open', 'cases', ['closed_at', 'received_at'], unique=False)
