"""EventService over gRPC, composed of one method group per area of the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from event_service.api.catalog import CatalogMethods
from event_service.api.ledger import LedgerMethods
from event_service.api.lifecycle import LifecycleMethods
from event_service.api.venues import VenueMethods
from kernel.unit_of_work import UnitOfWorkFactory
from turnout.event.v1 import event_service_pb2_grpc


def utc_now() -> datetime:
    return datetime.now(UTC)


class EventServicer(VenueMethods, CatalogMethods, LedgerMethods, LifecycleMethods,
                    event_service_pb2_grpc.EventServiceServicer):
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Callable[[], datetime] = utc_now):
        self._uow = uow_factory
        # Booking windows, start times and hold expiry are judged by this clock; tests move it.
        self._clock = clock
