"""Rebuilding the read models: aside, from the topics or the outbox, swapped in whole.

Everything runs against the real engines: both outbox relays publish to the broker, a live
projector keeps a generation current, bookings go through RegistrationService. Each test
uses its own key root, so the generations it builds and swaps are its own.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass

import grpc
import pytest
import redis
import redis.asyncio as aioredis

from grpc_details import details
from kernel.kafka import ensure_topics, make_consumer, make_producer, make_reader
from kernel.relay import KafkaPublisher, OutboxRelay
from ledger_fixtures import SessionSpec, create_occurrence
from registration_fixtures import ADMIN, new_participants, register
from reporting_service import audit_log, generations
from reporting_service.api.servicer import ReportingServicer
from reporting_service.keyspace import Keyspace
from reporting_service.main import PROJECTED_TOPICS
from reporting_service.projections import export_rows
from reporting_service.projections.store import Fenced, ProjectionStore
from reporting_service.projector import Projector
from reporting_service.read_models import ReadModels
from reporting_service.rebuild import (
    AUTO,
    FAILED,
    OUTBOX,
    SUCCEEDED,
    TOPICS,
    OutboxSource,
    RebuildConfig,
    RebuildInProgress,
    Rebuilder,
    Rebuilds,
    Target,
    TopicSource,
    applied_versions,
    published_versions,
)
from reporting_service.stats import StatsReader

pytestmark = pytest.mark.integration

SCHEMAS = ("event_service", "participant_service")


@dataclass
class Live:
    """A live read side under its own root: relays, a projector, a client."""

    root: str
    client: aioredis.Redis
    sync_client: redis.Redis
    settings: object

    def keys(self, prefix: str | None = None) -> Keyspace:
        return Keyspace(prefix or self.root, root=self.root)

    async def active(self) -> str:
        return await generations.active_prefix(self.client, self.root)

    def rebuilds(self, *, topics: tuple[str, ...] = PROJECTED_TOPICS, rebuilder: type[Rebuilder] = Rebuilder,
                 **config: float) -> Rebuilds:
        settings = self.settings
        # The grace must outlast a reader's slowest request on a loaded machine: a read that
        # began on the previous generation would otherwise find it half dropped.
        quick = RebuildConfig(**{"stall_seconds": 2.0, "handover_seconds": 30.0, "retire_grace_seconds": 3.0,
                                 **config})

        def new_rebuilder(source: str) -> Rebuilder:
            return rebuilder(self.client, self.sync_client, root=self.root, source=source,
                             dsn=settings.asyncpg_dsn, topics=PROJECTED_TOPICS, config=quick,
                             # Small reads, so that even a short history takes many of them.
                             topic_source=lambda: TopicSource(lambda: make_reader(settings, topics), max_records=25),
                             outbox_source=lambda: OutboxSource(settings.asyncpg_dsn, PROJECTED_TOPICS, batch=25))

        return Rebuilds(self.client, self.root, new_rebuilder)


async def unsent(client_dsn: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(client_dsn)
    try:
        return sum([await connection.fetchval(f'SELECT count(*) FROM "{s}".outbox WHERE sent_at IS NULL')
                    for s in SCHEMAS])
    finally:
        await connection.close()


async def missing_from(live: Live, prefix: str) -> int:
    """Aggregate versions published to the topics that the generation does not hold yet."""
    target = Target()
    await published_versions(live.settings.asyncpg_dsn, PROJECTED_TOPICS, target)
    held = Target()
    await applied_versions(live.client, prefix, held)
    return sum(1 for key, version in target.needed.items() if held.needed.get(key, 0) < version)


async def settled(live: Live, timeout: float = 90.0) -> str:
    """Waits until the relays sent everything and the active generation holds it all."""
    deadline = time.monotonic() + timeout
    while True:
        prefix = await live.active()
        if not await unsent(live.settings.asyncpg_dsn) and not await missing_from(live, prefix):
            return prefix
        assert time.monotonic() < deadline, "the live read side never caught up"
        await asyncio.sleep(0.2)


def dump(client: redis.Redis, prefix: str, *, skip: tuple[str, ...] = (":totals",)) -> dict[str, object]:
    """Every key of a generation (relative to its prefix) with its value."""
    keys = sorted(k.decode() for k in client.scan_iter(match=f"{prefix}:*", count=2000))
    keys = [k for k in keys if k[len(prefix):] not in skip]
    pipeline = client.pipeline(transaction=False)
    for key in keys:
        pipeline.type(key)
    kinds = [kind.decode() for kind in pipeline.execute()]
    readers = {"hash": pipeline.hgetall, "set": pipeline.smembers, "string": pipeline.get,
               "zset": lambda k: pipeline.zrange(k, 0, -1, withscores=True), "list": lambda k: pipeline.lrange(k, 0, -1)}
    for key, kind in zip(keys, kinds, strict=True):
        readers[kind](key)
    values = pipeline.execute()
    return {key[len(prefix):]: (sorted(value) if isinstance(value, set) else value)
            for key, value in zip(keys, values, strict=True)}


def deleted_sessions(read_models: dict[str, object]) -> set[str]:
    return {key.rsplit(":", 1)[1] for key, value in read_models.items()
            if key.startswith(":avail:session-capacity:") and value and value[0][0].split(b":")[1] == b"deleted"}


def comparable(read_models: dict[str, object]) -> dict[str, object]:
    """The read models as readers see them: without the seat counts left behind by a deleted
    session's last ledger events when they were applied after its deletion (readers see
    the tombstone and nothing else)."""
    leftovers = {f":avail:session:{session_id}" for session_id in deleted_sessions(read_models)}
    return {key: value for key, value in read_models.items() if key not in leftovers}


def without_journaled(read_models: dict[str, object]) -> dict[str, object]:
    """The read models less the export audit entries (journaled: no topic has them)."""
    kept: dict[str, object] = {}
    for key, value in read_models.items():
        if key.startswith(":audit:entry:export-") or key.startswith(":audit:actor:analyst-1"):
            continue
        if key.startswith(":audit:") and isinstance(value, list):
            value = [m for m in value if b":export-" not in m[0]]
            if not value:
                continue
        kept[key] = value
    return kept


async def reference(live: Live) -> dict[str, object]:
    """The read models projected afresh from the whole outbox into a scratch generation."""
    prefix = f"{live.root}.reference{uuid.uuid4().hex[:6]}"
    store = ProjectionStore(live.sync_client, live.keys(prefix))
    source = OutboxSource(live.settings.asyncpg_dsn, PROJECTED_TOPICS)
    from reporting_service.projections.registry import to_change

    try:
        while messages := await source.read():
            store.apply([c for c in (to_change(t, raw, store.keyspace) for t, raw in messages) if c is not None])
        return dump(live.sync_client, prefix)
    finally:
        await source.close()
        await generations.drop(live.client, prefix)


@pytest.fixture
async def live(settings, unique, event_deps, participant_deps):
    root = f"test-rebuild-{unique}"
    ensure_topics(settings)
    client = aioredis.from_url(settings.redis_url)
    sync_client = redis.Redis.from_url(settings.redis_url)
    stop_relays = asyncio.Event()
    relays = [asyncio.create_task(OutboxRelay(settings.asyncpg_dsn, schema,
                                              lambda: KafkaPublisher(make_producer(settings)),
                                              batch_size=500, poll_seconds=0.1).run(stop_relays))
              for schema in SCHEMAS]
    stop_projector = threading.Event()
    projector = Projector(lambda: make_consumer(settings, f"test-rebuild-{unique}", PROJECTED_TOPICS),
                          ProjectionStore.live(sync_client, root))
    thread = threading.Thread(target=projector.run, args=(stop_projector,), daemon=True)
    thread.start()
    try:
        yield Live(root=root, client=client, sync_client=sync_client, settings=settings)
    finally:
        stop_projector.set()
        stop_relays.set()
        await asyncio.gather(*relays)
        thread.join(timeout=30)
        for key in sync_client.scan_iter(match=f"{root}*", count=2000):
            sync_client.unlink(key)
        await client.aclose()
        sync_client.close()


async def test_rebuild_from_topics_under_load_swaps_a_complete_generation(
        live, event_deps, registration_stub, participant_stub) -> None:
    occurrence = await create_occurrence(event_deps.engine, [SessionSpec("s", 400)])
    session, session_id = occurrence.session("s"), occurrence.sessions["s"]
    people = await new_participants(participant_stub, 60)
    for person in people[:20]:
        await registration_stub.CreateRegistration(register(session, person), metadata=ADMIN)
    before = await settled(live)
    assert before == live.root, "no rebuild yet: the root is the active generation"
    # An export's audit entry comes from no topic; a saved template is analysts' own data.
    await audit_log.record(live.client, live.keys(), entry_id=f"export-{uuid.uuid4()}", at_iso="2026-11-22T10:00:00Z",
                           actor="analyst-1", request_id="req-1", command="ExportRegistrations",
                           target_type="export", target_id="registrations", detail="{}")
    await live.client.hset(export_rows.template_key(live.keys(), "weekly"), mapping={"fields": "[]"})

    # Readers follow the swap; none may ever see a session missing or its seats go back.
    watched = live.keys()
    watch = generations.GenerationWatch(live.client, watched, interval=0.05)
    text_client = aioredis.from_url(live.settings.redis_url, decode_responses=True)
    reader, seen, stop = ReadModels(text_client, watched), [], asyncio.Event()

    async def read_continuously() -> None:
        while not stop.is_set():
            await watch.refresh()
            view = await reader.availability(session_id)
            seen.append((watched.prefix, None if view is None else view.confirmed))
            await asyncio.sleep(0.01)

    async def book_meanwhile() -> None:
        for person in people[20:]:
            await registration_stub.CreateRegistration(register(session, person), metadata=ADMIN)
            await asyncio.sleep(0.02)

    class ChangesBeforeTheFence(Rebuilder):
        """Makes sure the active generation moved on after the replay covered the target and
        before the fence: the handover must catch up with exactly that."""

        async def _raise_fence(self) -> None:
            for person in extra:
                await registration_stub.CreateRegistration(register(session, person), metadata=ADMIN)
            await settled(live)
            await super()._raise_fence()

    extra = await new_participants(participant_stub, 5)
    rebuilds = live.rebuilds(rebuilder=ChangesBeforeTheFence)
    reading, booking = asyncio.create_task(read_continuously()), asyncio.create_task(book_meanwhile())
    started = await rebuilds.start(TOPICS)
    await rebuilds.wait()
    await booking
    stop.set()
    await reading

    done = await rebuilds.get(started.rebuild_id)
    assert (done.state, done.used_source, done.error) == (SUCCEEDED, TOPICS, "")
    assert done.covered == done.target > 0 and done.replayed >= done.target
    assert await live.active() == done.generation != live.root
    assert not list(live.sync_client.scan_iter(match=f"{live.root}:*", count=1000)), "previous generation dropped"
    assert not await live.client.exists(generations.fence_key(live.root))
    assert None not in [confirmed for _, confirmed in seen], "a reader found the session missing"
    confirmed = [c for _, c in seen]
    assert confirmed == sorted(confirmed), f"a reader saw seats go back: {seen} (generation {done.generation})"
    assert {prefix for prefix, _ in seen} == {live.root, done.generation}

    after = await settled(live)
    rebuilt = dump(live.sync_client, after)
    expected = await reference(live)
    assert any(k.startswith(":audit:entry:export-") for k in rebuilt), "the export's audit entry survived"
    assert comparable(without_journaled(rebuilt)) == comparable(expected)
    text_client = aioredis.from_url(live.settings.redis_url, decode_responses=True)
    stats = await StatsReader(text_client, Keyspace(after, root=live.root)).session(session_id)
    await text_client.aclose()
    assert stats.counts.registered == 65
    assert await live.client.hgetall(export_rows.template_key(live.keys(after), "weekly")) == {b"fields": b"[]"}


async def test_auto_falls_back_to_the_outbox_when_the_topics_lost_history(live, unique, event_deps,
                                                                          registration_stub, participant_stub) -> None:
    occurrence = await create_occurrence(event_deps.engine, [SessionSpec("s", 40)])
    for person in await new_participants(participant_stub, 30):
        await registration_stub.CreateRegistration(register(occurrence.session("s"), person), metadata=ADMIN)
    await settled(live)
    # A broker that restarted without its data: topics that exist but hold nothing.
    emptied = tuple(f"test.emptied.{unique}.{i}" for i in range(3))
    ensure_topics(live.settings, emptied)

    rebuilds = live.rebuilds(topics=emptied, stall_seconds=1.0)
    started = await rebuilds.start(AUTO)
    await rebuilds.wait()
    done = await rebuilds.get(started.rebuild_id)
    assert (done.state, done.used_source) == (SUCCEEDED, OUTBOX), done.error
    assert await live.active() == done.generation
    # The generation the topic attempt had begun was dropped: only the outbox one remains.
    assert not [k for k in live.sync_client.scan_iter(match=f"{live.root}.*", count=2000)
                if not k.decode().startswith(done.generation + ":")]
    after = await settled(live)
    assert comparable(dump(live.sync_client, after)) == comparable(await reference(live))


async def test_topics_only_rebuild_of_lost_history_fails_and_keeps_the_current_generation(live, unique) -> None:
    await settled(live)
    emptied = (f"test.emptied.{unique}",)
    ensure_topics(live.settings, emptied)
    before = dump(live.sync_client, live.root)
    rebuilds = live.rebuilds(topics=emptied, stall_seconds=1.0)
    started = await rebuilds.start(TOPICS)
    await rebuilds.wait()
    done = await rebuilds.get(started.rebuild_id)
    assert done.state == FAILED and "no longer hold" in done.error
    assert await live.active() == live.root
    assert not list(live.sync_client.scan_iter(match=f"{live.root}.*", count=2000)), "half-built generation dropped"
    assert not await live.client.exists(generations.fence_key(live.root))
    assert dump(live.sync_client, live.root).keys() >= before.keys()


async def test_one_rebuild_at_a_time(live) -> None:
    rebuilds = live.rebuilds()
    first = await rebuilds.start(OUTBOX)
    with pytest.raises(RebuildInProgress) as refused:
        await rebuilds.start(TOPICS)
    assert refused.value.metadata == {"rebuild": f"rebuilds/{first.rebuild_id}"}
    await rebuilds.wait()
    assert (await rebuilds.get(first.rebuild_id)).state == SUCCEEDED
    second = await rebuilds.start(OUTBOX)
    await rebuilds.wait()
    assert (await rebuilds.get(second.rebuild_id)).state == SUCCEEDED


async def test_the_fence_stops_the_live_projector_and_it_resumes_after(live, settings, unique) -> None:
    await settled(live)
    store = ProjectionStore.live(live.sync_client, live.root)
    from reporting_service.projections.store import Change

    change = Change("turnout.test", "thing", f"t-{unique}", 1, [["SET", ":test:thing", "1"]])
    await live.client.set(generations.fence_key(live.root), "test", px=10_000)
    with pytest.raises(Fenced):
        store.apply([change])
    assert not await live.client.exists(f"{live.root}:test:thing")
    await live.client.delete(generations.fence_key(live.root))
    assert store.apply([change]) == 1
    assert await live.client.get(f"{live.root}:test:thing") == b"1"
    assert not await live.client.exists(generations.refusals_key(live.root)), "batches clean up after themselves"


async def test_a_refusal_holds_for_the_rest_of_its_batch(live, unique) -> None:
    """A fence that falls in the middle of a batch (a swap) must not let the batch's later
    changes overtake the refused ones."""
    store = ProjectionStore.live(live.sync_client, live.root)
    keys = [generations.active_key(live.root), generations.fence_key(live.root), generations.refusals_key(live.root)]

    def run(batch: str, version: int) -> int:
        return store._script(keys=keys, args=[live.root, ":versions:t:thing", ":totals", f"s-{unique}", version,
                                              '[["SET", ":test:sticky", "%d"]]' % version, batch])

    await live.client.set(generations.fence_key(live.root), "test", px=10_000)
    assert run("batch-1", 1) == -1
    await live.client.delete(generations.fence_key(live.root))
    assert run("batch-1", 2) == -1, "the rest of batch-1 is refused too"
    assert run("batch-2", 1) == 1
    assert await live.client.get(f"{live.root}:test:sticky") == b"1"


async def test_a_pinned_reader_holds_its_generation_until_it_finishes(live) -> None:
    await settled(live)
    async with generations.reading(live.client, live.keys()):
        assert await generations.readers(live.client, live.root, live.root) == 1
        assert await generations.readers(live.client, live.root, f"{live.root}.other") == 0
    assert await generations.readers(live.client, live.root, live.root) == 0


# --- over gRPC -----------------------------------------------------------------------------------


@pytest.fixture
async def rebuild_stub(live):
    from kernel.grpc_server import create_server
    from turnout.reporting.v1 import reporting_service_pb2_grpc

    keys = live.keys()
    text_client = aioredis.from_url(live.settings.redis_url, decode_responses=True)
    servicer = ReportingServicer(ReadModels(text_client, keys), StatsReader(text_client, keys),
                                 rebuilds=live.rebuilds())
    server = create_server("127.0.0.1", 0, [
        lambda s: reporting_service_pb2_grpc.add_ReportingServiceServicer_to_server(servicer, s)],
        ["turnout.reporting.v1.ReportingService"])
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield reporting_service_pb2_grpc.ReportingServiceStub(channel), servicer, server.port
    await servicer._rebuilds.wait()
    await server.stop(0)
    await text_client.aclose()


async def test_grpc_start_follow_and_refusals(rebuild_stub, live) -> None:
    from turnout.reporting.v1 import reporting_service_pb2 as pb

    stub, servicer, _ = rebuild_stub
    await settled(live)
    started = await stub.StartRebuild(pb.StartRebuildRequest(source=pb.REBUILD_SOURCE_OUTBOX))
    assert started.name.startswith("rebuilds/") and started.state == pb.REBUILD_STATE_RUNNING
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.StartRebuild(pb.StartRebuildRequest())
    assert refused.value.code() == grpc.StatusCode.ABORTED
    assert details(refused.value)[0] == "REBUILD_IN_PROGRESS"
    await servicer._rebuilds.wait()
    done = await stub.GetRebuild(pb.GetRebuildRequest(name=started.name))
    assert (done.state, done.used_source, done.phase) == (pb.REBUILD_STATE_SUCCEEDED, pb.REBUILD_SOURCE_OUTBOX, "done")
    assert done.covered == done.target and done.HasField("end_time") and done.generation == await live.active()

    for request, code in ((pb.GetRebuildRequest(name="rebuilds/nope"), grpc.StatusCode.NOT_FOUND),
                          (pb.GetRebuildRequest(name="elsewhere/x"), grpc.StatusCode.INVALID_ARGUMENT)):
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.GetRebuild(request)
        assert failed.value.code() == code
    with pytest.raises(grpc.aio.AioRpcError) as bad_source:
        await stub.StartRebuild(pb.StartRebuildRequest(source=42))
    assert bad_source.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "source" in str(details(bad_source.value))


@pytest.fixture
async def rebuild_rest(settings, rebuild_stub):
    import httpx

    from gateway.app import create_app
    from kernel.auth import issue_token

    _, servicer, port = rebuild_stub
    app = create_app(settings.model_copy(update={
        "event_service_target": "127.0.0.1:1", "participant_service_target": "127.0.0.1:1",
        "reporting_service_target": f"127.0.0.1:{port}"}))
    token = issue_token(settings.auth_secret, sub="admin-1", roles=["admin"])
    async with (app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                  headers={"Authorization": f"Bearer {token}"}) as rest):
        yield rest, servicer


async def test_rest_start_and_follow_a_rebuild(rebuild_rest, live, settings) -> None:
    from kernel.auth import issue_token

    rest, servicer = rebuild_rest
    await settled(live)
    started = await rest.post("/v1/admin/read-models/rebuild", json={"source": "outbox"})
    assert started.status_code == 202, started.text
    body = started.json()
    assert started.headers["location"] == f"/v1/admin/read-models/rebuilds/{body['id']}"
    assert (body["state"], body["source"]) == ("running", "outbox")
    again = await rest.post("/v1/admin/read-models/rebuild")
    assert again.status_code == 409 and again.json()["code"] == "rebuild_in_progress"
    assert again.headers["content-type"].startswith("application/problem+json")
    await servicer._rebuilds.wait()
    done = (await rest.get(started.headers["location"])).json()
    assert (done["state"], done["used_source"], done["phase"]) == ("succeeded", "outbox", "done")
    assert done["covered"] == done["target"] and done["ended_at"] and done["error"] is None

    bad = await rest.post("/v1/admin/read-models/rebuild", json={"source": "snapshots"})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["source"]
    missing = await rest.get("/v1/admin/read-models/rebuilds/nope")
    assert missing.status_code == 404
    analyst = issue_token(settings.auth_secret, sub="analyst-1", roles=["analyst"])
    forbidden = await rest.post("/v1/admin/read-models/rebuild", headers={"Authorization": f"Bearer {analyst}"})
    assert forbidden.status_code == 403
