"""cases.channel (online or window, set when the case is created) and cases.licence_version (the version of
the licence a change/renewal/cancellation case named when it was applied for)

Revision ID: 0025_case_channel
Revises: 0024b_cases_open_index
Create Date: 2026-12-03 20:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025_case_channel'
down_revision = '0024b_cases_open_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('channel', sa.String(length=8), nullable=False, server_default='online'))
        batch.add_column(sa.Column('licence_version', sa.Integer(), nullable=True))
    # A window clerk creates the case for the applicant; online the applicant creates it themself.
    op.execute("UPDATE cases SET channel = 'window' WHERE EXISTS (SELECT 1 FROM case_events e "
               "WHERE e.case_id = cases.id AND e.action = 'created' AND e.actor_id IS NOT NULL "
               "AND e.actor_id <> cases.applicant_id)")


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('licence_version')
        batch.drop_column('channel')
