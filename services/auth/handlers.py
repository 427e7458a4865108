"""auth's use cases: one coroutine each, every write in one unit of work."""
import uuid
from datetime import timedelta

from autosalon.auth.v1 import auth_pb2
from services.kit import paging
from services.kit.db import Database, now
from services.kit.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from services.kit.identity import Identity
from services.kit.statements import Row
from services.kit.ttl_cache import ExpiringCache
from services.kit.workers import BoundedExecutor

from . import domain, tokens
from .convert import user_to_proto
from .store import RefreshTokenRepository

WRONG_CREDENTIALS = "email or password is wrong"


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
        self.users: ExpiringCache[auth_pb2.User] = ExpiringCache(ttl_seconds=30)

    async def register(
        self, email: str, password: str, confirm_password: str, full_name: str, phone: str
    ) -> auth_pb2.User:
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
            users = uow.repository.users
            if not await users.add(row):
                raise AlreadyExists(f"an account with email {fields.email} already exists")
            user = user_to_proto(await users.by_id(row["id"]))
            await uow.emit("user.registered", user.name, auth_pb2.UserEvent(user=user))
        return user

    async def login(self, email: str, password: str) -> auth_pb2.TokenPair:
        missing = {name: "is required" for name, value in (("email", email), ("password", password)) if not value}
        if missing:
            raise InvalidArgument(missing)
        async with self.database.unit_of_work() as uow:
            user = await uow.repository.users.by_email(domain.normalize_email(email))
        if user is None:
            # As slow as a wrong password, so timing does not tell which emails exist.
            await self.hashing.run(domain.dummy_verify)
            raise Unauthenticated(WRONG_CREDENTIALS)
        if not await self.hashing.run(domain.verify_password, user.password_hash, password):
            raise Unauthenticated(WRONG_CREDENTIALS)
        if not user.active:
            raise Unauthenticated("this account is deactivated")
        async with self.database.unit_of_work() as uow:
            return await self._start_session(uow.repository.tokens, user, uuid.uuid4())

    async def _start_session(
        self, refresh_tokens: RefreshTokenRepository, user: Row, family_id: uuid.UUID
    ) -> auth_pb2.TokenPair:
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
        return auth_pb2.TokenPair(
            access_token=access, expires_in=int(self.access_ttl.total_seconds()),
            refresh_token=plain, refresh_expires_in=int(self.refresh_ttl.total_seconds()),
            token_type="Bearer", user=user_to_proto(user),
        )

    async def refresh(self, refresh_token: str) -> auth_pb2.TokenPair:
        if not refresh_token:
            raise InvalidArgument({"refresh_token": "is required"})
        reuse_detected = False
        async with self.database.unit_of_work() as uow:
            refresh_tokens = uow.repository.tokens
            row = await refresh_tokens.by_hash_for_update(tokens.hash_refresh_token(refresh_token))
            record = None if row is None else _record(row)
            decision = tokens.decide_refresh(record, now())
            if decision is tokens.RefreshDecision.REUSE_DETECTED:
                # Someone replayed a spent token: whoever holds the family may be an attacker.
                await refresh_tokens.revoke_family(row.family_id, now())
                reuse_detected = True
            elif decision is tokens.RefreshDecision.ROTATE:
                user = await uow.repository.users.by_id(row.user_id)
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
            refresh_tokens = uow.repository.tokens
            row = await refresh_tokens.by_hash_for_update(tokens.hash_refresh_token(refresh_token))
            if row is None:
                return
            if str(row.user_id) != caller.user_id:
                raise PermissionDenied("that refresh token belongs to another user")
            await refresh_tokens.revoke_family(row.family_id, now())

    async def get_user(self, caller: Identity, user_id: uuid.UUID) -> auth_pb2.User:
        if not domain.can_read_user(caller.user_id, domain.Role(caller.role), str(user_id)):
            raise PermissionDenied("clients may read only their own account")
        user = self.users.get(user_id)
        if user is None:
            generation = self.users.generation
            async with self.database.reading() as uow:
                row = await uow.repository.users.by_id(user_id)
            if row is None:
                raise NotFound(f"users/{user_id} does not exist")
            user = user_to_proto(row)
            self.users.put(user_id, user, generation)
        return user

    async def list_users(
        self, role: domain.Role | None, requested_size: int, page_token: str
    ) -> tuple[list[auth_pb2.User], str, int]:
        size = paging.page_size(requested_size)
        query = {"role": role.value if role else ""}
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows, total = await uow.repository.users.page(
                role.value if role else None, size, after
            )
        rows, next_token = paging.newest_page(rows, size, query)
        return [user_to_proto(row) for row in rows], next_token, total

    async def update_user(
        self, caller: Identity, user_id: uuid.UUID, changes: dict, mask: list[str]
    ) -> auth_pb2.User:
        async with self.database.unit_of_work() as uow:
            users = uow.repository.users
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
                await uow.repository.tokens.revoke_user(user_id, now())
            user = user_to_proto(await users.by_id(user_id))
            deactivated = current.active and not updated.active
            announced = auth_pb2.UserEvent(user=user)
            if deactivated or updated.role.value != current.role:
                # The tokens out now were issued for the access the user no longer has.
                announced.tokens_revoked_at.FromDatetime(now())
            await uow.emit("user.deactivated" if deactivated else "user.updated", user.name, announced)
        self.users.evict(user_id)
        return user

    async def deactivate(self, caller: Identity, user_id: uuid.UUID) -> auth_pb2.User:
        return await self.update_user(caller, user_id, {"active": False}, ["active"])

    def jwks(self) -> auth_pb2.Jwks:
        return auth_pb2.Jwks(keys=[auth_pb2.Jwk(**key) for key in self.signer.jwks()["keys"]])


def _record(row: Row) -> tokens.RefreshToken:
    return tokens.RefreshToken(
        id=str(row.id), family_id=str(row.family_id), user_id=str(row.user_id),
        token_hash=row.token_hash, expires_at=row.expires_at, used_at=row.used_at,
        revoked_at=row.revoked_at,
    )
