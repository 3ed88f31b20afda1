"""Redis key names of the read models, under one prefix so a rebuild can build aside and swap."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keyspace:
    prefix: str = "rm"

    def versions(self, topic: str, aggregate_type: str) -> str:
        """Hash: aggregate id -> last version applied from this topic. Per topic, because one
        aggregate may publish to several (a session's schedule on the catalog topic, its seats
        on the ledger topic) with one version counter: each topic's stream is ordered and
        grows, with gaps, but the two streams interleave in no particular order."""
        return f"{self.prefix}:versions:{topic}:{aggregate_type}"

    @property
    def totals(self) -> str:
        """Hash of counters maintained atomically with each applied envelope."""
        return f"{self.prefix}:totals"

    def venue(self, venue_id: str) -> str:
        return f"{self.prefix}:venue:{venue_id}"

    def participant(self, participant_id: str) -> str:
        return f"{self.prefix}:participant:{participant_id}"
