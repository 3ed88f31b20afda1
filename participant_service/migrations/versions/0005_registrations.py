"""registrations: the booking saga's records, attendance and waitlists

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "participant_service"
LIVE = sa.text("state IN ('held', 'confirmed', 'waitlisted', 'offered')")


def upgrade() -> None:
    op.create_table(
        "registrations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("participant_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.participants.id"), nullable=False),
        sa.Column("session_id", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("session_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seat_id", sa.Text, nullable=True),
        sa.Column("seat_sync", sa.Text, nullable=True),
        sa.Column("attendance", sa.Text, nullable=False, server_default="expected"),
        sa.Column("attendance_comment", sa.Text, nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("registered_by", sa.Text, nullable=False),
        sa.Column("capacity_override", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cancelled_by", sa.Text, nullable=True),
        sa.Column("end_reason", sa.Text, nullable=True),
        sa.Column("offer_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
        schema=SCHEMA,
    )
    op.create_index("uq_registrations_live", "registrations", ["participant_id", "session_id"], unique=True,
                    postgresql_where=LIVE, schema=SCHEMA)
    op.create_index("ix_registrations_session", "registrations", ["session_id", "created_at", "id"], schema=SCHEMA)
    op.create_index("ix_registrations_participant", "registrations", ["participant_id", "session_starts_at", "id"],
                    schema=SCHEMA)
    op.create_index("ix_registrations_waitlist", "registrations", ["session_id", "created_at", "id"],
                    postgresql_where=sa.text("state IN ('waitlisted', 'offered')"), schema=SCHEMA)
    op.create_index("ix_registrations_seat_sync", "registrations", ["updated_at"],
                    postgresql_where=sa.text("seat_sync IS NOT NULL"), schema=SCHEMA)
    op.create_index("ix_registrations_expiry", "registrations", ["expires_at"],
                    postgresql_where=sa.text("state IN ('held', 'offered')"), schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("registrations", schema=SCHEMA)
