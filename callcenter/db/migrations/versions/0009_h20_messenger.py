"""h20 messenger: bot messages are claimed before a send (several instances send each
once); a citizen may be known by a messenger account alone (``citizen.phone`` NULL until
they share their contact).

Revision ID: 0009_h20_messenger
Revises: 0007_i19_pbx
Create Date: 2026-12-03 15:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import callcenter.db.types

revision = '0009_h20_messenger'
down_revision = '0007_i19_pbx'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bot_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=80),
                                      nullable=True))
        batch_op.add_column(sa.Column('claimed_until',
                                      callcenter.db.types.UtcDateTime(timezone=True),
                                      nullable=True))
    # SQLite rebuilds ``citizen`` (batch mode; env.py turns foreign keys off meanwhile).
    with op.batch_alter_table('citizen', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sqlmodel.sql.sqltypes.AutoString(length=20),
                              nullable=True)


def downgrade() -> None:
    # A citizen known by a messenger account alone cannot be kept without a number:
    # those without requests go (their chats unlinked); any with requests stop this.
    op.execute("UPDATE bot_chat SET citizen_id = NULL WHERE citizen_id IN "
               "(SELECT id FROM citizen WHERE phone IS NULL AND id NOT IN "
               "(SELECT citizen_id FROM citizen_request))")
    op.execute("DELETE FROM citizen WHERE phone IS NULL AND id NOT IN "
               "(SELECT citizen_id FROM citizen_request)")
    op.execute("UPDATE bot_message SET status = 'queued' WHERE status = 'claimed'")
    with op.batch_alter_table('citizen', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sqlmodel.sql.sqltypes.AutoString(length=20),
                              nullable=False)
    with op.batch_alter_table('bot_message', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
