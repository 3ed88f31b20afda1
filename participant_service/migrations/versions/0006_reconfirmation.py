"""reconfirmation: registrations' answers to "are you still coming?", and the lifecycle
consumer's inbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from kernel.inbox import inbox_columns

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "participant_service"


def upgrade() -> None:
    op.add_column("registrations", sa.Column("reconfirmation", sa.Text, nullable=True), schema=SCHEMA)
    op.add_column("registrations", sa.Column("reconfirmation_deadline", sa.DateTime(timezone=True), nullable=True),
                  schema=SCHEMA)
    op.create_index("ix_registrations_reconfirmation_requested", "registrations", ["session_id"],
                    postgresql_where=sa.text("reconfirmation = 'requested' AND state = 'confirmed'"), schema=SCHEMA)
    op.create_table("processed_messages", *inbox_columns(), schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("processed_messages", schema=SCHEMA)
    op.drop_index("ix_registrations_reconfirmation_requested", table_name="registrations", schema=SCHEMA)
    op.drop_column("registrations", "reconfirmation_deadline", schema=SCHEMA)
    op.drop_column("registrations", "reconfirmation", schema=SCHEMA)
