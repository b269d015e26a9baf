"""差评整改: the feedback told to the rater, and when

Revision ID: 0028_rectification_feedback
Revises: 0027_performance_settings
Create Date: 2026-12-03 20:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0028_rectification_feedback'
down_revision = '0027_performance_settings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rectifications') as batch:
        batch.add_column(sa.Column('feedback', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('fed_back_at', app.models.base.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rectifications') as batch:
        batch.drop_column('fed_back_at')
        batch.drop_column('feedback')
