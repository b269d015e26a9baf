"""statistics: monthly rollups beside the daily ones (a year's answer sums twelve rows per key, not 365),
working days per stage per officer (stat_officer_durations, daily and monthly), and ix_cases_open with
cases.channel, so the backlog by channel is read from the index alone. The rollups are emptied and their
watermark reset: the scheduler's job refolds the whole event log in its batches (or run
`flask statistics rebuild` to do it at once).

Revision ID: 0029_stat_monthly
Revises: 0028_rectification_feedback
Create Date: 2026-12-03 20:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0029_stat_monthly'
down_revision = '0028_rectification_feedback'
branch_labels = None
depends_on = None

MEASURES = ("received", "accepted", "finished", "refused", "withdrawn", "corrections", "on_time", "late")
KEYS = ("day", "department_id", "item_id", "channel")
OLD = ("stat_daily", "stat_officer_daily", "stat_durations")
NEW = ("stat_officer_durations", "stat_monthly", "stat_officer_monthly", "stat_durations_monthly",
       "stat_officer_durations_monthly")


def _keys() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column('day', sa.Date(), nullable=False), sa.Column('department_id', sa.Integer(), nullable=False),
            sa.Column('item_id', sa.Integer(), nullable=False), sa.Column('channel', sa.String(length=8), nullable=False)]


def _officer() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column('officer_id', sa.Integer(), nullable=False)]


def _measures() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, sa.Integer(), nullable=False) for name in MEASURES]


def _histogram() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column('stage', sa.String(length=16), nullable=False), sa.Column('workdays', sa.Integer(), nullable=False),
            sa.Column('cases', sa.Integer(), nullable=False)]


def _table(name: str, officer: bool, histogram: bool) -> None:
    keys = [*KEYS, *(['officer_id'] if officer else []), *(['stage', 'workdays'] if histogram else [])]
    op.create_table(name, *_keys(), *(_officer() if officer else []), *(_histogram() if histogram else _measures()),
                    sa.PrimaryKeyConstraint(*keys, name=op.f(f'pk_{name}')))


def upgrade() -> None:
    _table('stat_officer_durations', True, True)
    _table('stat_monthly', False, False)
    _table('stat_officer_monthly', True, False)
    _table('stat_durations_monthly', False, True)
    _table('stat_officer_durations_monthly', True, True)
    for name in OLD:
        op.execute(f"DELETE FROM {name}")
    op.execute("DELETE FROM stat_watermarks")
    op.drop_index('ix_cases_open', table_name='cases')
    op.create_index('ix_cases_open', 'cases', ['closed_at', 'item_id', 'channel', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_open', table_name='cases')
    op.create_index('ix_cases_open', 'cases', ['closed_at', 'item_id', 'received_at'], unique=False)
    for name in NEW:
        op.drop_table(name)
