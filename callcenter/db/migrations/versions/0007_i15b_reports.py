"""reports: report_job (background exports, monthly PDFs), agent_state_event (the
append-only history of agent states), report_request_day + report_rollup_mark (the
daily request roll-up)

Revision ID: 0007_i15b_reports
Revises: 0007_i16a_triage
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import callcenter.db.types

revision = '0007_i15b_reports'
down_revision = '0007_i16a_triage'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('params', sa.JSON(), nullable=True),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('claimed_until', callcenter.db.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', callcenter.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', callcenter.db.types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['requested_by'], ['staff_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('report_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_job_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_job_state'), ['state'], unique=False)
    op.create_table('agent_state_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('extension', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('at', callcenter.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agent_state_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_state_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_agent_state_event_extension_at', ['extension', 'at'],
                              unique=False)
    op.create_table('report_request_day',
    sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('neighbourhood_code', sqlmodel.sql.sqltypes.AutoString(length=60),
              nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'department_code', 'category_code', 'neighbourhood_code',
                            'channel')
    )
    op.create_table('report_rollup_mark',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('first_day', sa.Integer(), nullable=False),
    sa.Column('through_day', sa.Integer(), nullable=False),
    sa.Column('built_at', callcenter.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('report_rollup_mark')
    op.drop_table('report_request_day')
    with op.batch_alter_table('agent_state_event', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_state_event_extension_at')
        batch_op.drop_index(batch_op.f('ix_agent_state_event_at'))
    op.drop_table('agent_state_event')
    with op.batch_alter_table('report_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_job_state'))
        batch_op.drop_index(batch_op.f('ix_report_job_kind'))
    op.drop_table('report_job')
