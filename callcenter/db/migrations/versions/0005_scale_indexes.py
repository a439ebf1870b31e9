"""scale indexes: every hot path by index, request_event.linkedid (backfilled from data)

Revision ID: 0005_scale_indexes
Revises: 0004_followups
Create Date: 2026-12-02 17:00:00

Measured with ``scripts/bench-store`` (docs/benchmarks.md): without these, the
screen-pop, the supervisor's figures and the call recorder walk years of history.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005_scale_indexes'
down_revision = '0004_followups'
branch_labels = None
depends_on = None

INDEXES = [
    ('call', 'ix_call_citizen_id_entered_at', ['citizen_id', 'entered_at']),
    ('call', 'ix_call_caller_entered_at', ['caller', 'entered_at']),
    ('citizen_request', 'ix_citizen_request_citizen_created',
     ['citizen_id', 'created_at', 'id']),
    ('citizen_request', 'ix_citizen_request_citizen_status', ['citizen_id', 'status']),
    ('citizen_request', 'ix_citizen_request_status_department',
     ['status', 'department_code', 'deadline_at']),
    ('citizen_request', 'ix_citizen_request_category_hood_created',
     ['category_code', 'neighbourhood_code', 'created_at']),
    ('task', 'ix_task_call_linkedid', ['call_linkedid']),
    ('request_event', 'ix_request_event_linkedid', ['linkedid']),
]


def upgrade() -> None:
    with op.batch_alter_table('request_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('linkedid', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
    # Lines written before this revision name their call only inside the JSON.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE request_event SET linkedid = data->>'linkedid' "
                   "WHERE data IS NOT NULL AND data->>'linkedid' IS NOT NULL")
    else:
        op.execute("UPDATE request_event SET linkedid = json_extract(data, '$.linkedid') "
                   "WHERE data IS NOT NULL AND json_extract(data, '$.linkedid') IS NOT NULL")
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('request_event', schema=None) as batch_op:
        batch_op.drop_column('linkedid')
