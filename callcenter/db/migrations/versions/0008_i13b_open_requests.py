"""open requests: a partial index of the open requests by department (the backlog)

Revision ID: 0008_i13b_open_requests
Revises: 0007_i13b_open_tasks
Create Date: 2026-12-03 08:30:00

The backlog counts the open requests per department. SQLite's statistics cannot tell
open from closed requests (8 statuses, ~12,500 rows each at 100k), so its planner walked
the department index over every request for it (800 ms at 100k, ``scripts/bench-store``,
docs/benchmarks.md); this index holds only the open ones, in department order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_i13b_open_requests'
down_revision = '0007_i13b_open_tasks'
branch_labels = None
depends_on = None

OPEN = "status IN ('in_progress', 'new', 'referred', 'reopened')"


def upgrade() -> None:
    op.create_index('ix_citizen_request_open_department', 'citizen_request',
                    ['department_code', 'deadline_at'], unique=False,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('ix_citizen_request_open_department', table_name='citizen_request')
