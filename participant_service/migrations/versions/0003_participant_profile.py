"""participant profile: phone (with a prefix index), comment, messenger, created_by

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "participant_service"
COLUMNS = ("phone", "comment", "messenger_id", "messenger_username", "created_by")


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("participants", sa.Column(column, sa.Text, nullable=True), schema=SCHEMA)
    op.create_index("ix_participants_phone_prefix", "participants", ["phone"], schema=SCHEMA,
                    postgresql_ops={"phone": "text_pattern_ops"})


def downgrade() -> None:
    op.drop_index("ix_participants_phone_prefix", table_name="participants", schema=SCHEMA)
    for column in reversed(COLUMNS):
        op.drop_column("participants", column, schema=SCHEMA)
