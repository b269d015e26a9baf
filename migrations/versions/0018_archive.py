"""archive_packages: the electronic archive package (电子档案) of each closed case

Revision ID: 0018_archive
Revises: 0014_organisation
Create Date: 2026-12-03 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0018_archive'
down_revision = '0014_organisation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = app.models.base.UtcDateTime(timezone=True)
    op.create_table(
        'archive_packages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('claim_token', sa.String(length=32), nullable=True),
        sa.Column('claimed_at', utc, nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('path', sa.String(length=255), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('retention_years', sa.Integer(), nullable=False),
        sa.Column('retention_until', utc, nullable=False),
        sa.Column('created_at', utc, nullable=False),
        sa.Column('built_at', utc, nullable=True),
        sa.Column('disposal_listed_at', utc, nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id'),
    )
    op.create_index('ix_archive_packages_state', 'archive_packages', ['state', 'claimed_at'])
    op.create_index('ix_archive_packages_retention', 'archive_packages', ['retention_until'])


def downgrade() -> None:
    op.drop_index('ix_archive_packages_retention', table_name='archive_packages')
    op.drop_index('ix_archive_packages_state', table_name='archive_packages')
    op.drop_table('archive_packages')
