"""Redis key names of the read models.

Every read-model key lives under the prefix of one *generation*; a rebuild builds a new
generation aside and swaps it in (`reporting_service/generations.py`). A generation's prefix
is its root ("rm") or "{root}.{id}"; keys that are not read models (the active-generation
pointer, the handover fence, rebuild records, saved export templates) live under
"{root}@...", outside every generation.
"""

from __future__ import annotations


class Keyspace:
    """Key names under one generation's prefix. Readers share one instance whose prefix the
    generation watch moves to the new generation on a swap."""

    def __init__(self, prefix: str = "rm", *, root: str | None = None):
        self.prefix = prefix
        self.root = root if root is not None else prefix.split(".", 1)[0]

    def __repr__(self) -> str:
        return f"Keyspace(prefix={self.prefix!r}, root={self.root!r})"

    def pinned(self) -> Keyspace:
        """A copy that stays on the current generation (for work that must read one
        generation throughout, like a long export)."""
        return Keyspace(self.prefix, root=self.root)

    def own(self, name: str) -> str:
        """A key of reporting's own data, outside the generations (never rebuilt or dropped)."""
        return f"{self.root}@{name}"

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

    # Availability (fed by the ledger topic, and by the catalog topic for sessions not booked yet).

    def session_seats(self, session_id: str) -> str:
        """Hash: held, confirmed, occurrence, pools (comma-separated ids), update_time."""
        return f"{self.prefix}:avail:session:{session_id}"

    def session_capacity(self, session_id: str) -> str:
        """Sorted set holding one member "{version}:{capacity or 'deleted'}:{update time}"
        scored by the session's version: capacity, update time and deletion arrive from two
        topics (catalog edits, ledger counts) that share the session's version counter but
        interleave in any order, so the newest version wins (`availability.session_head`)."""
        return f"{self.prefix}:avail:session-capacity:{session_id}"

    def occurrence_seats(self, occurrence_id: str) -> str:
        """Hash: live seat id -> participant id; distinct values = participants in the
        occurrence. Seat events of different sessions arrive in any order, but each seat's
        own events are ordered (one session, one partition), so set/delete per seat converges."""
        return f"{self.prefix}:avail:occurrence-seats:{occurrence_id}"

    def occurrence(self, occurrence_id: str) -> str:
        """Hash: capacity (the event capacity, most distinct participants)."""
        return f"{self.prefix}:avail:occurrence:{occurrence_id}"

    def pool(self, pool_id: str) -> str:
        """Hash: limit. A pool's use is the sum of its sessions' held and confirmed seats."""
        return f"{self.prefix}:avail:pool:{pool_id}"

    def pool_sessions(self, pool_id: str) -> str:
        """Set of the pool's session ids."""
        return f"{self.prefix}:avail:pool-sessions:{pool_id}"

    # Registration stats (fed by the participants topic, and the catalog topic for sessions).

    def event_sessions(self, event_id: str) -> str:
        """Set of the event's session ids."""
        return f"{self.prefix}:stats:event-sessions:{event_id}"

    def session_info(self, session_id: str) -> str:
        """Hash: event, service, venue (ids; a session never moves between them)."""
        return f"{self.prefix}:stats:session:{session_id}"

    def session_registrations(self, session_id: str) -> str:
        """Hash: registration id -> "state|attendance|reconfirmation" as of its latest event
        (one registration's events are ordered, so the last write is the latest state;
        generations projected before reconfirmations hold "state|attendance")."""
        return f"{self.prefix}:stats:session-registrations:{session_id}"

    def participant_registrations(self, participant_id: str) -> str:
        """Hash: registration id -> "state|attendance|session_end_epoch" (as above)."""
        return f"{self.prefix}:stats:participant-registrations:{participant_id}"


    # Audit trail (every envelope, and exports; see reporting_service/audit_log.py).

    def audit_entry(self, entry_id: str) -> str:
        """Hash: entry_id, at, at_ms, actor, request_id, command, target_type, target_id, detail."""
        return f"{self.prefix}:audit:entry:{entry_id}"

    @property
    def audit_all(self) -> str:
        """Sorted set of every entry: members "{ms:013d}:{entry_id}", score 0 (lex order)."""
        return f"{self.prefix}:audit:all"

    def audit_by_actor(self, actor: str) -> str:
        """Sorted set of the actor's entries, members as in `audit_all`."""
        return f"{self.prefix}:audit:actor:{actor}"

    def audit_by_target(self, target_type: str, target_id: str) -> str:
        """Sorted set of the entries about one aggregate, members as in `audit_all`."""
        return f"{self.prefix}:audit:target:{target_type}/{target_id}"

    # Participant view (projections/participant_view.py, reporting_service/participant_view.py).

    def participant_view_registration(self, registration_id: str) -> str:
        """String: a JSON object of what a participant's page shows of one registration as of
        its latest event (ids, state, attendance, registered_at/by, expiry, the session's start
        and end as the registration recorded them); the session's title, service, venue and
        current times are joined from the export's session hash when read."""
        return f"{self.prefix}:pview:registration:{registration_id}"

    def participant_view_index(self, participant_id: str) -> str:
        """Sorted set, every score 0, of "{session start ms:013d}:{registration id}" members
        (the start the registration recorded, which never changes): read in lex order they go
        by session start, ties by id, so a page token (the last member read) is a stable
        keyset position in either direction."""
        return f"{self.prefix}:pview:participant:{participant_id}"
