"""licence_deliveries: how each issued case's licence reaches the applicant (pickup or mail)

Revision ID: 0021_deliveries
Revises: 0018_archive
Create Date: 2026-12-03 17:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0021_deliveries'
down_revision = '0018_archive'
branch_labels = None
# The licences table (0017, a branch of its own) must exist before this one refers to it.
depends_on = '0017_licences'


def upgrade() -> None:
    utc = app.models.base.UtcDateTime(timezone=True)
    op.create_table(
        'licence_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('licence_id', sa.Integer(), nullable=True),
        sa.Column('licence_no', sa.String(length=64), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('pickup_place', sa.String(length=300), nullable=False),
        sa.Column('pickup_hours', sa.String(length=300), nullable=False),
        sa.Column('mail_address', sa.String(length=300), nullable=False),
        sa.Column('carrier', sa.String(length=64), nullable=False),
        sa.Column('tracking_no', sa.String(length=32), nullable=True),
        sa.Column('ready_at', utc, nullable=False),
        sa.Column('mailed_at', utc, nullable=True),
        sa.Column('collected_at', utc, nullable=True),
        sa.Column('collector_name', sa.String(length=100), nullable=True),
        sa.Column('collector_id_number', sa.String(length=18), nullable=True),
        sa.Column('collector_relation', sa.String(length=8), nullable=True),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('mailed_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_licence_deliveries_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['licence_id'], ['licences.id'],
                                name=op.f('fk_licence_deliveries_licence_id_licences'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_licence_deliveries_issued_by_id_users')),
        sa.ForeignKeyConstraint(['mailed_by_id'], ['users.id'], name=op.f('fk_licence_deliveries_mailed_by_id_users')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_licence_deliveries_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_licence_deliveries')),
        sa.UniqueConstraint('case_id', name=op.f('uq_licence_deliveries_case_id')),
    )


def downgrade() -> None:
    op.drop_table('licence_deliveries')
