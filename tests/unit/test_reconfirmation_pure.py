"""Reconfirmations in the pure parts of reporting: the stats entry a registration change
writes, the buckets counted from entries, the audit entry of each reconfirmation step, the new
catalog event type."""

from __future__ import annotations

import pytest

from kernel import topics
from kernel.unit_of_work import OutboxMessage, build_envelope
from reporting_service.keyspace import Keyspace
from reporting_service.projections.registry import to_change
from reporting_service.stats import RegistrationCounts
from turnout.event.v1 import catalog_events_pb2
from turnout.participant.v1 import registration_events_pb2 as events
from turnout.participant.v1 import registration_pb2 as rpb

KEYS = Keyspace(prefix="t")


def registration_change(payload_type, reconfirmation: int,  # type: ignore[no-untyped-def]
                        state: int = rpb.REGISTRATION_STATE_CONFIRMED) -> bytes:
    registration = rpb.Registration(name="registrations/r1", participant="participants/p1", session="sessions/s1",
                                    state=state, attendance=rpb.ATTENDANCE_EXPECTED, reconfirmation=reconfirmation)
    envelope = build_envelope(OutboxMessage(topics.PARTICIPANTS, "registration", "r1", 3,
                                            payload_type(registration=registration)))
    envelope.actor = "participant-p1"
    return envelope.SerializeToString()


def hset_of(topic: str, raw: bytes, key_prefix: str) -> list:
    """The HSET of the envelope's change on the key starting with `key_prefix`."""
    change = to_change(topic, raw, KEYS)
    assert change is not None
    return next(c for c in change.commands if c[0] == "HSET" and c[1].startswith(key_prefix))


def audit_fields(topic: str, raw: bytes) -> dict:
    command = hset_of(topic, raw, KEYS.audit_entry(""))
    return dict(zip(command[2::2], command[3::2], strict=True))


def test_a_reconfirmation_change_sets_the_registrations_stats_entry() -> None:
    raw = registration_change(events.RegistrationReconfirmationChanged, rpb.RECONFIRMATION_UNANSWERED_KEPT)
    assert hset_of(topics.PARTICIPANTS, raw, KEYS.session_registrations("s1"))[2:] == ["r1", "confirmed|expected|unanswered_kept"]


def test_counts_bucket_the_latest_reconfirmation_and_take_entries_of_older_generations() -> None:
    counts = RegistrationCounts.of([
        "confirmed|expected|confirmed", "cancelled|expected|declined", "confirmed|expected|requested",
        "confirmed|expected|unanswered_kept", "cancelled|expected|unanswered_released", "confirmed|expected|",
        "confirmed|attended"])  # the last: projected before reconfirmations existed
    assert dict(counts.by_reconfirmation) == {"confirmed": 1, "declined": 1, "no_answer": 3}
    assert (counts.by_state["confirmed"], counts.by_state["cancelled"], counts.registered) == (5, 2, 5)
    counts += RegistrationCounts.of(["confirmed|expected|confirmed"])
    assert counts.by_reconfirmation["confirmed"] == 2


@pytest.mark.parametrize("payload_type, reconfirmation, state, detail", [
    (events.RegistrationReconfirmationChanged, rpb.RECONFIRMATION_REQUESTED, rpb.REGISTRATION_STATE_CONFIRMED,
     "reconfirmation requested"),
    (events.RegistrationReconfirmationChanged, rpb.RECONFIRMATION_CONFIRMED, rpb.REGISTRATION_STATE_CONFIRMED,
     "reconfirmation confirmed"),
    (events.RegistrationReconfirmationChanged, rpb.RECONFIRMATION_UNANSWERED_KEPT, rpb.REGISTRATION_STATE_CONFIRMED,
     "reconfirmation unanswered_kept"),
    (events.RegistrationCancelled, rpb.RECONFIRMATION_DECLINED, rpb.REGISTRATION_STATE_CANCELLED,
     "reconfirmation declined"),
    (events.RegistrationCancelled, rpb.RECONFIRMATION_UNANSWERED_RELEASED, rpb.REGISTRATION_STATE_CANCELLED,
     "reconfirmation unanswered_released"),
    # An ordinary cancellation, even of a reconfirmed registration, is no reconfirmation step.
    (events.RegistrationCancelled, rpb.RECONFIRMATION_CONFIRMED, rpb.REGISTRATION_STATE_CANCELLED, ""),
    (events.AttendanceMarked, rpb.RECONFIRMATION_CONFIRMED, rpb.REGISTRATION_STATE_CONFIRMED, ""),
])
def test_the_audit_entry_says_which_reconfirmation_step(payload_type, reconfirmation, state, detail) -> None:
    fields = audit_fields(topics.PARTICIPANTS, registration_change(payload_type, reconfirmation, state))
    assert fields["detail"] == detail
    assert (fields["command"], fields["actor"]) == (payload_type.DESCRIPTOR.full_name, "participant-p1")
    assert (fields["target_type"], fields["target_id"]) == ("registration", "r1")


def test_occurrence_rounds_scheduled_is_audited_and_applied_without_a_projection() -> None:
    payload = catalog_events_pb2.OccurrenceRoundsScheduled()
    raw = build_envelope(OutboxMessage(topics.CATALOG, "occurrence", "o1", 4, payload)).SerializeToString()
    change = to_change(topics.CATALOG, raw, KEYS)
    assert (change.aggregate_type, change.aggregate_id, change.aggregate_version) == ("occurrence", "o1", 4)
    assert all(c[1].startswith(KEYS.prefix + ":audit:") for c in change.commands), "audited, nothing else"
    fields = audit_fields(topics.CATALOG, raw)
    assert (fields["command"], fields["detail"]) == ("turnout.event.v1.OccurrenceRoundsScheduled", "")

