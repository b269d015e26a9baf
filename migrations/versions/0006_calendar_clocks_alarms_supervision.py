"""Working-day calendar, case clocks, suspensions, extensions, alarms and supervision orders (电子监察)

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29 22:38:08.406634
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_revision',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('changed_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_revision'))
    )
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('updated_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_calendar_days_updated_by_users')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('updated_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_calendar_years_updated_by_users')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    op.create_table('case_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('started_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('limit_value', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=4), nullable=False),
    sa.Column('statutory_limit', sa.Integer(), nullable=True),
    sa.Column('extended_by', sa.Integer(), nullable=False),
    sa.Column('suspended_days', sa.Integer(), nullable=False),
    sa.Column('deadline', app.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('yellow_ratio', sa.Double(), nullable=False),
    sa.Column('yellow_days', sa.Integer(), nullable=False),
    sa.Column('next_check_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('stopped_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_clocks_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_clocks'))
    )
    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.create_index('ix_case_clocks_case', ['case_id', 'kind'], unique=False)
        batch_op.create_index('ix_case_clocks_level', ['level', 'state'], unique=False)
        batch_op.create_index('ix_case_clocks_next_check', ['next_check_at'], unique=False)

    op.create_table('supervision_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reply_by', app.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=False),
    sa.Column('issued_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_by', sa.Integer(), nullable=True),
    sa.Column('replied_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('reply_check_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_supervision_orders_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by'], ['users.id'], name=op.f('fk_supervision_orders_issued_by_users')),
    sa.ForeignKeyConstraint(['replied_by'], ['users.id'], name=op.f('fk_supervision_orders_replied_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_orders'))
    )
    with op.batch_alter_table('supervision_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_orders_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_supervision_orders_dept', ['department', 'state'], unique=False)
        batch_op.create_index('ix_supervision_orders_due', ['reply_check_at'], unique=False)

    op.create_table('alarms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('clock_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('due_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('fired_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_alarms_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clock_id'], ['case_clocks.id'], name=op.f('fk_alarms_clock_id_case_clocks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['supervision_orders.id'], name=op.f('fk_alarms_order_id_supervision_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarms')),
    sa.UniqueConstraint('key', name=op.f('uq_alarms_key'))
    )
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.create_index('ix_alarms_case', ['case_id'], unique=False)
        batch_op.create_index('ix_alarms_open', ['level', 'cleared_at'], unique=False)

    op.create_table('clock_extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clock_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_clock_extensions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clock_id'], ['case_clocks.id'], name=op.f('fk_clock_extensions_clock_id_case_clocks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_clock_extensions_decided_by_users')),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_clock_extensions_notice_id_notices')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_clock_extensions_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_extensions'))
    )
    with op.batch_alter_table('clock_extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clock_extensions_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clock_extensions_clock_id'), ['clock_id'], unique=False)

    op.create_table('clock_suspensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clock_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('procedure', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('expected_days', sa.Integer(), nullable=False),
    sa.Column('started_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.Integer(), nullable=True),
    sa.Column('ended_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_clock_suspensions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clock_id'], ['case_clocks.id'], name=op.f('fk_clock_suspensions_clock_id_case_clocks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ended_by'], ['users.id'], name=op.f('fk_clock_suspensions_ended_by_users')),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_clock_suspensions_notice_id_notices')),
    sa.ForeignKeyConstraint(['started_by'], ['users.id'], name=op.f('fk_clock_suspensions_started_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_suspensions'))
    )
    with op.batch_alter_table('clock_suspensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clock_suspensions_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clock_suspensions_clock_id'), ['clock_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deemed_accepted_at', app.models.base.UtcDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('yellow_ratio', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('yellow_days', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('yellow_days')
        batch_op.drop_column('yellow_ratio')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('deemed_accepted_at')

    with op.batch_alter_table('clock_suspensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clock_suspensions_clock_id'))
        batch_op.drop_index(batch_op.f('ix_clock_suspensions_case_id'))

    op.drop_table('clock_suspensions')
    with op.batch_alter_table('clock_extensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clock_extensions_clock_id'))
        batch_op.drop_index(batch_op.f('ix_clock_extensions_case_id'))

    op.drop_table('clock_extensions')
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index('ix_alarms_open')
        batch_op.drop_index('ix_alarms_case')

    op.drop_table('alarms')
    with op.batch_alter_table('supervision_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_orders_due')
        batch_op.drop_index('ix_supervision_orders_dept')
        batch_op.drop_index(batch_op.f('ix_supervision_orders_case_id'))

    op.drop_table('supervision_orders')
    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.drop_index('ix_case_clocks_next_check')
        batch_op.drop_index('ix_case_clocks_level')
        batch_op.drop_index('ix_case_clocks_case')

    op.drop_table('case_clocks')
    op.drop_table('calendar_years')
    op.drop_table('calendar_days')
    op.drop_table('calendar_revision')
