"""auth's store and use cases against a real PostgreSQL, on a fresh migrated database."""
import asyncio
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.auth import domain, store, tokens
from services.auth.handlers import AuthHandlers
from services.kit import errors
from services.kit.identity import Identity
from services.kit.workers import BoundedExecutor

from .conftest import migrated_database

STRONG = "Correct-Horse-42"


@pytest.fixture
async def handlers(mesh):
    async with migrated_database(mesh, "auth", store.outbox, store.AuthRepository, publishing_as="auth") as database:
        pem, kid = tokens.generate_signing_key()
        hashing = BoundedExecutor(workers=2, max_waiting=4, name="hashing")
        yield AuthHandlers(database, tokens.TokenSigner(pem, kid), hashing,
                           timedelta(minutes=15), timedelta(days=30))
        hashing.shutdown()


async def _outbox_subjects(handlers) -> list[str]:
    async with handlers.database.unit_of_work() as uow:
        result = await uow.connection.execute(
            sa.select(store.outbox.c.subject).order_by(store.outbox.c.seq))
        return list(result.scalars())


async def test_register_writes_user_and_event_together(handlers):
    user = await handlers.register("Olga@Example.ru", STRONG, STRONG, "Olga", "")
    assert user.email == "Olga@Example.ru" and user.name.startswith("users/")
    async with handlers.database.reading() as uow:
        row = await uow.repository.users.by_email("olga@example.ru")
    assert row.email_lower == "olga@example.ru" and row.password_hash != STRONG
    assert await _outbox_subjects(handlers) == ["autosalon.auth.user.registered"]


async def test_duplicate_email_in_any_case_changes_nothing(handlers):
    await handlers.register("olga@example.ru", STRONG, STRONG, "Olga", "")
    with pytest.raises(errors.AlreadyExists):
        await handlers.register("OLGA@example.ru", STRONG, STRONG, "Other", "")
    async with handlers.database.unit_of_work() as uow:
        count = await uow.connection.scalar(sa.select(sa.func.count()).select_from(store.users))
    assert count == 1
    assert await _outbox_subjects(handlers) == ["autosalon.auth.user.registered"]


async def test_concurrent_registrations_of_one_email_create_one_user(handlers):
    spellings = ["race@example.ru", "RACE@example.ru", "Race@Example.ru"] * 2
    results = await asyncio.gather(
        *(handlers.register(email, STRONG, STRONG, "Racer", "") for email in spellings),
        return_exceptions=True,
    )
    created = [result for result in results if not isinstance(result, Exception)]
    assert len(created) == 1
    assert all(isinstance(r, errors.AlreadyExists) for r in results if isinstance(r, Exception))


async def test_refresh_rotation_and_family_revocation(handlers):
    await handlers.register("fam@example.ru", STRONG, STRONG, "Fam", "")
    first = await handlers.login("fam@example.ru", STRONG)
    second = await handlers.refresh(first.refresh_token)
    with pytest.raises(errors.Unauthenticated, match="already used"):
        await handlers.refresh(first.refresh_token)
    with pytest.raises(errors.Unauthenticated):
        await handlers.refresh(second.refresh_token)
    # Another sign-in is another family, untouched.
    other = await handlers.login("fam@example.ru", STRONG)
    assert (await handlers.refresh(other.refresh_token)).refresh_token


async def test_concurrent_refreshes_of_one_token_rotate_once(handlers):
    await handlers.register("twice@example.ru", STRONG, STRONG, "Twice", "")
    session = await handlers.login("twice@example.ru", STRONG)
    results = await asyncio.gather(
        *(handlers.refresh(session.refresh_token) for _ in range(5)), return_exceptions=True)
    assert sum(not isinstance(result, Exception) for result in results) == 1


async def test_paging_walks_every_user_once_newest_first(handlers):
    for i in range(7):
        await handlers.register(f"p{i}@example.ru", STRONG, STRONG, f"P {i}", "")
    seen, token = [], ""
    while True:
        rows, token, total = await handlers.list_users(domain.Role.CLIENT, 3, token)
        seen += [row.email for row in rows]
        assert total == 7
        if not token:
            break
    assert seen == [f"p{i}@example.ru" for i in reversed(range(7))]


async def test_deactivation_revokes_sessions_and_publishes(handlers):
    admin_row = await handlers.register("boss@example.ru", STRONG, STRONG, "Boss", "")
    user = await handlers.register("leaver@example.ru", STRONG, STRONG, "Leaver", "")
    session = await handlers.login("leaver@example.ru", STRONG)
    boss = Identity(admin_row.name.removeprefix("users/"), "admin", "boss@example.ru", "t")
    deactivated = await handlers.deactivate(boss, uuid.UUID(user.name.removeprefix("users/")))
    assert deactivated.active is False
    with pytest.raises(errors.Unauthenticated):
        await handlers.refresh(session.refresh_token)
    with pytest.raises(errors.Unauthenticated, match="deactivated"):
        await handlers.login("leaver@example.ru", STRONG)
    assert (await _outbox_subjects(handlers))[-1] == "autosalon.auth.user.deactivated"


async def test_a_flood_of_logins_is_refused_fast_not_queued(handlers):
    await handlers.register("flood@example.ru", STRONG, STRONG, "Flood", "")
    results = await asyncio.gather(
        *(handlers.login("flood@example.ru", STRONG) for _ in range(30)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, errors.ResourceExhausted)]
    served = [r for r in results if not isinstance(r, Exception)]
    assert refused and served
    assert len(refused) + len(served) == 30
