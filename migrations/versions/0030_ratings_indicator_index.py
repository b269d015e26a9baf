"""好差评 indicators: a covering index on ratings (what the indicators count, by rating time)

Revision ID: 0030_ratings_indicator_index
Revises: 0029_stat_monthly
Create Date: 2026-12-03 20:55:00
"""
from __future__ import annotations

from alembic import op

revision = '0030_ratings_indicator_index'
down_revision = '0029_stat_monthly'
branch_labels = None
depends_on = None

COLUMNS = ['rated_at', 'seq', 'kind', 'level', 'department_id', 'item_id', 'window_id', 'officer_id', 'channel',
           'rated_by_id']


def upgrade() -> None:
    op.create_index('ix_ratings_indicators', 'ratings', COLUMNS)


def downgrade() -> None:
    op.drop_index('ix_ratings_indicators', table_name='ratings')
