"""EventService seat ledger methods: translate the request, call one handler, translate the result."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from event_service.api.convert import RELEASE_REASON_FROM_PROTO, duration_to_timedelta, seat_to_proto
from event_service.application import ledger
from kernel.errors import InvalidArgument
from kernel.idempotency import fingerprint
from kernel.unit_of_work import UnitOfWorkFactory
from turnout.event.v1 import event_service_pb2, seat_pb2


class LedgerMethods:
    _uow: UnitOfWorkFactory
    _clock: Callable[[], datetime]

    async def HoldSeat(self, request: event_service_pb2.HoldSeatRequest, context) -> seat_pb2.Seat:
        ttl = duration_to_timedelta(request.ttl.seconds, request.ttl.nanos) if request.HasField("ttl") else None
        command = ledger.TakeSeat(session=request.session, participant=request.participant, ttl=ttl, hold=True,
                                  override_capacity=request.override_capacity, request_id=request.request_id,
                                  fingerprint=fingerprint(request))
        return seat_to_proto(await ledger.take_seat(command, self._uow, self._clock()))

    async def BookSeat(self, request: event_service_pb2.BookSeatRequest, context) -> seat_pb2.Seat:
        command = ledger.TakeSeat(session=request.session, participant=request.participant, ttl=None, hold=False,
                                  override_capacity=request.override_capacity, request_id=request.request_id,
                                  fingerprint=fingerprint(request))
        return seat_to_proto(await ledger.take_seat(command, self._uow, self._clock()))

    async def ConfirmSeat(self, request: event_service_pb2.ConfirmSeatRequest, context) -> seat_pb2.Seat:
        command = ledger.ConfirmSeat(name=request.name, request_id=request.request_id, fingerprint=fingerprint(request))
        return seat_to_proto(await ledger.confirm_seat(command, self._uow, self._clock()))

    async def ReleaseSeat(self, request: event_service_pb2.ReleaseSeatRequest, context) -> seat_pb2.Seat:
        reason = RELEASE_REASON_FROM_PROTO.get(request.reason)
        if reason is None:
            raise InvalidArgument.single("reason", f"is not a known release reason: {request.reason}")
        command = ledger.ReleaseSeat(name=request.name, reason=reason, request_id=request.request_id,
                                     fingerprint=fingerprint(request))
        return seat_to_proto(await ledger.release_seat(command, self._uow, self._clock()))

    async def GetSeat(self, request: event_service_pb2.GetSeatRequest, context) -> seat_pb2.Seat:
        return seat_to_proto(await ledger.get_seat_named(request.name, self._uow))
