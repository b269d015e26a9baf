"""human_tasks.yellow_at: when the light of the clock behind a task's deadline turns yellow, by that clock's
own thresholds, so that the due-soon view (即将到期) agrees with the lights

Revision ID: 0010_task_yellow_at
Revises: 0008_session_version
Create Date: 2026-12-03 11:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0010_task_yellow_at'
down_revision = '0008_session_version'
branch_labels = None
depends_on = None

# A running clock's next_check_at is its yellow moment while it is green; a yellow or red clock turned yellow
# at some past moment, and its start is one. The task's own step clock first, else the case clock whose
# deadline it carries.
_CLOCK_YELLOW = "CASE WHEN c.level = 'green' THEN c.next_check_at ELSE c.started_at END"
BACKFILL = f"""
UPDATE human_tasks SET yellow_at = COALESCE(
    (SELECT {_CLOCK_YELLOW} FROM case_clocks c
      WHERE c.task_id = human_tasks.id AND c.state = 'running' ORDER BY c.id DESC LIMIT 1),
    (SELECT {_CLOCK_YELLOW} FROM case_clocks c
      WHERE c.case_id = human_tasks.case_id AND c.kind IN ('notice', 'decision', 'issuance')
        AND c.state = 'running' AND c.deadline = human_tasks.due_at ORDER BY c.id LIMIT 1))
WHERE due_at IS NOT NULL
"""


def upgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('yellow_at', app.models.base.UtcDateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_column('yellow_at')
