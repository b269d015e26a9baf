"""好差评: service windows, window clerks, window visits, rating requests, ratings, rating settings

Revision ID: 0023_ratings
Revises: 0018_archive
Create Date: 2026-12-03 17:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0023_ratings'
down_revision = '0018_archive'
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'),
                                   ondelete=ondelete)


def upgrade() -> None:
    utc = app.models.base.UtcDateTime(timezone=True)
    json = app.models.base.Json
    op.create_table(
        'service_windows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', utc, nullable=False),
        _fk('service_windows', 'department_id', 'departments', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_windows')),
        sa.UniqueConstraint('code', name=op.f('uq_service_windows_code')),
    )
    op.create_table(
        'window_clerks',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('window_id', sa.Integer(), nullable=False),
        _fk('window_clerks', 'user_id', 'users', 'CASCADE'),
        _fk('window_clerks', 'window_id', 'service_windows', 'CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_window_clerks')),
    )
    op.create_index(op.f('ix_window_clerks_window_id'), 'window_clerks', ['window_id'])
    op.create_table(
        'window_visits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('window_id', sa.Integer(), nullable=False),
        sa.Column('clerk_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('served_at', utc, nullable=False),
        sa.Column('visit_key', sa.String(length=80), nullable=True),
        sa.Column('nonce', sa.String(length=32), nullable=False),
        _fk('window_visits', 'window_id', 'service_windows', 'CASCADE'),
        _fk('window_visits', 'clerk_id', 'users', 'SET NULL'),
        _fk('window_visits', 'case_id', 'cases', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_window_visits')),
        sa.UniqueConstraint('visit_key', name=op.f('uq_window_visits_visit_key')),
        sa.UniqueConstraint('nonce', name=op.f('uq_window_visits_nonce')),
    )
    op.create_index('ix_window_visits_window_served', 'window_visits', ['window_id', 'served_at'])
    op.create_index(op.f('ix_window_visits_case_id'), 'window_visits', ['case_id'])
    op.create_table(
        'rating_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('visit_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('served_at', utc, nullable=False),
        sa.Column('remind_at', utc, nullable=True),
        sa.Column('reminded_at', utc, nullable=True),
        sa.Column('expires_at', utc, nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        _fk('rating_requests', 'case_id', 'cases', 'CASCADE'),
        _fk('rating_requests', 'visit_id', 'window_visits', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_requests')),
        sa.UniqueConstraint('case_id', name=op.f('uq_rating_requests_case_id')),
        sa.UniqueConstraint('visit_id', name=op.f('uq_rating_requests_visit_id')),
    )
    op.create_index('ix_rating_requests_remind', 'rating_requests', ['state', 'remind_at'])
    op.create_index('ix_rating_requests_expires', 'rating_requests', ['state', 'expires_at'])
    op.create_table(
        'ratings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('visit_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('level', sa.Integer(), nullable=True),
        sa.Column('dimensions', json, nullable=False),
        sa.Column('reasons', json, nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('follow_up_of_id', sa.Integer(), nullable=True),
        sa.Column('rated_by_id', sa.Integer(), nullable=True),
        sa.Column('rated_at', utc, nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('window_id', sa.Integer(), nullable=True),
        sa.Column('officer_id', sa.Integer(), nullable=True),
        _fk('ratings', 'request_id', 'rating_requests', 'CASCADE'),
        _fk('ratings', 'case_id', 'cases', 'CASCADE'),
        _fk('ratings', 'visit_id', 'window_visits', 'CASCADE'),
        _fk('ratings', 'follow_up_of_id', 'ratings', 'CASCADE'),
        _fk('ratings', 'rated_by_id', 'users', 'SET NULL'),
        _fk('ratings', 'item_id', 'items', 'SET NULL'),
        _fk('ratings', 'department_id', 'departments', 'SET NULL'),
        _fk('ratings', 'window_id', 'service_windows', 'SET NULL'),
        _fk('ratings', 'officer_id', 'users', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
        sa.UniqueConstraint('request_id', 'seq', name='uq_ratings_request_seq'),
    )
    op.create_index('ix_ratings_rated_at', 'ratings', ['rated_at'])
    for column in ('case_id', 'visit_id', 'item_id', 'department_id', 'window_id', 'officer_id'):
        op.create_index(op.f(f'ix_ratings_{column}'), 'ratings', [column])
    op.create_table(
        'rating_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reasons', json, nullable=False),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.Column('reminder_hours', sa.Integer(), nullable=False),
        sa.Column('default_level', sa.Integer(), nullable=True),
        sa.Column('updated_at', utc, nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        _fk('rating_settings', 'updated_by', 'users', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_settings')),
    )


def downgrade() -> None:
    op.drop_table('rating_settings')
    op.drop_table('ratings')
    op.drop_table('rating_requests')
    op.drop_table('window_visits')
    op.drop_table('window_clerks')
    op.drop_table('service_windows')
