"""open tasks: a partial index of the open follow-up tasks by due time

Revision ID: 0007_i13b_open_tasks
Revises: 0006_sessions
Create Date: 2026-12-03 08:00:00

The follow-up list reads the open tasks oldest due first (``LIMIT 200``); open tasks are
~1 % of a store's tasks after a few years, and neither the state index nor the due-time
index alone gives them in order without reading the closed ones (``scripts/bench-store``,
docs/benchmarks.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_i13b_open_tasks'
down_revision = '0006_sessions'
branch_labels = None
depends_on = None

OPEN = "state IN ('pending', 'claimed', 'waiting')"


def upgrade() -> None:
    op.create_index('ix_task_open_due', 'task', ['due_at', 'id'], unique=False,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('ix_task_open_due', table_name='task')
