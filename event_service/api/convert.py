"""Domain objects as their protobuf messages."""

from __future__ import annotations

from datetime import timedelta

from event_service.domain.events import (
    Event,
    EventKind,
    EventStatus,
    Occurrence,
    Service,
    Session,
)
from event_service.domain.ledger import ReleaseReason, Seat, SeatState, SessionCounts
from event_service.domain.lifecycle import (
    LifecycleOccurrence,
    LifecyclePolicy,
    OccurrenceState,
    PolicySpec,
)
from event_service.domain.recurrence import Frequency
from event_service.domain.rounds import OccurrenceRounds, RoundsFormat
from event_service.domain.venues import Venue
from kernel.resources import to_timestamp
from turnout.event.v1 import (
    event_pb2,
    ledger_events_pb2,
    seat_pb2,
    service_pb2,
    session_pb2,
    venue_pb2,
)

KIND_TO_PROTO = {EventKind.ONE_OFF: event_pb2.EVENT_KIND_ONE_OFF, EventKind.RECURRING: event_pb2.EVENT_KIND_RECURRING}
KIND_FROM_PROTO = {number: kind for kind, number in KIND_TO_PROTO.items()}
STATUS_TO_PROTO = {EventStatus.ACTIVE: event_pb2.EVENT_STATUS_ACTIVE,
                   EventStatus.ARCHIVED: event_pb2.EVENT_STATUS_ARCHIVED}
STATUS_FROM_PROTO = {number: status for status, number in STATUS_TO_PROTO.items()}
FREQUENCY_TO_PROTO = {Frequency.DAILY: event_pb2.FREQUENCY_DAILY, Frequency.WEEKLY: event_pb2.FREQUENCY_WEEKLY,
                      Frequency.MONTHLY: event_pb2.FREQUENCY_MONTHLY}
FREQUENCY_FROM_PROTO = {number: frequency for frequency, number in FREQUENCY_TO_PROTO.items()}


def venue_to_proto(venue: Venue) -> venue_pb2.Venue:
    return venue_pb2.Venue(name=f"venues/{venue.id}", display_name=venue.display_name,
                           address=venue.address, create_time=to_timestamp(venue.created_at))


def service_to_proto(service: Service) -> service_pb2.Service:
    return service_pb2.Service(name=f"services/{service.id}", display_name=service.display_name,
                               default_capacity=service.default_capacity,
                               default_booking_window_days=service.default_booking_window_days,
                               default_duration_minutes=service.default_duration_minutes)


def event_to_proto(event: Event) -> event_pb2.Event:
    message = event_pb2.Event(
        name=f"events/{event.id}", title=event.title, venue=f"venues/{event.venue_id}", capacity=event.capacity,
        kind=KIND_TO_PROTO[event.kind], first_date=event.first_date.isoformat(),
        sessions=[event_pb2.SessionTemplate(
            key=t.key, service=f"services/{t.service_id}", start_time=t.start_time.strftime("%H:%M"),
            duration_minutes=t.duration_minutes, capacity=t.capacity, booking_window_days=t.booking_window_days)
            for t in event.sessions],
        pools=[event_pb2.PoolTemplate(display_name=p.display_name, limit=p.limit,
                                      session_keys=[event.template_key(t) for t in p.template_ids])
               for p in event.pools],
        max_sessions_per_participant=event.max_sessions_per_participant or 0,
        time_zone=event.time_zone, status=STATUS_TO_PROTO[event.status], schedule_text=event.schedule_text,
        create_time=to_timestamp(event.created_at), update_time=to_timestamp(event.updated_at),
        venue_display_name=event.venue_display_name,
    )
    if event.recurrence is not None:
        r = event.recurrence
        message.recurrence.CopyFrom(event_pb2.Recurrence(
            frequency=FREQUENCY_TO_PROTO[r.frequency], interval=r.interval,
            until_date=r.until.isoformat() if r.until else "", count=r.count or 0))
    if event.lifecycle is not None:
        message.lifecycle.CopyFrom(policy_to_proto(event.lifecycle))
    if event.rounds is not None:
        message.rounds.CopyFrom(rounds_format_to_proto(event.rounds))
    return message


def policy_to_proto(policy: LifecyclePolicy) -> event_pb2.LifecyclePolicy:
    message = event_pb2.LifecyclePolicy(keep_unanswered=not policy.release_unanswered)
    message.confirming_before.FromTimedelta(policy.confirming_before)
    message.reconfirmation_deadline_before.FromTimedelta(policy.reconfirmation_deadline_before)
    for offset in policy.reminders:
        message.reminders.add().FromTimedelta(offset)
    return message


def policy_spec_from_proto(policy: event_pb2.LifecyclePolicy) -> PolicySpec:
    """An unset duration takes its default; `reminders_default` the default reminders,
    otherwise the list as given (empty: none)."""
    def span(field: str) -> timedelta | None:
        if not policy.HasField(field):
            return None
        value = getattr(policy, field)
        return duration_to_timedelta(value.seconds, value.nanos)

    return PolicySpec(
        confirming_before=span("confirming_before"),
        reconfirmation_deadline_before=span("reconfirmation_deadline_before"),
        release_unanswered=not policy.keep_unanswered,
        reminders=None if policy.reminders_default else tuple(duration_to_timedelta(r.seconds, r.nanos)
                                                              for r in policy.reminders))


def rounds_format_to_proto(rounds: RoundsFormat) -> event_pb2.RoundsFormat:
    return event_pb2.RoundsFormat(round_minutes=rounds.round_minutes, break_minutes=rounds.break_minutes,
                                  group_size=rounds.group_size)


def rounds_format_from_proto(rounds: event_pb2.RoundsFormat) -> RoundsFormat:
    """As asked for: validated by the domain."""
    return RoundsFormat(round_minutes=rounds.round_minutes, break_minutes=rounds.break_minutes,
                        group_size=rounds.group_size)


def _participant(participant_id: str) -> str:
    return f"participants/{participant_id}"


def occurrence_rounds_to_proto(rounds: OccurrenceRounds) -> session_pb2.OccurrenceRounds:
    plan = rounds.schedule
    return session_pb2.OccurrenceRounds(
        name=f"occurrences/{rounds.occurrence_id}/rounds", occurrence=f"occurrences/{rounds.occurrence_id}",
        event=f"events/{rounds.event_id}", format=rounds_format_to_proto(plan.format), seed=plan.seed,
        start_time=to_timestamp(plan.starts_at), end_time=to_timestamp(plan.ends_at),
        groups=[session_pb2.RoundsGroup(
            index=group.index, participants=[_participant(p) for p in group.participants],
            rounds=[session_pb2.Round(
                index=played.index, start_time=to_timestamp(played.starts_at), end_time=to_timestamp(played.ends_at),
                pairs=[session_pb2.RoundPair(first=_participant(a), second=_participant(b)) for a, b in played.pairs],
                resting=_participant(played.resting) if played.resting else "")
                for played in group.rounds])
            for group in plan.groups],
        create_time=to_timestamp(rounds.created_at))


def occurrence_to_proto(occurrence: Occurrence) -> session_pb2.Occurrence:
    return session_pb2.Occurrence(name=f"occurrences/{occurrence.id}", event=f"events/{occurrence.event_id}",
                                  date=occurrence.date.isoformat(), capacity=occurrence.capacity,
                                  participants=occurrence.participants)


def session_to_proto(session: Session) -> session_pb2.Session:
    return session_pb2.Session(
        name=f"sessions/{session.id}", event=f"events/{session.event_id}",
        occurrence=f"occurrences/{session.occurrence_id}", service=f"services/{session.service_id}",
        venue=f"venues/{session.venue_id}", start_time=to_timestamp(session.starts_at),
        end_time=to_timestamp(session.ends_at), capacity=session.capacity,
        booking_window_days=session.booking_window_days, held=session.held, confirmed=session.confirmed,
        available=session.available, template_key=session.template_key, event_title=session.event_title,
        service_display_name=session.service_display_name, venue_display_name=session.venue_display_name,
        pools=[f"pools/{p}" for p in session.pool_ids],
    )


# --- the seat ledger ---------------------------------------------------------------------------

SEAT_STATE_TO_PROTO = {SeatState.HELD: seat_pb2.SEAT_STATE_HELD, SeatState.CONFIRMED: seat_pb2.SEAT_STATE_CONFIRMED,
                       SeatState.RELEASED: seat_pb2.SEAT_STATE_RELEASED, SeatState.EXPIRED: seat_pb2.SEAT_STATE_EXPIRED}
RELEASE_REASON_TO_PROTO = {ReleaseReason.CANCELLED: ledger_events_pb2.RELEASE_REASON_CANCELLED,
                           ReleaseReason.EVENT_DELETED: ledger_events_pb2.RELEASE_REASON_EVENT_DELETED}
# Unspecified means the ordinary case: someone cancelled the seat.
RELEASE_REASON_FROM_PROTO = {ledger_events_pb2.RELEASE_REASON_UNSPECIFIED: ReleaseReason.CANCELLED,
                             **{number: reason for reason, number in RELEASE_REASON_TO_PROTO.items()}}

# Far beyond any TTL the ledger accepts, yet inside what a timedelta can hold.
_DURATION_CLAMP_SECONDS = 10**9


def seat_to_proto(seat: Seat) -> seat_pb2.Seat:
    message = seat_pb2.Seat(
        name=f"seats/{seat.id}", session=f"sessions/{seat.session_id}",
        participant=f"participants/{seat.participant_id}", state=SEAT_STATE_TO_PROTO[seat.state],
        capacity_override=seat.capacity_override, create_time=to_timestamp(seat.created_at),
        update_time=to_timestamp(seat.updated_at), actor=seat.actor,
    )
    if seat.expires_at is not None:
        message.expire_time.CopyFrom(to_timestamp(seat.expires_at))
    return message


def counts_to_proto(counts: SessionCounts) -> seat_pb2.SessionCounts:
    return seat_pb2.SessionCounts(
        session=f"sessions/{counts.session_id}", capacity=counts.capacity, held=counts.held,
        confirmed=counts.confirmed, occurrence=f"occurrences/{counts.occurrence_id}",
        occurrence_capacity=counts.occurrence_capacity, occurrence_participants=counts.occurrence_participants,
        pools=[seat_pb2.PoolCount(pool=f"pools/{p.pool_id}", limit=p.limit, used=p.used) for p in counts.pools],
    )


def duration_to_timedelta(seconds: int, nanos: int) -> timedelta:
    """A google.protobuf.Duration as a timedelta, clamped so that absurd values stay absurd
    (and are refused by the domain) instead of overflowing."""
    clamped = max(-_DURATION_CLAMP_SECONDS, min(_DURATION_CLAMP_SECONDS, seconds))
    return timedelta(seconds=clamped, microseconds=nanos / 1000)


STATE_TO_PROTO = {
    OccurrenceState.SCHEDULED: session_pb2.OCCURRENCE_STATE_SCHEDULED,
    OccurrenceState.CONFIRMING: session_pb2.OCCURRENCE_STATE_CONFIRMING,
    OccurrenceState.READY: session_pb2.OCCURRENCE_STATE_READY,
    OccurrenceState.RUNNING: session_pb2.OCCURRENCE_STATE_RUNNING,
    OccurrenceState.FINISHED: session_pb2.OCCURRENCE_STATE_FINISHED,
    OccurrenceState.CANCELLED: session_pb2.OCCURRENCE_STATE_CANCELLED,
}
STATE_FROM_PROTO = {value: key for key, value in STATE_TO_PROTO.items()}


def lifecycle_occurrence_to_proto(occurrence: LifecycleOccurrence) -> session_pb2.Occurrence:
    message = session_pb2.Occurrence(
        name=f"occurrences/{occurrence.id}", event=f"events/{occurrence.event_id}",
        date=occurrence.date.isoformat(), capacity=occurrence.capacity, participants=occurrence.participants,
        state=STATE_TO_PROTO[occurrence.state])
    if occurrence.state_changed_at is not None:
        message.state_change_time.CopyFrom(to_timestamp(occurrence.state_changed_at))
    if occurrence.starts_at is not None:
        message.start_time.CopyFrom(to_timestamp(occurrence.starts_at))
        message.sessions.extend(f"sessions/{session_id}" for session_id in occurrence.session_ids)
    if occurrence.ends_at is not None:
        message.end_time.CopyFrom(to_timestamp(occurrence.ends_at))
    return message
