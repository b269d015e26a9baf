"""reused_licences: materials provided from the licence library instead of a file (减材料)

Revision ID: 0020_reused_licences
Revises: 0018_archive
Create Date: 2026-12-03 16:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0020_reused_licences'
down_revision = '0018_archive'
branch_labels = None
# The rows point at licences, which 0017 (another branch) creates.
depends_on = '0017_licences'


def upgrade() -> None:
    utc = app.models.base.UtcDateTime(timezone=True)
    op.create_table(
        'reused_licences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('draft_id', sa.Integer(), nullable=True),
        sa.Column('material', sa.String(length=200), nullable=False),
        sa.Column('licence_id', sa.Integer(), nullable=True),
        sa.Column('licence_number', sa.String(length=64), nullable=False),
        sa.Column('licence_version', sa.Integer(), nullable=False),
        sa.Column('licence_type', sa.String(length=200), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('chosen_by_id', sa.Integer(), nullable=False),
        sa.Column('chosen_at', utc, nullable=False),
        sa.Column('superseded_at', utc, nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['chosen_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reused_licences_case', 'reused_licences', ['case_id', 'material'])
    op.create_index('ix_reused_licences_draft_id', 'reused_licences', ['draft_id'])


def downgrade() -> None:
    op.drop_index('ix_reused_licences_draft_id', table_name='reused_licences')
    op.drop_index('ix_reused_licences_case', table_name='reused_licences')
    op.drop_table('reused_licences')
