"""kit.db.Prepared against a real PostgreSQL: statements built once and run on psycopg behave
as they would through SQLAlchemy, in the same transaction as SQLAlchemy's own."""
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert

from services.kit.db import Database, Prepared, event_tables

from .conftest import scratch_database

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
async def database(mesh):
    with scratch_database(mesh, "itprep") as name:
        database = Database(mesh.database_url(name), name, event_tables(sa.MetaData())[0])
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        try:
            yield database
        finally:
            await database.close()


def _thing(label: str) -> dict:
    return {"id": uuid.uuid4(), "label": label, "price": Decimal("1359900.50"),
            "details": {"colour": "white", "options": ["heated seats"]},
            "made_at": datetime(2026, 11, 29, 12, 30, 15, 123456, tzinfo=timezone.utc)}


async def test_a_row_written_and_read_back_keeps_every_type(database):
    written = _thing("first")
    async with database.unit_of_work() as uow:
        assert (await uow.connection.execute(_ADD, written)).scalar_one() == written["id"]
    async with database.reading() as uow:
        row = (await uow.connection.execute(_BY_ID, {"thing_id": written["id"]})).one()
        through_sqlalchemy = (await uow.connection.execute(
            sa.select(things).where(things.c.id == written["id"]))).one()
    assert row._asdict() == written == through_sqlalchemy._asdict()


async def test_a_broken_rule_is_sqlalchemys_integrity_error_and_nothing_is_kept(database):
    async with database.unit_of_work() as uow:
        await uow.connection.execute(_ADD, _thing("taken"))
    with pytest.raises(sa.exc.IntegrityError):
        async with database.unit_of_work() as uow:
            await uow.connection.execute(_ADD, _thing("kept only if the next one works"))
            await uow.connection.execute(_ADD, _thing("taken"))
    async with database.reading() as uow:
        assert await uow.connection.scalar(_COUNT) == 1
        assert (await uow.connection.execute(_ADD_UNLESS_TAKEN, _thing("taken"))).first() is None


async def test_prepared_and_sqlalchemy_statements_share_one_transaction(database):
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as uow:
            await uow.connection.execute(_ADD, _thing("prepared"))
            await uow.connection.execute(things.insert().values(**_thing("through sqlalchemy")))
            assert await uow.connection.scalar(_COUNT) == 2
            raise RuntimeError("the use case fails after both writes")
    async with database.reading() as uow:
        assert await uow.connection.scalar(_COUNT) == 0


async def test_a_list_of_parameters_runs_the_statement_for_each(database):
    rows = [_thing(label) for label in ("b", "a", "c")]
    async with database.unit_of_work() as uow:
        assert (await uow.connection.execute(Prepared(things.insert()), rows)).rowcount == 3
    async with database.reading() as uow:
        found = await uow.connection.execute(_AMONG, {"ids": [rows[0]["id"], rows[2]["id"]]})
        assert [row.label for row in found] == ["b", "c"]


async def test_a_statement_that_expands_a_list_is_refused(database):
    expanding = Prepared(sa.select(things).where(things.c.id.in_(sa.bindparam("ids", expanding=True))))
    async with database.reading() as uow:
        with pytest.raises(ValueError, match="ANY"):
            await uow.connection.execute(expanding, {"ids": [uuid.uuid4()]})
