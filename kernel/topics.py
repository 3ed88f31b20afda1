"""Kafka topic names: a public contract (README, "Topics")."""

CATALOG = "turnout.catalog.v1"
LEDGER = "turnout.ledger.v1"
PARTICIPANTS = "turnout.participants.v1"
NOTIFICATIONS = "turnout.notifications.v1"

ALL = (CATALOG, LEDGER, PARTICIPANTS, NOTIFICATIONS)
PARTITIONS = 4
