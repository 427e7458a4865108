"""auth's use cases: one coroutine each, every write in one unit of work."""
import uuid
from dataclasses import dataclass
from datetime import timedelta

from services.kit import paging
from services.kit.cache import ExpiringCache
from services.kit.cpu import BoundedExecutor
from services.kit.db import Database, Row, now
from services.kit.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from services.kit.identity import Identity

from . import domain, tokens
from .convert import user_event
from .store import RefreshTokenRepository, UserRepository

WRONG_CREDENTIALS = "email or password is wrong"


@dataclass(frozen=True)
class Session:
    access_token: str
    access_ttl: int
    refresh_token: str
    refresh_ttl: int
    user: Row


def profile_of(row: Row) -> domain.UserProfile:
    return domain.UserProfile(
        id=str(row.id), email=row.email, full_name=row.full_name, phone=row.phone,
        role=domain.Role(row.role), active=row.active,
    )


class AuthHandlers:
    def __init__(
        self,
        database: Database,
        signer: tokens.TokenSigner,
        hashing: BoundedExecutor,
        access_ttl: timedelta,
        refresh_ttl: timedelta,
    ):
        self.database = database
        self.signer = signer
        self.hashing = hashing
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        # Users read recently, by id: GetCurrentUser is on every page a client opens.
        self.users: ExpiringCache[Row] = ExpiringCache(ttl_seconds=30)

    async def register(
        self, email: str, password: str, confirm_password: str, full_name: str, phone: str
    ) -> Row:
        fields = domain.validate_registration(email, password, confirm_password, full_name, phone)
        password_hash = await self.hashing.run(domain.hash_password, password)
        created = now()
        row = {
            "id": uuid.uuid4(),
            "email": fields.email,
            "email_lower": domain.normalize_email(fields.email),
            "full_name": fields.full_name,
            "phone": fields.phone,
            "role": domain.Role.CLIENT.value,
            "active": True,
            "password_hash": password_hash,
            "created_at": created,
            "updated_at": created,
        }
        async with self.database.unit_of_work() as uow:
            users = UserRepository(uow.connection)
            if not await users.add(row):
                raise AlreadyExists(f"an account with email {fields.email} already exists")
            user = await users.by_id(row["id"])
            await uow.emit("user.registered", f"users/{user.id}", user_event(user))
        return user

    async def login(self, email: str, password: str) -> Session:
        missing = {name: "is required" for name, value in (("email", email), ("password", password)) if not value}
        if missing:
            raise InvalidArgument(missing)
        async with self.database.unit_of_work() as uow:
            user = await UserRepository(uow.connection).by_email(domain.normalize_email(email))
        if user is None:
            # As slow as a wrong password, so timing does not tell which emails exist.
            await self.hashing.run(domain.dummy_verify)
            raise Unauthenticated(WRONG_CREDENTIALS)
        if not await self.hashing.run(domain.verify_password, user.password_hash, password):
            raise Unauthenticated(WRONG_CREDENTIALS)
        if not user.active:
            raise Unauthenticated("this account is deactivated")
        async with self.database.unit_of_work() as uow:
            return await self._start_session(RefreshTokenRepository(uow.connection), user, uuid.uuid4())

    async def _start_session(
        self, refresh_tokens: RefreshTokenRepository, user: Row, family_id: uuid.UUID
    ) -> Session:
        issued = now()
        plain, record = tokens.new_refresh_token(str(user.id), str(family_id), issued, self.refresh_ttl)
        await refresh_tokens.add(
            {
                "id": uuid.UUID(record.id),
                "family_id": family_id,
                "user_id": user.id,
                "token_hash": record.token_hash,
                "issued_at": issued,
                "expires_at": record.expires_at,
            }
        )
        access = self.signer.issue_access_token(
            str(user.id), user.role, user.email, issued, self.access_ttl
        )
        return Session(
            access_token=access,
            access_ttl=int(self.access_ttl.total_seconds()),
            refresh_token=plain,
            refresh_ttl=int(self.refresh_ttl.total_seconds()),
            user=user,
        )

    async def refresh(self, refresh_token: str) -> Session:
        if not refresh_token:
            raise InvalidArgument({"refresh_token": "is required"})
        reuse_detected = False
        async with self.database.unit_of_work() as uow:
            refresh_tokens = RefreshTokenRepository(uow.connection)
            row = await refresh_tokens.by_hash_for_update(tokens.hash_refresh_token(refresh_token))
            record = None if row is None else _record(row)
            decision = tokens.decide_refresh(record, now())
            if decision is tokens.RefreshDecision.REUSE_DETECTED:
                # Someone replayed a spent token: whoever holds the family may be an attacker.
                await refresh_tokens.revoke_family(row.family_id, now())
                reuse_detected = True
            elif decision is tokens.RefreshDecision.ROTATE:
                user = await UserRepository(uow.connection).by_id(row.user_id)
                if user is not None and user.active:
                    await refresh_tokens.mark_used(row.id, now())
                    return await self._start_session(refresh_tokens, user, row.family_id)
        if reuse_detected:
            raise Unauthenticated("refresh token was already used; every session of its sign-in is revoked")
        raise Unauthenticated("refresh token is unknown, expired or revoked")

    async def logout(self, caller: Identity, refresh_token: str) -> None:
        if not refresh_token:
            raise InvalidArgument({"refresh_token": "is required"})
        async with self.database.unit_of_work() as uow:
            refresh_tokens = RefreshTokenRepository(uow.connection)
            row = await refresh_tokens.by_hash_for_update(tokens.hash_refresh_token(refresh_token))
            if row is None:
                return
            if str(row.user_id) != caller.user_id:
                raise PermissionDenied("that refresh token belongs to another user")
            await refresh_tokens.revoke_family(row.family_id, now())

    async def get_user(self, caller: Identity, user_id: uuid.UUID) -> Row:
        if not domain.can_read_user(caller.user_id, domain.Role(caller.role), str(user_id)):
            raise PermissionDenied("clients may read only their own account")
        user = self.users.get(user_id)
        if user is None:
            generation = self.users.generation
            async with self.database.reading() as uow:
                user = await UserRepository(uow.connection).by_id(user_id)
            if user is None:
                raise NotFound(f"users/{user_id} does not exist")
            self.users.put(user_id, user, generation)
        return user

    async def list_users(
        self, role: domain.Role | None, requested_size: int, page_token: str
    ) -> tuple[list[Row], str, int]:
        size = paging.page_size(requested_size)
        query = {"role": role.value if role else ""}
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows, total = await UserRepository(uow.connection).page(
                role.value if role else None, size, after
            )
        rows, next_token = paging.newest_page(rows, size, query)
        return rows, next_token, total

    async def update_user(
        self, caller: Identity, user_id: uuid.UUID, changes: dict, mask: list[str]
    ) -> Row:
        async with self.database.unit_of_work() as uow:
            users = UserRepository(uow.connection)
            current = await users.by_id(user_id, for_update=True)
            if current is None:
                if caller.role != domain.Role.ADMIN.value and caller.user_id != str(user_id):
                    raise PermissionDenied("clients may change only their own account")
                raise NotFound(f"users/{user_id} does not exist")
            updated = domain.apply_profile_update(
                caller.user_id, domain.Role(caller.role), profile_of(current), changes, mask
            )
            await users.update(
                user_id,
                {
                    "full_name": updated.full_name,
                    "phone": updated.phone,
                    "role": updated.role.value,
                    "active": updated.active,
                    "updated_at": now(),
                },
            )
            if not updated.active and current.active:
                await RefreshTokenRepository(uow.connection).revoke_user(user_id, now())
            user = await users.by_id(user_id)
            event = "user.deactivated" if current.active and not user.active else "user.updated"
            await uow.emit(event, f"users/{user_id}", user_event(user))
        self.users.evict(user_id)
        return user

    async def deactivate(self, caller: Identity, user_id: uuid.UUID) -> Row:
        return await self.update_user(caller, user_id, {"active": False}, ["active"])

    def jwks(self) -> dict:
        return self.signer.jwks()


def _record(row: Row) -> tokens.RefreshToken:
    return tokens.RefreshToken(
        id=str(row.id), family_id=str(row.family_id), user_id=str(row.user_id),
        token_hash=row.token_hash, expires_at=row.expires_at, used_at=row.used_at,
        revoked_at=row.revoked_at,
    )
