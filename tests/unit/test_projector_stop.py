"""The projector's loop stops without making a new consumer once it is told to stop: a consumer
made while the broker is away blocks for its whole bootstrap timeout, and `turnout dev`'s
children are stopped together with the broker (tests/e2e/test_dev_check.py). Fakes stand in for
Kafka and the store; only the loop's logic is under test."""

from __future__ import annotations

import threading

from redis.exceptions import ConnectionError as RedisConnectionError

from reporting_service.projector import Projector


class FakeConsumer:
    def __init__(self) -> None:
        self.closed = 0

    def close(self, autocommit: bool = True) -> None:
        self.closed += 1


class FailingStep(Projector):
    """Every step fails as if Redis went away; the first failure also brings the stop signal."""

    def __init__(self, factory, stop: threading.Event) -> None:
        super().__init__(factory, store=None)  # type: ignore[arg-type]
        self._stop = stop
        self.steps = 0

    def step(self, consumer) -> int:  # type: ignore[no-untyped-def]
        self.steps += 1
        self._stop.set()
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1. Connection refused.")


def test_a_stop_during_a_failure_makes_no_new_consumer():
    made: list[FakeConsumer] = []

    def factory() -> FakeConsumer:
        made.append(FakeConsumer())
        return made[-1]

    stop = threading.Event()
    projector = FailingStep(factory, stop)
    projector.run(stop)
    assert projector.steps == 1
    assert len(made) == 1 and made[0].closed == 1


def test_a_failure_without_a_stop_makes_a_new_consumer_after_the_pause():
    made: list[FakeConsumer] = []
    stop = threading.Event()

    def factory() -> FakeConsumer:
        made.append(FakeConsumer())
        if len(made) == 2:
            stop.set()
        return made[-1]

    class FailsOnce(Projector):
        def step(self, consumer) -> int:  # type: ignore[no-untyped-def]
            raise RedisConnectionError("Connection refused.")

    FailsOnce(factory, store=None).run(stop)  # type: ignore[arg-type]
    assert len(made) == 2 and [c.closed for c in made] == [1, 1]
