"""kit.db against a real PostgreSQL: SQLAlchemy statements run on the kit's psycopg pool read
and write as SQLAlchemy's own engine would, in one transaction per unit of work, and the pool
hands out only healthy connections outside any transaction."""
import asyncio
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy as sa
from google.protobuf import empty_pb2
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from services.kit.db import Database
from services.kit.outbox import event_tables
from services.kit.pool import Pool
from services.kit.statements import Prepared

from .conftest import create_tables, scratch_database

metadata = sa.MetaData()
things = sa.Table(
    "things", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("label", sa.Text, nullable=False, unique=True),
    sa.Column("price", sa.Numeric(14, 2), nullable=False),
    sa.Column("details", JSONB, nullable=False),
    sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
)
_ADD = Prepared(insert(things).returning(things.c.id))
_ADD_UNLESS_TAKEN = Prepared(insert(things).on_conflict_do_nothing().returning(things.c.id))
_BY_ID = Prepared(sa.select(things).where(things.c.id == sa.bindparam("thing_id")))
_AMONG = Prepared(sa.select(things.c.label).where(
    things.c.id == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.Uuid)))).order_by(things.c.label))
_COUNT = Prepared(sa.select(sa.func.count()).select_from(things))


@pytest.fixture
def url(mesh):
    with scratch_database(mesh, "itdb") as name:
        create_tables(mesh.database_url(name), metadata)
        yield mesh.database_url(name)


@pytest.fixture
async def database(url):
    database = Database(url, "itdb", event_tables(sa.MetaData())[0], pool_size=3)
    try:
        yield database
    finally:
        await database.close()


def _thing(label: str) -> dict:
    return {"id": uuid.uuid4(), "label": label, "price": Decimal("1359900.50"),
            "details": {"colour": "white", "options": ["heated seats"]},
            "made_at": datetime(2026, 11, 29, 12, 30, 15, 123456, tzinfo=timezone.utc)}


def _read_by_sqlalchemy(url: str, thing_id: uuid.UUID) -> dict:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.select(things).where(things.c.id == thing_id)).one()._asdict()
    finally:
        engine.dispose()


async def test_a_row_written_and_read_back_keeps_every_type_as_sqlalchemy_reads_it(database, url):
    written = _thing("first")
    async with database.unit_of_work() as uow:
        assert (await uow.connection.execute(_ADD, written)).scalar_one() == written["id"]
    async with database.reading() as uow:
        prepared = (await uow.connection.execute(_BY_ID, {"thing_id": written["id"]})).one()
        per_call = (await uow.connection.execute(sa.select(things).where(things.c.id == written["id"]))).one()
    by_sqlalchemy = await asyncio.to_thread(_read_by_sqlalchemy, url, written["id"])
    assert prepared._asdict() == per_call._asdict() == by_sqlalchemy == written


async def test_a_broken_rule_is_sqlalchemys_integrity_error_and_nothing_is_kept(database):
    async with database.unit_of_work() as uow:
        await uow.connection.execute(_ADD, _thing("taken"))
    with pytest.raises(sa.exc.IntegrityError):
        async with database.unit_of_work() as uow:
            await uow.connection.execute(_ADD, _thing("kept only if the next one works"))
            await uow.connection.execute(things.insert().values(**_thing("taken")))
    async with database.reading() as uow:
        assert await uow.connection.scalar(_COUNT) == 1
        assert (await uow.connection.execute(_ADD_UNLESS_TAKEN, _thing("taken"))).first() is None


async def test_prepared_and_per_call_statements_share_one_transaction(database):
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as uow:
            await uow.connection.execute(_ADD, _thing("prepared"))
            await uow.connection.execute(things.insert().values(**_thing("compiled for the call")))
            assert await uow.connection.scalar(_COUNT) == 2
            raise RuntimeError("the use case fails after both writes")
    async with database.reading() as uow:
        assert await uow.connection.scalar(_COUNT) == 0


async def test_a_unit_of_work_is_a_transaction_and_a_reading_is_not(database):
    async with database.unit_of_work() as uow:
        await uow.connection.scalar(_COUNT)
        assert uow.connection.driver.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    async with database.reading() as uow:
        await uow.connection.scalar(_COUNT)
        assert uow.connection.driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with pytest.raises(RuntimeError, match="cannot emit"):
            await uow.emit("thing.made", "things/1", empty_pb2.Empty())


async def test_a_list_of_parameters_runs_the_statement_for_each(database):
    rows = [_thing(label) for label in ("b", "a", "c")]
    async with database.unit_of_work() as uow:
        assert (await uow.connection.execute(Prepared(things.insert()), rows)).rowcount == 3
    async with database.reading() as uow:
        found = await uow.connection.execute(_AMONG, {"ids": [rows[0]["id"], rows[2]["id"]]})
        assert [row.label for row in found] == ["b", "c"]
        labels = await uow.connection.execute(sa.select(things.c.label).where(
            things.c.id.in_([rows[1]["id"], rows[2]["id"]])).order_by(things.c.label))
        assert labels.scalars().all() == ["a", "c"]


async def test_a_prepared_statement_that_expands_a_list_is_refused(database):
    expanding = Prepared(sa.select(things).where(things.c.id.in_(sa.bindparam("ids", expanding=True))))
    async with database.reading() as uow:
        with pytest.raises(ValueError, match="ANY"):
            await uow.connection.execute(expanding, {"ids": [uuid.uuid4()]})


async def test_a_failed_savepoint_undoes_only_its_part(database):
    async with database.unit_of_work() as uow:
        await uow.connection.execute(_ADD, _thing("before"))
        with pytest.raises(sa.exc.IntegrityError):
            async with uow.connection.savepoint():
                await uow.connection.execute(_ADD, _thing("inside, undone"))
                await uow.connection.execute(_ADD, _thing("before"))
        async with uow.connection.savepoint():
            await uow.connection.execute(_ADD, _thing("inside, kept"))
    async with database.reading() as uow:
        labels = (await uow.connection.execute(sa.select(things.c.label).order_by(things.c.label))).scalars()
        assert labels.all() == ["before", "inside, kept"]


async def test_connections_are_reused_and_never_more_than_the_pool_allows(database):
    async with database.reading() as uow:
        first = uow.connection.driver
    async with database.unit_of_work() as uow:
        assert uow.connection.driver is first
    holders = [database.reading() for _ in range(3)]
    for holder in holders:
        await holder.__aenter__()
    waiting = asyncio.ensure_future(database.reading().__aenter__())
    await asyncio.sleep(0.2)
    assert not waiting.done(), "a fourth connection was handed out by a pool of three"
    await holders[0].__aexit__(None, None, None)
    fourth = await asyncio.wait_for(waiting, 5)
    assert fourth.connection.driver is holders[0].connection.driver
    for holder in (*holders[1:], fourth):
        await holder.__aexit__(None, None, None)


async def test_a_request_for_a_connection_waits_a_bounded_time(url):
    pool = Pool(url, PGDialect_psycopg(), size=1, wait_seconds=0.2)
    held = await pool.acquire()
    try:
        with pytest.raises(sa.exc.TimeoutError, match="busy"):
            await pool.acquire()
    finally:
        await pool.release(held)
    await pool.release(await pool.acquire())
    await pool.close()


async def test_a_unit_of_work_cancelled_mid_statement_leaves_no_connection_behind_in_it(database):
    async def slow():
        async with database.unit_of_work() as uow:
            await uow.connection.execute(_ADD, _thing("never committed"))
            await uow.connection.execute(sa.text("SELECT pg_sleep(5)"))

    task = asyncio.ensure_future(slow())
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(3):
        async with database.unit_of_work() as uow:
            assert uow.connection.driver.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            assert await uow.connection.scalar(_COUNT) == 0


async def test_a_lost_connection_is_operational_error_and_the_pool_starts_afresh(database, mesh):
    async with database.reading() as one, database.reading() as other:
        pids = [await one.connection.scalar(sa.text("SELECT pg_backend_pid()")),
                await other.connection.scalar(sa.text("SELECT pg_backend_pid()"))]
    with psycopg.connect(mesh.database_url("postgres", driver="postgresql"), autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(sa.exc.OperationalError):
        async with database.unit_of_work() as uow:
            await uow.connection.scalar(_COUNT)
    async with database.reading() as uow:
        assert await uow.connection.scalar(sa.text("SELECT pg_backend_pid()")) not in pids


async def test_postgresql_away_fails_at_once_as_operational_error(url):
    nobody_listens = sa.engine.make_url(url).set(host="127.0.0.1", port=1, query={})
    database = Database(nobody_listens.render_as_string(hide_password=False), "itdb",
                        event_tables(sa.MetaData())[0])
    with pytest.raises(sa.exc.OperationalError):
        async with asyncio.timeout(10):
            async with database.reading() as uow:
                await uow.connection.scalar(_COUNT)
    await database.close()
