"""statistics: per-day rollups of the case event log (stat_daily, stat_officer_daily, stat_durations),
their watermark, and an index for the live backlog (open cases by day received)

Revision ID: 0024_statistics
Revises: 0018_archive
Create Date: 2026-12-03 17:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0024_statistics'
down_revision = '0018_archive'
branch_labels = None
depends_on = None

MEASURES = ("received", "accepted", "finished", "refused", "withdrawn", "corrections", "on_time", "late")
KEYS = ("day", "department_id", "item_id", "channel")


def _keys() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column('day', sa.Date(), nullable=False), sa.Column('department_id', sa.Integer(), nullable=False),
            sa.Column('item_id', sa.Integer(), nullable=False), sa.Column('channel', sa.String(length=8), nullable=False)]


def _measures() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, sa.Integer(), nullable=False) for name in MEASURES]


def upgrade() -> None:
    op.create_table('stat_daily', *_keys(), *_measures(),
                    sa.PrimaryKeyConstraint(*KEYS, name=op.f('pk_stat_daily')))
    op.create_table('stat_officer_daily', *_keys(), sa.Column('officer_id', sa.Integer(), nullable=False),
                    *_measures(), sa.PrimaryKeyConstraint(*KEYS, 'officer_id', name=op.f('pk_stat_officer_daily')))
    op.create_table('stat_durations', *_keys(), sa.Column('stage', sa.String(length=16), nullable=False),
                    sa.Column('workdays', sa.Integer(), nullable=False), sa.Column('cases', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint(*KEYS, 'stage', 'workdays', name=op.f('pk_stat_durations')))
    op.create_table('stat_watermarks',
                    sa.Column('name', sa.String(length=32), nullable=False),
                    sa.Column('last_event_id', sa.Integer(), nullable=False),
                    sa.Column('updated_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('name', name=op.f('pk_stat_watermarks')))
    op.create_index('ix_cases_open', 'cases', ['closed_at', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_open', table_name='cases')
    for table in ('stat_watermarks', 'stat_durations', 'stat_officer_daily', 'stat_daily'):
        op.drop_table(table)
