"""绩效: the weights of the departments' performance score (one row)

Revision ID: 0027_performance_settings
Revises: 0026_rectifications
Create Date: 2026-12-03 20:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0027_performance_settings'
down_revision = '0026_rectifications'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'performance_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('on_time', sa.Integer(), nullable=False),
        sa.Column('good_rating', sa.Integer(), nullable=False),
        sa.Column('rectification', sa.Integer(), nullable=False),
        sa.Column('supervision', sa.Integer(), nullable=False),
        sa.Column('order_cap', sa.Integer(), nullable=False),
        sa.Column('updated_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_performance_settings_updated_by_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_settings')),
    )


def downgrade() -> None:
    op.drop_table('performance_settings')
