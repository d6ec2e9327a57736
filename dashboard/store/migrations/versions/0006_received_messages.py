"""Messages a sender numbers (HL7: MSH-3 and MSH-10), kept for an hour: a resend is stored once, across restarts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

A monitor resends a message it heard no ACK for. Ingest commits each message's id with its readings; one seen
again (the ACK lost, ingest stopped or killed between its commit and its ACK) is answered as stored without
storing it twice.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "received_messages" in sa.inspect(op.get_bind()).get_table_names():  # adopted by 0001 from `create_all`
        return
    op.create_table(
        "received_messages",
        sa.Column("site", sa.String(40), primary_key=True),
        sa.Column("message", sa.String(250), primary_key=True),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_index("ix_received_messages_at", "received_messages", ["at"])


def downgrade() -> None:
    op.drop_index("ix_received_messages_at", table_name="received_messages")
    op.drop_table("received_messages")
