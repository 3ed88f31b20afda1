"""participants, card numbers, outbox and idempotency keys

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

SCHEMA = "participant_service"


def upgrade() -> None:
    create_messaging_tables(SCHEMA)
    op.execute(sa.schema.CreateSequence(sa.Sequence("card_numbers", start=100001, schema=SCHEMA)))
    op.create_table(
        "participants",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("card_number", sa.Text, nullable=False, unique=True),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("last_name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("participants", schema=SCHEMA)
    op.execute(sa.schema.DropSequence(sa.Sequence("card_numbers", schema=SCHEMA)))
    op.drop_table("idempotency_keys", schema=SCHEMA)
    op.drop_table("outbox", schema=SCHEMA)
