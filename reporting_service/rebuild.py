"""Rebuilds every read model from scratch into a new generation, then swaps it in.

The new generation must hold, before it may replace the active one, every aggregate version
that the active one holds and that the command side had published (`Target`): the union
covers both a read model that lost data (Redis flushed: the outbox says what exists) and
events the relay delivered before marking them sent (the active generation says so).

Sources, read in per-aggregate order:
* the topics, from the beginning (DESIGN.md §6: never trust Tansu's end offsets; progress is
  measured on the data, by the target's coverage);
* the command services' outbox tables: every domain event each service committed, in commit
  order per aggregate (rows are marked sent, never deleted). This is the command-side
  history used when the topics no longer hold everything: a topic replay that brings
  nothing the target needs for `rebuild_stall_seconds` is incomplete, and AUTO starts again
  from the outbox into a fresh generation (mixing the two could skip older versions).

The handover protocol (fence, catch-up, atomic swap with the journal's tail) is described in
`reporting_service/generations.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import redis
from kafka import KafkaConsumer
from prometheus_client import Counter

from kernel.errors import Aborted
from reporting_service import generations
from reporting_service.keyspace import Keyspace
from reporting_service.projections.registry import to_change
from reporting_service.projections.store import ProjectionStore
from turnout.common.v1 import envelope_pb2

log = logging.getLogger("turnout.rebuild")

REBUILDS = Counter("turnout_read_model_rebuilds_total", "Read-model rebuilds by outcome", ["state"])

OUTBOX_SCHEMAS = ("event_service", "participant_service")
AUTO, TOPICS, OUTBOX = "auto", "topics", "outbox"
RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
LOCK_MS = 30_000
RECORD_TTL_SECONDS = 7 * 24 * 3600
READERS_WAIT_SECONDS = 3600.0

# KEYS: a lock. ARGV: its owner, ms. Extends the lock only while this rebuild owns it.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RebuildInProgress(Aborted):
    reason = "REBUILD_IN_PROGRESS"

    def __init__(self, running: str):
        super().__init__(f"rebuild {running} is still running; follow it with GetRebuild and retry once it ends",
                         metadata={"rebuild": f"rebuilds/{running}"})


class IncompleteSource(Exception):
    """The source no longer holds everything the new generation needs."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Progress:
    """What a rebuild reports; kept in Redis so any replica answers GetRebuild."""

    rebuild_id: str
    source: str
    state: str = RUNNING
    phase: str = "preparing"
    used_source: str = ""
    target: int = 0
    covered: int = 0
    replayed: int = 0
    generation: str = ""
    previous_generation: str = ""
    create_time: str = field(default_factory=_now)
    update_time: str = field(default_factory=_now)
    end_time: str = ""
    error: str = ""

    def as_hash(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_hash(cls, stored: dict[str, str]) -> Progress:
        values: dict[str, Any] = {f.name: stored.get(f.name, "") for f in fields(cls)}
        for name in ("target", "covered", "replayed"):
            values[name] = int(values[name] or 0)
        return cls(**values)


def record_key(root: str, rebuild_id: str) -> str:
    return f"{root}@rebuild:{rebuild_id}"


def lock_key(root: str) -> str:
    return f"{root}@rebuild-lock"


def building_key(root: str) -> str:
    """The generation a rebuild is filling; a later rebuild drops it if that one died."""
    return f"{root}@building"


async def load(client: Any, root: str, rebuild_id: str) -> Progress | None:
    stored = await client.hgetall(record_key(root, rebuild_id))
    if not stored:
        return None
    return Progress.from_hash({_text(k): _text(v) for k, v in stored.items()})


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Target:
    """Aggregate versions (per versions hash) the new generation must hold."""

    def __init__(self) -> None:
        self.needed: dict[tuple[str, str], int] = {}
        self.built: dict[tuple[str, str], int] = {}
        self.size = 0

    def require(self, key: tuple[str, str], version: int) -> None:
        if version > self.built.get(key, 0) and version > self.needed.get(key, 0):
            if key not in self.needed:
                self.size += 1
            self.needed[key] = version

    def saw(self, key: tuple[str, str], version: int) -> bool:
        """Notes that the new generation holds `version`; whether the target needed it."""
        if version > self.built.get(key, 0):
            self.built[key] = version
        needed = self.needed.get(key)
        if needed is None:
            return False
        if version >= needed:
            del self.needed[key]
        return True

    @property
    def covered(self) -> int:
        return self.size - len(self.needed)

    @property
    def complete(self) -> bool:
        return not self.needed


class Source(Protocol):
    name: str

    async def read(self) -> list[tuple[str, bytes]]:
        """The next messages (topic, envelope) in per-aggregate order; [] when none are ready."""

    async def close(self) -> None: ...


class TopicSource:
    name = TOPICS

    def __init__(self, consumer_factory: Callable[[], KafkaConsumer], *, max_records: int = 2000):
        self._factory = consumer_factory
        self._consumer: KafkaConsumer | None = None
        self._max_records = max_records

    def _poll(self) -> list[tuple[str, bytes]]:
        if self._consumer is None:
            self._consumer = self._factory()
        batches = self._consumer.poll(timeout_ms=200, max_records=self._max_records)
        return [(r.topic, r.value) for partition in batches.values() for r in partition]

    async def read(self) -> list[tuple[str, bytes]]:
        return await asyncio.to_thread(self._poll)

    async def close(self) -> None:
        if self._consumer is not None:
            await asyncio.to_thread(self._consumer.close, autocommit=False)


class OutboxSource:
    """Every committed outbox row of the command services, by id within each schema (one
    aggregate's events are all in one schema, in commit order)."""

    name = OUTBOX

    def __init__(self, dsn: str, topics: Iterable[str], schemas: Iterable[str] = OUTBOX_SCHEMAS, *,
                 batch: int = 2000):
        self._dsn = dsn
        self._topics = list(topics)
        self._after = {schema: 0 for schema in schemas}
        self._batch = batch
        self._connection: asyncpg.Connection | None = None

    async def read(self) -> list[tuple[str, bytes]]:
        if self._connection is None:
            self._connection = await asyncpg.connect(self._dsn, timeout=10)
        for schema, after in self._after.items():
            rows = await self._connection.fetch(
                f'SELECT id, topic, envelope FROM "{schema}".outbox WHERE id > $1 AND topic = ANY($2::text[]) '
                "ORDER BY id LIMIT $3", after, self._topics, self._batch)
            if rows:
                self._after[schema] = rows[-1]["id"]
                return [(row["topic"], bytes(row["envelope"])) for row in rows]
        return []

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


async def published_versions(dsn: str, topics: Iterable[str], target: Target,
                             schemas: Iterable[str] = OUTBOX_SCHEMAS) -> None:
    """Requires every version the command side has published to the projected topics."""
    suffixes = Keyspace("")
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        for schema in schemas:
            async with connection.transaction(readonly=True):
                async for row in connection.cursor(
                        f'SELECT topic, envelope FROM "{schema}".outbox WHERE sent_at IS NOT NULL '
                        "AND topic = ANY($1::text[])", list(topics), prefetch=5000):
                    envelope = envelope_pb2.Envelope.FromString(row["envelope"])
                    target.require((suffixes.versions(row["topic"], envelope.aggregate_type), envelope.aggregate_id),
                                   envelope.aggregate_version)
    finally:
        await connection.close()


async def applied_versions(client: Any, prefix: str, target: Target) -> None:
    """Requires every version a generation holds."""
    pattern = f"{prefix}:versions:*"
    cursor = 0
    while True:
        cursor, keys = await client.scan(cursor, match=pattern, count=500)
        for key in keys:
            suffix = _text(key)[len(prefix):]
            for aggregate_id, version in (await client.hgetall(key)).items():
                target.require((suffix, _text(aggregate_id)), int(version))
        if int(cursor) == 0:
            return


@dataclass
class RebuildConfig:
    stall_seconds: float = 5.0
    handover_seconds: float = 30.0
    retire_grace_seconds: float = 5.0


class Rebuilder:
    """One rebuild: `claim()` (refused while another runs), then `run()`."""

    def __init__(self, client: Any, sync_client: redis.Redis, *, root: str, source: str,
                 topic_source: Callable[[], Source], outbox_source: Callable[[], Source],
                 dsn: str, topics: Iterable[str], config: RebuildConfig | None = None):
        self._client = client  # redis.asyncio
        self._sync_client = sync_client
        self._root = root
        self._topic_source = topic_source
        self._outbox_source = outbox_source
        self._dsn = dsn
        self._topics = list(topics)
        self._config = config or RebuildConfig()
        self.progress = Progress(rebuild_id=uuid.uuid4().hex, source=source)
        self._fenced = False
        self._last_saved = 0.0

    @property
    def name(self) -> str:
        return f"rebuilds/{self.progress.rebuild_id}"

    async def claim(self) -> Progress:
        if not await self._client.set(lock_key(self._root), self.progress.rebuild_id, nx=True, px=LOCK_MS):
            running = _text(await self._client.get(lock_key(self._root)) or "")
            raise RebuildInProgress(running or "(ending)")
        await self._save(force=True)
        return self.progress

    async def run(self) -> Progress:
        """Builds, hands over and retires; never raises (the outcome is in the progress)."""
        heartbeat = asyncio.create_task(self._heartbeat())
        progress = self.progress
        try:
            await self._drop_abandoned()
            progress.previous_generation = await generations.active_prefix(self._client, self._root)
            order = [OUTBOX] if progress.source == OUTBOX else [TOPICS]
            if progress.source == AUTO:
                order.append(OUTBOX)
            for attempt, source_name in enumerate(order):
                try:
                    await self._build(source_name)
                    break
                except IncompleteSource as exc:
                    if attempt == len(order) - 1:
                        raise
                    log.warning("rebuild %s: %s; starting again from the outbox", progress.rebuild_id, exc)
            await self._retire(progress.previous_generation)
            progress.state, progress.phase = SUCCEEDED, "done"
        except Exception as exc:  # noqa: BLE001 - any failure must leave readers on the previous generation
            log.exception("rebuild %s failed", progress.rebuild_id)
            progress.state, progress.error = FAILED, str(exc) or type(exc).__name__
            await self._abandon()
        finally:
            heartbeat.cancel()
            progress.end_time = _now()
            REBUILDS.labels(progress.state).inc()
            await self._save(force=True)
            await self._client.expire(record_key(self._root, progress.rebuild_id), RECORD_TTL_SECONDS)
            await self._client.eval(_RELEASE, 1, lock_key(self._root), progress.rebuild_id)
        return progress

    async def _build(self, source_name: str) -> None:
        progress = self.progress
        generation = generations.generation_prefix(self._root, f"{progress.rebuild_id}{source_name[0]}")
        await self._client.set(building_key(self._root), generation)
        progress.generation, progress.used_source, progress.phase = generation, source_name, "replaying"
        progress.replayed = 0
        store = ProjectionStore(self._sync_client, Keyspace(generation, root=self._root))
        target = Target()
        await applied_versions(self._client, progress.previous_generation, target)
        await published_versions(self._dsn, self._topics, target)
        self._show(target)
        source = self._topic_source() if source_name == TOPICS else self._outbox_source()
        try:
            try:
                await self._replay(source, store, target, until=self._config.stall_seconds * 1e9)
            except IncompleteSource:
                await generations.drop(self._client, generation)
                raise
            progress.phase = "handing over"
            await self._raise_fence()
            await applied_versions(self._client, progress.previous_generation, target)
            self._show(target)
            try:
                await asyncio.wait_for(self._replay(source, store, target, until=None),
                                       self._config.handover_seconds)
            except TimeoutError:
                raise RuntimeError(f"the handover did not catch up within {self._config.handover_seconds:g} s "
                                   f"({len(target.needed)} aggregate versions missing)") from None
        finally:
            await source.close()
        journal_from = await self._copy_journal(generation)
        await generations.swap(self._client, self._root, generation, journal_from)
        self._fenced = False
        await self._client.delete(building_key(self._root))
        log.info("rebuild %s: generation %s is live (from the %s)", progress.rebuild_id, generation, source_name)

    async def _replay(self, source: Source, store: ProjectionStore, target: Target, *, until: float | None) -> None:
        """Applies the source until the target is covered. With `until` (ns), a replay that
        brings nothing the target needs for that long is incomplete."""
        last_useful = time.monotonic_ns()
        while not target.complete:
            messages = await source.read()
            if messages:
                useful = await asyncio.to_thread(self._apply, messages, store, target)
                self.progress.replayed += len(messages)
                if useful:
                    last_useful = time.monotonic_ns()
                self._show(target)
                await self._save()
            else:
                await asyncio.sleep(0.05)
            if until is not None and not target.complete and time.monotonic_ns() - last_useful > until:
                raise IncompleteSource(f"the {source.name} no longer hold {len(target.needed)} of the "
                                       f"{target.size} aggregate versions the read models need")

    @staticmethod
    def _apply(messages: list[tuple[str, bytes]], store: ProjectionStore, target: Target) -> int:
        changes = [c for c in (to_change(topic, raw, store.keyspace) for topic, raw in messages) if c is not None]
        store.apply(changes)
        suffixes = Keyspace("")
        return sum(target.saw((suffixes.versions(c.topic, c.aggregate_type), c.aggregate_id), c.aggregate_version)
                   for c in changes)

    async def _copy_journal(self, generation: str) -> int:
        """Replays the journal into the new generation; the length replayed (the swap replays
        what comes after, atomically)."""
        key = generations.journal_key(self._root)
        length = int(await self._client.llen(key))
        for start in range(0, length, 500):
            entries = await self._client.lrange(key, start, min(start + 499, length - 1))
            pipeline = self._client.pipeline(transaction=False)
            for entry in entries:
                for command in json.loads(entry):
                    pipeline.execute_command(command[0], generation + command[1], *command[2:])
            await pipeline.execute()
        return length

    async def _raise_fence(self) -> None:
        await self._client.set(generations.fence_key(self._root), self.progress.rebuild_id, px=generations.FENCE_MS)
        self._fenced = True

    async def _retire(self, previous: str) -> None:
        self.progress.phase = "retiring the previous generation"
        await self._save(force=True)
        await asyncio.sleep(self._config.retire_grace_seconds)
        waited = 0.0
        while await generations.readers(self._client, self._root, previous) and waited < READERS_WAIT_SECONDS:
            # An export still streams from it: it finishes on the generation it started on.
            await asyncio.sleep(0.5)
            waited += 0.5
        dropped = await generations.drop(self._client, previous)
        log.info("rebuild %s: dropped %d keys of generation %s", self.progress.rebuild_id, dropped, previous)

    async def _abandon(self) -> None:
        """After a failure: lower the fence, drop the half-built generation."""
        try:
            if self._fenced:
                await self._client.eval(_RELEASE, 1, generations.fence_key(self._root), self.progress.rebuild_id)
            active = await generations.active_prefix(self._client, self._root)
            if self.progress.generation and self.progress.generation != active:
                await generations.drop(self._client, self.progress.generation)
                await self._client.delete(building_key(self._root))
        except Exception:  # noqa: BLE001 - best effort; the next rebuild drops leftovers
            log.exception("rebuild %s: cleaning up after the failure failed", self.progress.rebuild_id)

    async def _drop_abandoned(self) -> None:
        """A generation left by a rebuild that died (its process killed) is dropped."""
        left = await self._client.get(building_key(self._root))
        if left and _text(left) != await generations.active_prefix(self._client, self._root):
            dropped = await generations.drop(self._client, _text(left))
            log.info("dropped %d keys of abandoned generation %s", dropped, _text(left))
        await self._client.delete(building_key(self._root))

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(2.0)
            try:
                await self._client.eval(_EXTEND, 1, lock_key(self._root), self.progress.rebuild_id, LOCK_MS)
                if self._fenced:
                    await self._client.eval(_EXTEND, 1, generations.fence_key(self._root), self.progress.rebuild_id,
                                            generations.FENCE_MS)
            except Exception:  # noqa: BLE001 - a missed beat is retried; expiry is the safety net
                log.warning("rebuild %s: heartbeat failed", self.progress.rebuild_id, exc_info=True)

    def _show(self, target: Target) -> None:
        self.progress.target, self.progress.covered = target.size, target.covered

    async def _save(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_saved < 0.5:
            return
        self._last_saved = now
        self.progress.update_time = _now()
        await self._client.hset(record_key(self._root, self.progress.rebuild_id), mapping=self.progress.as_hash())


class Rebuilds:
    """Starts rebuilds in this process and reports any rebuild's progress."""

    def __init__(self, client: Any, root: str, new_rebuilder: Callable[[str], Rebuilder]):
        self._client = client
        self._root = root
        self._new_rebuilder = new_rebuilder
        self._running: set[asyncio.Task[Progress]] = set()

    async def start(self, source: str) -> Progress:
        rebuilder = self._new_rebuilder(source)
        progress = await rebuilder.claim()
        task = asyncio.create_task(rebuilder.run(), name=rebuilder.name)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return progress

    async def get(self, rebuild_id: str) -> Progress | None:
        return await load(self._client, self._root, rebuild_id)

    async def wait(self) -> None:
        """Until the rebuilds this process started have ended (tests, shutdown)."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
