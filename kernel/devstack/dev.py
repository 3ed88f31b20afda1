"""What `turnout dev` does around the stack: boot in order, prove one event end to end, seed
the demo data, and wait for Ctrl-C."""

from __future__ import annotations

import pathlib
import signal
import time
import uuid
from datetime import date, timedelta

import httpx

from kernel.devstack.processes import wait_until
from kernel.devstack.stack import DevStack
from kernel.settings import SettingsError

DEMO_VENUES = ("Цветной", "Гиляровского", "Ясная")


def boot(data_dir: pathlib.Path, *, gateway_port: int, durable: bool) -> tuple[DevStack, dict[str, float]]:
    """Engines, migrations, then every component; seconds until each was ready."""
    stack = DevStack(data_dir, gateway_port=gateway_port, durable=durable)
    try:
        stack.prepare()
        timings = stack.start_engines()
        began = time.perf_counter()
        stack.migrate()
        timings["migrations"] = time.perf_counter() - began
        stack.start_components()
        timings.update(stack.wait_ready())
    except BaseException:
        stack.stop()
        raise
    return stack, timings


def _client(stack: DevStack, token: str) -> httpx.Client:
    return httpx.Client(base_url=stack.urls()["gateway"], headers={"Authorization": f"Bearer {token}"}, timeout=10)


def end_to_end_check(stack: DevStack, token: str, timeout: float = 20.0) -> None:
    """Creates a venue through REST and waits for it in the read model (REST → gRPC →
    Postgres + outbox → relay → Kafka → projector → Redis → REST)."""
    with _client(stack, token) as client:
        ready = client.get("/readyz")
        if ready.status_code != 200:
            raise SettingsError(f"gateway /readyz answered {ready.status_code}: {ready.text}")
        created = client.post("/v1/venues", json={"name": f"dev-check {uuid.uuid4().hex[:8]}"},
                              headers={"Idempotency-Key": str(uuid.uuid4())})
        if created.status_code != 201:
            raise SettingsError(f"event-service: creating a venue answered {created.status_code}: {created.text}")
        venue_id = created.json()["id"]
        wait_until(lambda: client.get(f"/v1/venues/{venue_id}/stats").status_code == 200, timeout=timeout,
                   what="the venue in the read model (event-relay → kafka → projector → redis)")


def seed_demo_data(stack: DevStack, token: str) -> None:
    """The demo venues and three events; a second run adds nothing (fixed request ids for the
    venues, and events are looked up by title first)."""
    with _client(stack, token) as client:
        venue_ids = {}
        for name in DEMO_VENUES:
            key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"turnout-demo-venue:{name}"))
            answer = client.post("/v1/venues", json={"name": name}, headers={"Idempotency-Key": key})
            if answer.status_code not in (200, 201):
                raise SettingsError(f"seeding venue {name} answered {answer.status_code}: {answer.text}")
            venue_ids[name] = answer.json()["id"]
        for event in _demo_events(venue_ids):
            listed = client.get("/v1/events", params={"q": event["title"]})
            if listed.status_code == 200 and any(e["title"] == event["title"] for e in listed.json()["events"]):
                continue
            answer = client.post("/v1/events", json=event)
            if answer.status_code != 201:
                raise SettingsError(f"seeding event {event['title']} answered {answer.status_code}: {answer.text}")


def _demo_events(venue_ids: dict[str, str]) -> list[dict]:
    soon = (date.today() + timedelta(days=7)).isoformat()
    debate_case = {"start_time": "12:00", "duration_minutes": 120, "booking_window_days": 30}
    return [
        {
            # The debate system: one case per participant; two pairs of cases share their seats.
            "title": "Дебаты: кейсы партнёров",
            "venue_id": venue_ids["Ясная"],
            "capacity": 115,
            "kind": "one_off",
            "first_date": soon,
            "sessions": [
                {"key": "vtb", "service_id": "case-vtb", "capacity": 32, **debate_case},
                {"key": "alabuga", "service_id": "case-alabuga", "capacity": 41, **debate_case},
                {"key": "b1", "service_id": "case-b1", "capacity": 41, **debate_case},
                {"key": "severstal", "service_id": "case-severstal", "capacity": 42, **debate_case},
                {"key": "alfa", "service_id": "case-alfa", "capacity": 42, **debate_case},
            ],
            "pools": [
                {"name": "Алабуга + Б1", "limit": 41, "session_keys": ["alabuga", "b1"]},
                {"name": "Северсталь + Альфа", "limit": 42, "session_keys": ["severstal", "alfa"]},
            ],
            "max_sessions_per_participant": 1,
        },
        {
            "title": "Помощь на Цветном",
            "venue_id": venue_ids["Цветной"],
            "capacity": 60,
            "kind": "recurring",
            "first_date": soon,
            "recurrence": {"frequency": "weekly", "interval": 1},
            "sessions": [
                {"key": "laundry", "service_id": "laundry", "start_time": "10:00"},
                {"key": "shower", "service_id": "shower", "start_time": "10:00"},
                {"key": "doctor", "service_id": "medical-consultation", "start_time": "11:00"},
            ],
        },
        {
            # The rounds format: groups of at most 6, 7-minute meetings with 3-minute breaks;
            # the schedule is drawn once the occurrence is ready (2 h before the start).
            "title": "Быстрые знакомства",
            "venue_id": venue_ids["Гиляровского"],
            "capacity": 24,
            "kind": "one_off",
            "first_date": soon,
            "sessions": [{"key": "evening", "service_id": "speed-dating", "start_time": "19:00"}],
            "rounds": {"round_minutes": 7, "break_minutes": 3, "group_size": 6},
        },
    ]


def wait_for_exit(stack: DevStack) -> None:
    """Announces the stack in stack.json, then blocks until Ctrl-C or SIGTERM, or until a
    component dies (then says which)."""
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    # Written last, with the handlers in place: its presence tells scripts the stack is ready.
    stack.write_stack_json()
    while not stopping:
        for name, component in stack.components.items():
            if component.process.poll() is not None:
                raise SettingsError(f"{name} exited with code {component.process.returncode}; see {component.log_path}")
        time.sleep(0.5)
