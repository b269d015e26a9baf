"""差评整改: rectifications, one per bad rating

Revision ID: 0026_rectifications
Revises: 0025_case_channel, 0023_ratings
Create Date: 2026-12-03 20:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0026_rectifications'
# Also after the ratings branch: the table refers to ratings (PostgreSQL checks the foreign key at once).
down_revision = ('0025_case_channel', '0023_ratings')
branch_labels = None
depends_on = None


def _fk(column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_rectifications_{column}_{target}'),
                                   ondelete=ondelete)


def upgrade() -> None:
    utc = app.models.base.UtcDateTime(timezone=True)
    op.create_table(
        'rectifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rating_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('classification', sa.String(length=12), nullable=True),
        sa.Column('classification_reason', sa.Text(), nullable=False),
        sa.Column('called_back_at', utc, nullable=True),
        sa.Column('callback_outcome', sa.Text(), nullable=False),
        sa.Column('rectified_at', utc, nullable=True),
        sa.Column('rectification', sa.Text(), nullable=False),
        sa.Column('opened_at', utc, nullable=False),
        sa.Column('closed_at', utc, nullable=True),
        _fk('rating_id', 'ratings', 'CASCADE'),
        _fk('case_id', 'cases', 'SET NULL'),
        _fk('department_id', 'departments', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications')),
        sa.UniqueConstraint('rating_id', name=op.f('uq_rectifications_rating_id')),
        sa.UniqueConstraint('case_id', name=op.f('uq_rectifications_case_id')),
    )
    op.create_index(op.f('ix_rectifications_department_id'), 'rectifications', ['department_id'])
    op.create_index('ix_rectifications_state_opened', 'rectifications', ['state', 'opened_at'])


def downgrade() -> None:
    op.drop_table('rectifications')
