"""venues, outbox and idempotency keys

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from kernel.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "event_service"


def upgrade() -> None:
    create_messaging_tables(SCHEMA)
    op.create_table(
        "venues",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
        sa.UniqueConstraint("name_key", name="venues_name_key_unique"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("venues", schema=SCHEMA)
    op.drop_table("idempotency_keys", schema=SCHEMA)
    op.drop_table("outbox", schema=SCHEMA)
