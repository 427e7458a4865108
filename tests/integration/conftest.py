import asyncio
import contextlib
import uuid

import psycopg
import pytest
import sqlalchemy as sa

from services.kit import bus as kit_bus
from services.kit import migrations
from services.kit.db import Database
from services.kit.outbox import event_tables
from services.kit.subjects import stream_name


@contextlib.contextmanager
def scratch_database(mesh, prefix: str):
    """A database of its own for one test, dropped afterwards; yields its name."""
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(mesh.database_url("postgres", driver="postgresql"), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def create_tables(url: str, metadata: sa.MetaData) -> None:
    """A test's own tables, made by SQLAlchemy's engine."""
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()


@contextlib.asynccontextmanager
async def migrated_database(mesh, service: str, outbox: sa.Table, repository, publishing_as: str | None = None,
                            pool_size: int = 20):
    """A scratch database with `service`'s migrations applied, as that service's Database.
    Its events are named after the scratch database unless `publishing_as` names a service."""
    with scratch_database(mesh, f"it{service}") as name:
        await asyncio.to_thread(migrations.upgrade, service, mesh.database_url(name))
        database = Database(mesh.database_url(name), publishing_as or name, outbox, repository, pool_size=pool_size)
        try:
            yield database
        finally:
            await database.close()


@pytest.fixture
async def scratch(mesh):
    """A throwaway database and NATS stream for one test, as a pretend service `it<hex>`."""
    with scratch_database(mesh, "it") as service:
        metadata = sa.MetaData()
        outbox, consumed = event_tables(metadata)
        applied = sa.Table(
            "applied", metadata,
            sa.Column("event_id", sa.Text, nullable=False),
            sa.Column("note", sa.Text, nullable=False),
        )
        await asyncio.to_thread(create_tables, mesh.database_url(service), metadata)
        database = Database(mesh.database_url(service), service, outbox)
        events = kit_bus.Bus(mesh.nats_url, login=mesh.nats_login)
        await events.connect()
        # As the pretend service's relay would: only a stream's own service creates it.
        await events.ensure_stream(service)
        yield type(
            "Scratch", (), {
                "service": service, "database": database, "bus": events, "outbox": outbox,
                "consumed": consumed, "applied": applied,
            },
        )
        try:
            await events.js.delete_stream(stream_name(service))
        except Exception:
            pass
        await events.close()
        await database.close()
