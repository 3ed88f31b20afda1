"""documents (staged sign-up uploads) and participants' verification status

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "participant_service"


def upgrade() -> None:
    op.add_column("participants", sa.Column("verification_status", sa.Text, nullable=True), schema=SCHEMA)
    op.add_column("participants", sa.Column("verification_reason", sa.Text, nullable=True), schema=SCHEMA)
    op.create_table(
        "documents",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("participant_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.participants.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("stored_name", sa.Text, nullable=False, unique=True),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("original_filename", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_documents_participant_id", "documents", ["participant_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_documents_participant_id", table_name="documents", schema=SCHEMA)
    op.drop_table("documents", schema=SCHEMA)
    op.drop_column("participants", "verification_reason", schema=SCHEMA)
    op.drop_column("participants", "verification_status", schema=SCHEMA)
