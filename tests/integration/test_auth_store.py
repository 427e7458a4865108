"""auth's store and use cases against a real PostgreSQL, on a fresh migrated database."""
import asyncio
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from autosalon.auth.v1 import auth_pb2
from autosalon.common.v1 import common_pb2
from services.auth import domain, store, tokens
from services.auth.handlers import AuthHandlers
from services.kit import errors
from services.kit.bus import payload
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
    assert await _outbox_subjects(handlers) == ["autosalon.auth.user.registered",
                                                "autosalon.auth.account_link.email_verification"]


async def test_duplicate_email_in_any_case_changes_nothing(handlers):
    await handlers.register("olga@example.ru", STRONG, STRONG, "Olga", "")
    with pytest.raises(errors.AlreadyExists):
        await handlers.register("OLGA@example.ru", STRONG, STRONG, "Other", "")
    async with handlers.database.unit_of_work() as uow:
        count = await uow.connection.scalar(sa.select(sa.func.count()).select_from(store.users))
    assert count == 1
    assert await _outbox_subjects(handlers) == ["autosalon.auth.user.registered",
                                                "autosalon.auth.account_link.email_verification"]


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


async def _link_tokens(handlers) -> list[str]:
    """The tokens the account_link events carry, oldest first."""
    async with handlers.database.reading() as uow:
        rows = (await uow.connection.execute(sa.select(store.outbox).where(
            store.outbox.c.subject.like("autosalon.auth.account_link.%")).order_by(store.outbox.c.seq))).all()
    return [payload(common_pb2.EventEnvelope.FromString(row.envelope), auth_pb2.AccountLinkEvent).token
            for row in rows]


async def test_a_links_token_is_kept_only_as_its_digest_and_works_once(handlers):
    user = await handlers.register("link@example.ru", STRONG, STRONG, "Link", "")
    [token] = await _link_tokens(handlers)
    async with handlers.database.reading() as uow:
        kept = (await uow.connection.execute(sa.select(store.account_links))).all()
    assert [row.token_hash for row in kept] == [tokens.token_digest(token)] and token not in kept[0].token_hash
    results = await asyncio.gather(*(handlers.verify_email(token) for _ in range(4)), return_exceptions=True)
    verified = [result for result in results if not isinstance(result, Exception)]
    assert len(verified) == 1 and verified[0].email_verified and verified[0].name == user.name
    assert all(isinstance(result, errors.InvalidArgument) for result in results if isinstance(result, Exception))


async def test_a_new_link_voids_the_earlier_and_an_expired_one_fails(handlers):
    user = await handlers.register("again@example.ru", STRONG, STRONG, "Again", "")
    caller = Identity(user_id=user.name.removeprefix("users/"), role="client", email=user.email, token="")
    await handlers.send_verification_email(caller)
    first, second = await _link_tokens(handlers)
    with pytest.raises(errors.InvalidArgument):
        await handlers.verify_email(first)
    async with handlers.database.unit_of_work() as uow:
        await uow.connection.execute(store.account_links.update().values(expires_at=sa.func.now()))
    with pytest.raises(errors.InvalidArgument) as expired:
        await handlers.verify_email(second)
    assert expired.value.violations == [("token", domain.UNUSABLE_LINK)]


async def test_a_reset_link_sets_the_password_once_and_ends_every_session(handlers):
    await handlers.register("reset@example.ru", STRONG, STRONG, "Reset", "")
    session = await handlers.login("reset@example.ru", STRONG)
    await handlers.request_password_reset("RESET@example.ru")
    await handlers.request_password_reset("nobody@example.ru")  # the same answer: nothing
    token = (await _link_tokens(handlers))[-1]
    with pytest.raises(errors.InvalidArgument) as weak:
        await handlers.reset_password(token, "short", "short")
    assert {field for field, _ in weak.value.violations} == {"new_password"}
    await handlers.reset_password(token, "Another-Horse-43", "Another-Horse-43")
    with pytest.raises(errors.InvalidArgument):
        await handlers.reset_password(token, "Third-Horse-44", "Third-Horse-44")
    with pytest.raises(errors.Unauthenticated):
        await handlers.refresh(session.refresh_token)
    with pytest.raises(errors.Unauthenticated):
        await handlers.login("reset@example.ru", STRONG)
    assert (await handlers.login("reset@example.ru", "Another-Horse-43")).user.email_verified
    subjects = await _outbox_subjects(handlers)
    assert subjects.count("autosalon.auth.account_link.password_reset") == 1
    assert subjects[-1] == "autosalon.auth.user.password_changed"
