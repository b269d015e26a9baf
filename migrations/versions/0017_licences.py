"""licences (e-licences with their signatures) and department_keys (public signing keys, rotatable)

Revision ID: 0017_licences
Revises: 0014_organisation
Create Date: 2026-12-03 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.base

revision = '0017_licences'
down_revision = '0014_organisation'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'department_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_id', sa.String(length=64), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('algorithm', sa.String(length=16), nullable=False),
        sa.Column('public_key', sa.Text(), nullable=False),
        sa.Column('created_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column('retired_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                                name=op.f('fk_department_keys_department_id_departments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_department_keys')),
        sa.UniqueConstraint('key_id', name=op.f('uq_department_keys_key_id')),
    )
    op.create_index(op.f('ix_department_keys_department_id'), 'department_keys', ['department_id'])
    op.create_table(
        'licences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('licence_type', sa.String(length=200), nullable=False),
        sa.Column('holder_name', sa.String(length=300), nullable=False),
        sa.Column('holder_id', sa.String(length=64), nullable=False),
        sa.Column('content', _JSON, nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_to', sa.Date(), nullable=True),
        sa.Column('key_id', sa.String(length=64), nullable=False),
        sa.Column('algorithm', sa.String(length=16), nullable=False),
        sa.Column('payload_sha256', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.Text(), nullable=False),
        sa.Column('issued_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column('revoked_reason', sa.Text(), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_licences_case_id_cases'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_licences_item_id_items')),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                                name=op.f('fk_licences_department_id_departments')),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_licences_revoked_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_licences')),
        sa.UniqueConstraint('number', name=op.f('uq_licences_number')),
    )
    op.create_index('ix_licences_case', 'licences', ['case_id'])


def downgrade() -> None:
    op.drop_index('ix_licences_case', table_name='licences')
    op.drop_table('licences')
    op.drop_index(op.f('ix_department_keys_department_id'), table_name='department_keys')
    op.drop_table('department_keys')
