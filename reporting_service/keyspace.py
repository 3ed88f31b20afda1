"""Redis key names of the read models, under one prefix so a rebuild can build aside and swap."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keyspace:
    prefix: str = "rm"

    def versions(self, aggregate_type: str) -> str:
        """Hash: aggregate id -> last applied aggregate version."""
        return f"{self.prefix}:versions:{aggregate_type}"

    @property
    def totals(self) -> str:
        """Hash of counters maintained atomically with each applied envelope."""
        return f"{self.prefix}:totals"

    def venue(self, venue_id: str) -> str:
        return f"{self.prefix}:venue:{venue_id}"

    def participant(self, participant_id: str) -> str:
        return f"{self.prefix}:participant:{participant_id}"
