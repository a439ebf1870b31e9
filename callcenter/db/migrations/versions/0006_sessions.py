"""sessions: staff_session rows (revocable logins), crm_inbound_event (Shahrbin webhook
replays), sms_message.twilio_sid widened to 80

Revision ID: 0006_sessions
Revises: 0004_followups
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import callcenter.db.types

revision = '0006_sessions'
down_revision = '0005_scale_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_session',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', callcenter.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', callcenter.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', callcenter.db.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_why', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_user_id'), ['user_id'], unique=False)
    op.create_table('crm_inbound_event',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('received_at', callcenter.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('crm_inbound_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_inbound_event_received_at'), ['received_at'],
                              unique=False)
    # A Twilio MessageSid is 34 characters today, but the provider promises no length; the
    # ":reply" id is 4+ longer. 80 keeps every id whole (it was cut to 60 before).
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.alter_column('twilio_sid', existing_type=sa.String(length=64),
                              type_=sa.String(length=80), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.alter_column('twilio_sid', existing_type=sa.String(length=80),
                              type_=sa.String(length=64), existing_nullable=True)
    with op.batch_alter_table('crm_inbound_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_inbound_event_received_at'))
    op.drop_table('crm_inbound_event')
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_user_id'))
    op.drop_table('staff_session')
