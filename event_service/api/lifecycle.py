"""EventService occurrence lifecycle methods: translate the request, call one handler,
translate the result."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from event_service.api.convert import (
    STATE_FROM_PROTO,
    lifecycle_occurrence_to_proto,
    occurrence_rounds_to_proto,
)
from event_service.application import lifecycle, rounds
from kernel.idempotency import fingerprint
from kernel.unit_of_work import UnitOfWorkFactory
from turnout.event.v1 import event_service_pb2, session_pb2


class LifecycleMethods:
    _uow: UnitOfWorkFactory
    _clock: Callable[[], datetime]

    async def GetOccurrence(self, request: event_service_pb2.GetOccurrenceRequest,
                            context) -> session_pb2.Occurrence:
        return lifecycle_occurrence_to_proto(await lifecycle.get_occurrence(request.name, self._uow))

    async def TransitionOccurrence(self, request: event_service_pb2.TransitionOccurrenceRequest,
                                   context) -> session_pb2.Occurrence:
        command = lifecycle.TransitionOccurrence(name=request.name, target=STATE_FROM_PROTO.get(request.target_state),
                                                 request_id=request.request_id, fingerprint=fingerprint(request))
        return lifecycle_occurrence_to_proto(await lifecycle.transition_occurrence(command, self._uow, self._clock()))

    async def GetOccurrenceRounds(self, request: event_service_pb2.GetOccurrenceRoundsRequest,
                                  context) -> session_pb2.OccurrenceRounds:
        return occurrence_rounds_to_proto(await rounds.get_occurrence_rounds(request.name, self._uow))

    async def ScheduleOccurrenceRounds(self, request: event_service_pb2.ScheduleOccurrenceRoundsRequest,
                                       context) -> session_pb2.OccurrenceRounds:
        made = await rounds.schedule_occurrence_rounds(request.occurrence, self._uow, self._clock())
        return occurrence_rounds_to_proto(made)
