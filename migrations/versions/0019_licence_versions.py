"""licence versions: a number is unique per version; a replaced version points at its successor

Revision ID: 0019_licence_versions
Revises: 0018_archive (and needs 0017_licences, on the other branch)
Create Date: 2026-12-03 17:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0019_licence_versions'
down_revision = '0018_archive'
branch_labels = None
# The licences table comes from 0017, which sits on a branch of its own beside 0018.
depends_on = '0017_licences'


def upgrade() -> None:
    with op.batch_alter_table('licences') as batch:
        batch.drop_constraint('uq_licences_number', type_='unique')
        batch.add_column(sa.Column('replaced_at', app.models.base.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch.create_unique_constraint('uq_licences_number_version', ['number', 'version'])
        batch.create_foreign_key('fk_licences_replaced_by_id_licences', 'licences', ['replaced_by_id'], ['id'])
    op.create_index('ix_licences_holder_id', 'licences', ['holder_id'])


def downgrade() -> None:
    op.drop_index('ix_licences_holder_id', table_name='licences')
    with op.batch_alter_table('licences') as batch:
        batch.drop_constraint('fk_licences_replaced_by_id_licences', type_='foreignkey')
    # Only the first version of each number can keep it once numbers are unique again.
    op.execute("DELETE FROM licences WHERE version > 1")
    with op.batch_alter_table('licences') as batch:
        batch.drop_constraint('uq_licences_number_version', type_='unique')
        batch.drop_column('replaced_by_id')
        batch.drop_column('replaced_at')
        batch.create_unique_constraint('uq_licences_number', ['number'])
