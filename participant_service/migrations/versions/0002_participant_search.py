"""participant search: casefolded name keys and prefix indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "participant_service"
KEYS = ("first_name_key", "last_name_key", "full_name_key")


def _key(value: str) -> str:
    # Frozen copy of participant_service.domain.participants.search_key: a migration must not
    # change meaning when the application code later does.
    return " ".join(value.split()).casefold()


def upgrade() -> None:
    for column in KEYS:
        op.add_column("participants", sa.Column(column, sa.Text, nullable=True), schema=SCHEMA)
    # Backfill in Python, not with SQL lower(): under locale C lower() leaves Cyrillic unchanged.
    # Row by row is fine for the data that exists (test data only).
    table = sa.table("participants", sa.column("id"), sa.column("first_name"), sa.column("last_name"),
                     *(sa.column(c) for c in KEYS), schema=SCHEMA)
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.id, table.c.first_name, table.c.last_name)).all()
    for row in rows:
        first, last = _key(row.first_name), _key(row.last_name)
        bind.execute(table.update().where(table.c.id == row.id)
                     .values(first_name_key=first, last_name_key=last, full_name_key=f"{first} {last}"))
    for column in KEYS:
        op.alter_column("participants", column, nullable=False, schema=SCHEMA)
    for column in ("last_name_key", "full_name_key", "card_number"):
        op.create_index(f"ix_participants_{column}_prefix", "participants", [column], schema=SCHEMA,
                        postgresql_ops={column: "text_pattern_ops"})


def downgrade() -> None:
    for column in ("last_name_key", "full_name_key", "card_number"):
        op.drop_index(f"ix_participants_{column}_prefix", table_name="participants", schema=SCHEMA)
    for column in KEYS:
        op.drop_column("participants", column, schema=SCHEMA)
