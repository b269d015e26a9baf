"""message_preferences.locale: the language a user's milestone messages are written in

Revision ID: 0022_message_locale
Revises: 0016_message_templates
Create Date: 2026-12-03 17:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022_message_locale'
down_revision = '0016_message_templates'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message_preferences') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=8), nullable=False, server_default='zh'))


def downgrade() -> None:
    with op.batch_alter_table('message_preferences') as batch:
        batch.drop_column('locale')
