"""ListParticipants with `query`: prefix search over real gRPC against real Postgres.

Other tests share the database, so each test gives its participants a unique tag and asserts
about its own rows, plus that every row returned really matches the query.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime

import grpc
import pytest
import sqlalchemy as sa

from grpc_details import details
from participant_service.adapters import participant_repository
from participant_service.adapters.tables import participants
from participant_service.domain.participants import NameKeys, query_key
from turnout.participant.v1 import participant_pb2, participant_service_pb2

pytestmark = pytest.mark.integration

VISITOR = participant_pb2.PARTICIPANT_KIND_VISITOR
Request = participant_service_pb2.ListParticipantsRequest


@pytest.fixture
def tag(unique: str) -> str:
    """A unique UPPER-case Cyrillic suffix a name may carry (names refuse digits)."""
    return unique.translate(str.maketrans("0123456789abcdef", "АБВГДЕЖЗИКЛМНОПР"))


async def _create(stub, first: str, last: str) -> participant_pb2.Participant:
    return await stub.CreateParticipant(participant_service_pb2.CreateParticipantRequest(
        participant=participant_pb2.Participant(first_name=first, last_name=last, kind=VISITOR),
        request_id=str(uuid.uuid4())))


def _sort_key(p: participant_pb2.Participant) -> tuple[str, str, str]:
    return p.last_name.casefold(), p.first_name.casefold(), p.name.removeprefix("participants/")


def _matches(p: participant_pb2.Participant, query: str) -> bool:
    q = query_key(query)  # spaces collapsed, casefolded (unit-tested in tests/unit/test_domain.py)
    return (p.card_number.startswith(q) or p.last_name.casefold().startswith(q)
            or f"{p.first_name} {p.last_name}".casefold().startswith(q)
            or p.name == f"participants/{query.strip()}")


async def _search(stub, query: str, page_size: int = 1000) -> list[participant_pb2.Participant]:
    """Every page of a query; checks no repeats, the order, and that each row matches."""
    found, token, pages = [], "", 0
    while True:
        page = await stub.ListParticipants(Request(query=query, page_size=page_size, page_token=token))
        assert len(page.participants) <= page_size
        found += page.participants
        token, pages = page.next_page_token, pages + 1
        if not token:
            break
        assert pages < 10_000, "paging does not end"
    names = [p.name for p in found]
    assert len(names) == len(set(names)), "keyset pages must not repeat"
    assert [_sort_key(p) for p in found] == sorted(_sort_key(p) for p in found)
    assert all(_matches(p, query) for p in found), [(p.first_name, p.last_name, p.card_number) for p in found]
    return found


def _names(found) -> list[str]:
    return [p.name for p in found]


async def test_card_number_prefix(participant_stub):
    created = await _create(participant_stub, "Карта", "Номерова")
    assert created.name in _names(await _search(participant_stub, created.card_number))
    assert created.name in _names(await _search(participant_stub, created.card_number[:-1]))
    # A card number is matched from its start, not anywhere inside it.
    assert created.name not in _names(await _search(participant_stub, created.card_number[1:]))


async def test_cyrillic_last_name_prefix_ignores_case(participant_stub, tag):
    created = await _create(participant_stub, "Анна", f"Иванова-{tag}")
    assert created.name in _names(await _search(participant_stub, "иван"))
    assert created.name in _names(await _search(participant_stub, "ИВАН"))
    assert _names(await _search(participant_stub, f"иванова-{tag.lower()}")) == [created.name]
    # A prefix, not a substring.
    assert created.name not in _names(await _search(participant_stub, "ванова"))


async def test_first_then_last_name_prefix(participant_stub, tag):
    anna = await _create(participant_stub, "Анна", f"Ивлева-{tag}")
    maria = await _create(participant_stub, "Мария", f"Ивлева-{tag}")
    annushka = await _create(participant_stub, "Аннушка", f"Ивлева-{tag}")
    assert anna.name in _names(await _search(participant_stub, "анна ив"))
    assert _names(await _search(participant_stub, f"анна ивлева-{tag.lower()}")) == [anna.name]
    assert _names(await _search(participant_stub, f"  АННА   Ивлева-{tag}")) == [anna.name]
    # Ordered by last name, then first name: Анна < Аннушка < Мария.
    assert _names(await _search(participant_stub, f"ивлева-{tag}")) == [anna.name, annushka.name, maria.name]
    # The first name alone is not a prefix of the last name: "мария" finds Мария only via "first last".
    assert maria.name in _names(await _search(participant_stub, "мария ивлева"))


async def test_exact_participant_id(participant_stub, tag):
    created = await _create(participant_stub, "Ид", f"Точный-{tag}")
    participant_id = created.name.removeprefix("participants/")
    assert _names(await _search(participant_stub, participant_id)) == [created.name]
    assert _names(await _search(participant_stub, f"  {participant_id} ")) == [created.name]
    # Ids are matched exactly, never by prefix.
    assert created.name not in _names(await _search(participant_stub, participant_id[:-1]))


async def test_no_match_is_an_empty_page(participant_stub, tag):
    page = await participant_stub.ListParticipants(Request(query=f"нетакого-{tag}"))
    assert list(page.participants) == [] and page.next_page_token == ""


async def test_paging_through_a_query_without_repeats(participant_stub, tag):
    firsts = ["Вера", "Анна", "Дарья", "Борис", "Глеб"]
    created = {(await _create(participant_stub, first, f"Пагинова-{tag}")).name: first for first in firsts}
    query = f"пагинова-{tag.lower()}"
    first_page = await participant_stub.ListParticipants(Request(query=query, page_size=2))
    assert len(first_page.participants) == 2 and first_page.next_page_token
    found = await _search(participant_stub, query, page_size=2)
    assert [created[p.name] for p in found] == sorted(firsts)
    assert [created[p.name] for p in await _search(participant_stub, query, page_size=1)] == sorted(firsts)


async def test_page_tokens_of_other_lists_are_refused(participant_stub, tag):
    for first in ("Анна", "Борис", "Вера"):
        await _create(participant_stub, first, f"Жетонова-{tag}")
    query_token = (await participant_stub.ListParticipants(
        Request(query=f"жетонова-{tag}", page_size=1))).next_page_token
    plain_token = (await participant_stub.ListParticipants(Request(page_size=1))).next_page_token
    assert query_token and plain_token
    for request in (Request(query=f"жетонова-{tag}", page_token=plain_token),
                    Request(query="жетонова", page_token=query_token),
                    Request(page_token=query_token)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await participant_stub.ListParticipants(request)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert list(details(refused.value)[1]) == ["page_token"]


async def test_like_wildcards_are_matched_literally(participant_stub, tag):
    created = await _create(participant_stub, "Дикая", f"Карта-{tag}")
    low = tag.lower()
    # Unescaped, each of these would be a pattern that finds the participant.
    for query in (f"карта_{low}", f"%{low}", "карта%", f"карта\\-{low}", "%", "_", "\\"):
        assert created.name not in _names(await _search(participant_stub, query)), query
    assert await _search(participant_stub, "%") == []
    assert await _search(participant_stub, "_") == []


async def test_quotes_in_a_query_are_text(participant_stub, tag):
    """The pattern is rendered into the SQL (see participant_repository.search_query): quotes
    and backslashes must stay characters of the text."""
    created = await _create(participant_stub, "Шон", f"О'Нил-{tag}")
    assert _names(await _search(participant_stub, f"о'нил-{tag.lower()}")) == [created.name]
    assert _names(await _search(participant_stub, f"шон о'нил-{tag}")) == [created.name]
    for query in ("'", "\\'", "\\", "'; DROP TABLE participant_service.participants; --", "$1", "%%'"):
        assert await _search(participant_stub, query) == [], query
    assert _names(await _search(participant_stub, f"о'нил-{tag}")) == [created.name]


@pytest.mark.parametrize(("query", "why"), [("я" * 201, "at most 200"), ("ив\x00", "NUL")])
async def test_bad_queries_are_refused_naming_query(participant_stub, query, why):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await participant_stub.ListParticipants(Request(query=query))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, fields = details(refused.value)
    assert reason == "VALIDATION_FAILED"
    assert list(fields) == ["query"] and why in fields["query"]


async def test_a_query_of_200_characters_is_allowed(participant_stub):
    page = await participant_stub.ListParticipants(Request(query="я" * 200))
    assert list(page.participants) == []


async def test_blank_query_lists_everyone_newest_first(participant_stub, tag):
    created = await _create(participant_stub, "Пустой", f"Запросов-{tag}")
    for query in ("", "   ", "\t\n"):
        page = await participant_stub.ListParticipants(Request(query=query, page_size=1))
        assert _names(page.participants) == [created.name], "the newest first, as without a query"


async def test_search_uses_the_prefix_indexes(participant_deps):
    """EXPLAIN of the search over ~6,000 extra rows (in a transaction that is rolled back)."""
    rows, now = [], datetime.now(UTC)
    for i in range(6000):
        first, last = f"Имя{i % 97:02d}", f"Фамилия{i:05d}"
        keys = NameKeys.of(first, last)
        rows.append({"id": f"explain-{uuid.uuid4()}", "card_number": f"9{i:08d}", "first_name": first,
                     "last_name": last, "kind": "visitor", "created_at": now, "version": 1,
                     "first_name_key": keys.first, "last_name_key": keys.last, "full_name_key": keys.full})
    async with participant_deps.engine.connect() as connection:
        transaction = await connection.begin()
        try:
            await connection.execute(participants.insert(), rows)
            await connection.exec_driver_sql("ANALYZE participant_service.participants")
            for key, after in (("фамилия0012", None), ("имя05 фам", None), ("900001", None),
                               ("фамилия00", ("фамилия00100", "имя03", "x"))):
                query = participant_repository.search_query(key=key, exact_id=key, after=after, limit=51)
                sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
                plan = "\n".join(r[0] for r in await connection.exec_driver_sql("EXPLAIN " + sql))
                print(f"\nEXPLAIN for {key!r}:\n{plan}")
                assert "Seq Scan" not in plan, plan
                assert "BitmapOr" in plan, plan
                for index in ("ix_participants_last_name_key_prefix", "ix_participants_full_name_key_prefix",
                              "participants_pkey"):
                    assert f"Index Scan on {index} " in plan, plan
                # Under the C collation of the test cluster the unique constraint's plain index also
                # serves a prefix LIKE, and the planner may pick either; under other collations only
                # the text_pattern_ops one can.
                assert ("Index Scan on ix_participants_card_number_prefix " in plan
                        or "Index Scan on participants_card_number_key " in plan), plan
            # The service runs the search as prepared statements (asyncpg), which PostgreSQL may
            # plan once for any parameters (a generic plan: plan_cache_mode=auto switches to it after
            # five executions when it looks no dearer). A generic plan cannot use an index for
            # `LIKE $1`, so the patterns must not be parameters: check the statements actually sent.
            for i in range(12):
                await participant_repository.search_page(connection, key=f"фамилия00{i % 2}", exact_id="-",
                                                         after=None, limit=51)
            statements = (await connection.execute(sa.text(
                "SELECT statement FROM pg_prepared_statements"
                " WHERE starts_with(statement, 'SELECT participant_service.participants.id')"
                " AND strpos(statement, 'full_name_key LIKE') > 0"))).scalars().all()
            assert statements
            await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            for n, statement in enumerate(statements):
                parameters = sorted({int(i): kind for i, kind in re.findall(r"\$(\d+)::(\w+)", statement)}.items())
                assert [i for i, _ in parameters] == list(range(1, len(parameters) + 1))
                types = ", ".join(kind for _, kind in parameters)
                values = ", ".join("1" if kind == "INTEGER" else "'x'" for _, kind in parameters)
                await connection.exec_driver_sql(f"PREPARE search_check_{n} ({types}) AS {statement}")
                plan = "\n".join(r[0] for r in await connection.exec_driver_sql(
                    f"EXPLAIN EXECUTE search_check_{n} ({values})"))
                await connection.exec_driver_sql(f"DEALLOCATE search_check_{n}")
                print(f"\nGeneric plan of the statement the service prepared:\n{statement}\n{plan}")
                assert "Seq Scan" not in plan and "BitmapOr" in plan, plan
        finally:
            await transaction.rollback()


async def test_migration_backfills_casefolded_keys(settings):
    """0002 on a table that already has rows (in a scratch database): keys filled, NOT NULL."""
    from alembic import command
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from kernel.migrations import alembic_config

    scratch = f"search_migration_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
    url = make_url(settings.database_url).set(database=scratch).render_as_string(hide_password=False)
    engine = create_async_engine(url)
    try:
        # Alembic's env runs its own event loop: in a thread, not inside this test's loop.
        await asyncio.to_thread(command.upgrade, alembic_config("participant_service", url), "0001")
        async with engine.begin() as connection:
            await connection.execute(sa.text(
                "INSERT INTO participant_service.participants (id, card_number, first_name, last_name, kind,"
                " created_at) VALUES ('p-1', '100001', 'Анна Мария', 'ИВАНОВА-Петрова', 'visitor', now())"))
        await asyncio.to_thread(command.upgrade, alembic_config("participant_service", url), "head")
        async with engine.connect() as connection:
            row = (await connection.execute(sa.text(
                "SELECT first_name_key, last_name_key, full_name_key FROM participant_service.participants"))).one()
            nullable = (await connection.execute(sa.text(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'participant_service'"
                " AND table_name = 'participants' AND column_name LIKE '%\\_key' AND is_nullable = 'YES'"))).scalar()
        assert tuple(row) == ("анна мария", "иванова-петрова", "анна мария иванова-петрова")
        assert nullable == 0
        await asyncio.to_thread(command.downgrade, alembic_config("participant_service", url), "0001")
    finally:
        await engine.dispose()
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE "{scratch}" WITH (FORCE)')
        await admin.dispose()
