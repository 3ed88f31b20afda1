"""The inbox of a Kafka consumer (`kernel.consumer`): one row per message a consumer group
has dealt with, written in the same transaction as the message's effect.

Delivery is at-least-once, so a handler claims the message first:

    async with uow:
        if await inbox.first_time(uow.connection, processed_messages, delivery):
            ...                                  # the effect, recorded once
            await uow.commit()

A redelivery (after a crash before the offset commit, a rebalance, a replay) finds the row
and changes nothing; a twin handling the same message on another replica at the same time
waits on the row's insert and then finds it. A message refused for good gets a row of its own
(`outcome = 'refused'`), with the admins' notification in the same transaction, so that it
is reported once however often it comes back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from kernel.consumer import Delivery

APPLIED = "applied"
REFUSED = "refused"


def inbox_columns() -> list[sa.Column]:
    return [
        sa.Column("consumer_group", sa.Text, primary_key=True),
        # The envelope's event_id; "topic/partition/offset" for a message without one.
        sa.Column("message_id", sa.Text, primary_key=True),
        # Applied and refused are kept apart: a handler may refuse a message for good after its
        # transaction was applied (a call it makes afterwards), and that is reported once too.
        sa.Column("outcome", sa.Text, primary_key=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("message_type", sa.Text, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table("processed_messages", metadata, *inbox_columns())


async def first_time(connection: AsyncConnection, table: sa.Table, delivery: Delivery, *,
                     outcome: str = APPLIED) -> bool:
    """Records the message with `outcome`; False when it was already (by this group)."""
    claimed = await connection.scalar(
        insert(table).values(consumer_group=delivery.group, message_id=delivery.message_id, topic=delivery.topic,
                             partition=delivery.partition, offset=delivery.offset,
                             message_type=delivery.message_type, outcome=outcome)
        .on_conflict_do_nothing()
        .returning(table.c.message_id))
    return claimed is not None
