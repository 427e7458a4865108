"""auth's use cases: one coroutine each, every write in one unit of work.

The account's emailed links (an address to verify, a password to reset) carry a random token
of which auth keeps only the digest, good once until it expires; the token travels to
notification, which emails it, in an account_link event.
"""
import uuid
from datetime import datetime, timedelta, timezone

from autosalon.auth.v1 import auth_pb2
from services.kit import paging
from services.kit.db import Database, now
from services.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, \
    Unauthenticated, Violation
from services.kit.identity import Identity
from services.kit.statements import Row
from services.kit.ttl_cache import ExpiringCache
from services.kit.workers import BoundedExecutor

from . import domain, tokens
from .convert import user_to_proto
from .store import RefreshTokenRepository

WRONG_EMAIL_OR_PASSWORD = "email or password is wrong"


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
        link_ttl: dict[str, timedelta] | None = None,
    ):
        self.database = database
        self.signer = signer
        self.hashing = hashing
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        # How long each purpose's emailed link works.
        self.link_ttl = link_ttl or {domain.EMAIL_VERIFICATION: timedelta(hours=48),
                                     domain.PASSWORD_RESET: timedelta(minutes=30)}
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
                raise AlreadyExists(f"an account with email {fields.email} already exists", domain.EMAIL_TAKEN)
            user = user_to_proto(await users.by_id(row["id"]))
            await uow.emit("user.registered", user.name, auth_pb2.UserEvent(user=user))
            await self._email_link(uow, user, domain.EMAIL_VERIFICATION)
        return user

    async def _email_link(self, uow, user: auth_pb2.User, purpose: str) -> None:
        """A new link of `purpose` to the user's address (voiding their earlier ones), announced
        for notification to email."""
        plain, digest = tokens.new_link_token()
        created = now()
        expires = created + self.link_ttl[purpose]
        await uow.repository.links.replace({
            "token_hash": digest, "user_id": uuid.UUID(user.name.removeprefix("users/")), "purpose": purpose,
            "email": user.email, "created_at": created, "expires_at": expires})
        announced = auth_pb2.AccountLinkEvent(user=user, token=plain)
        announced.expire_time.FromDatetime(expires)
        await uow.emit(f"account_link.{purpose}", user.name, announced)

    async def send_verification_email(self, caller: Identity) -> None:
        async with self.database.unit_of_work() as uow:
            row = await uow.repository.users.by_id(uuid.UUID(caller.user_id))
            if row is None:
                raise NotFound(f"{caller.user_name} does not exist")
            if row.email_verified_at is not None:
                raise FailedPrecondition(f"{row.email} is verified already", domain.EMAIL_ALREADY_VERIFIED)
            await self._email_link(uow, user_to_proto(row), domain.EMAIL_VERIFICATION)

    async def verify_email(self, token: str) -> auth_pb2.User:
        """The address the link was sent to, verified, if the account still has it."""
        if not token:
            raise InvalidArgument({"token": "is required"})
        async with self.database.unit_of_work() as uow:
            users = uow.repository.users
            link = await uow.repository.links.take(tokens.token_digest(token), domain.EMAIL_VERIFICATION, now())
            row = None if link is None else await users.by_id(link.user_id, for_update=True)
            if row is None or domain.normalize_email(link.email) != row.email_lower:
                raise _unusable_link()
            await users.update(row.id, {"email_verified_at": now(), "updated_at": now()})
            user = user_to_proto(await users.by_id(row.id))
            await uow.emit("user.updated", user.name, auth_pb2.UserEvent(user=user))
        self.users.evict(row.id)
        return user

    async def request_password_reset(self, email: str) -> None:
        """A reset link to the active account with this address; nothing, and the same answer,
        when there is none."""
        email = email.strip()
        if problem := domain.email_problem(email):
            raise InvalidArgument({"email": problem})
        async with self.database.unit_of_work() as uow:
            row = await uow.repository.users.by_email(domain.normalize_email(email))
            if row is not None and row.active:
                await self._email_link(uow, user_to_proto(row), domain.PASSWORD_RESET)

    async def reset_password(self, token: str, new_password: str, confirm_password: str) -> None:
        """The new password, with every session of the account ended; the link used up."""
        if not token:
            raise InvalidArgument({"token": "is required"})
        async with self.database.reading() as uow:
            link = await uow.repository.links.valid(tokens.token_digest(token), domain.PASSWORD_RESET, now())
            row = None if link is None else await uow.repository.users.by_id(link.user_id)
        if row is None or not row.active:
            raise _unusable_link()
        domain.check_new_password(new_password, confirm_password, row.email)
        password_hash = await self.hashing.run(domain.hash_password, new_password)
        async with self.database.unit_of_work() as uow:
            link = await uow.repository.links.take(tokens.token_digest(token), domain.PASSWORD_RESET, now())
            if link is None:
                raise _unusable_link()
            # The link reached its owner at this address: it is theirs.
            verified = {"email_verified_at": row.email_verified_at or now()} \
                if domain.normalize_email(link.email) == row.email_lower else {}
            await self._new_password(uow, row.id, password_hash, verified)

    async def change_password(self, caller: Identity, current_password: str, new_password: str,
                              confirm_password: str) -> auth_pb2.TokenPair:
        """The new password, every other session ended; a new sign-in for the caller."""
        if not current_password:
            raise InvalidArgument({"current_password": "is required"})
        row = await self._own_account(caller, current_password, "current_password")
        domain.check_new_password(new_password, confirm_password, row.email, current_password)
        password_hash = await self.hashing.run(domain.hash_password, new_password)
        async with self.database.unit_of_work() as uow:
            await self._new_password(uow, row.id, password_hash, {})
            return await self._start_session(uow.repository.tokens, await uow.repository.users.by_id(row.id),
                                             uuid.uuid4())

    async def _new_password(self, uow, user_id: uuid.UUID, password_hash: str, values: dict) -> None:
        users = uow.repository.users
        # To the millisecond, as tokens carry their issue time: a token issued from now on is
        # not refused.
        revoked = _whole_millisecond(now())
        await users.update(user_id, {"password_hash": password_hash, "updated_at": now(), **values})
        await uow.repository.tokens.revoke_user(user_id, revoked)
        user = user_to_proto(await users.by_id(user_id))
        announced = auth_pb2.UserEvent(user=user)
        announced.tokens_revoked_at.FromDatetime(revoked)
        await uow.emit("user.password_changed", user.name, announced)
        self.users.evict(user_id)

    async def change_email(self, caller: Identity, new_email: str, password: str) -> auth_pb2.User:
        """The new sign-in address, unverified until its link (sent to it) is followed; the old
        address told."""
        if not password:
            raise InvalidArgument({"password": "is required"})
        row = await self._own_account(caller, password, "password")
        new_email = domain.check_new_email(new_email, row.email)
        async with self.database.unit_of_work() as uow:
            users = uow.repository.users
            changed = await users.change_email(row.id, {
                "email": new_email, "email_lower": domain.normalize_email(new_email), "email_verified_at": None,
                "updated_at": now()})
            if not changed:
                raise AlreadyExists(f"an account with email {new_email} already exists", domain.EMAIL_TAKEN)
            user = user_to_proto(await users.by_id(row.id))
            await uow.emit("user.email_changed", user.name, auth_pb2.UserEvent(user=user, previous_email=row.email))
            await self._email_link(uow, user, domain.EMAIL_VERIFICATION)
        self.users.evict(row.id)
        return user

    async def _own_account(self, caller: Identity, password: str, field: str) -> Row:
        """The caller's account, once `password` proves it is theirs (InvalidArgument naming
        `field` otherwise)."""
        async with self.database.reading() as uow:
            row = await uow.repository.users.by_id(uuid.UUID(caller.user_id))
        if row is None:
            raise NotFound(f"{caller.user_name} does not exist")
        if not await self.hashing.run(domain.verify_password, row.password_hash, password):
            raise InvalidArgument([Violation(field, "is wrong", domain.WRONG_PASSWORD)], "the password is wrong",
                                  domain.WRONG_PASSWORD)
        return row

    async def login(self, email: str, password: str) -> auth_pb2.TokenPair:
        missing = {name: "is required" for name, value in (("email", email), ("password", password)) if not value}
        if missing:
            raise InvalidArgument(missing)
        async with self.database.unit_of_work() as uow:
            user = await uow.repository.users.by_email(domain.normalize_email(email))
        if user is None:
            # As slow as a wrong password, so timing does not tell which emails exist.
            await self.hashing.run(domain.dummy_verify)
            raise Unauthenticated(WRONG_EMAIL_OR_PASSWORD, domain.WRONG_CREDENTIALS)
        if not await self.hashing.run(domain.verify_password, user.password_hash, password):
            raise Unauthenticated(WRONG_EMAIL_OR_PASSWORD, domain.WRONG_CREDENTIALS)
        if not user.active:
            raise Unauthenticated("this account is deactivated", domain.ACCOUNT_DEACTIVATED)
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
            row = await refresh_tokens.by_hash_for_update(tokens.token_digest(refresh_token))
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
            raise Unauthenticated("refresh token was already used; every session of its sign-in is revoked",
                                  domain.REFRESH_TOKEN_REUSED)
        raise Unauthenticated("refresh token is unknown, expired or revoked", domain.REFRESH_TOKEN_INVALID)

    async def logout(self, caller: Identity, refresh_token: str) -> None:
        if not refresh_token:
            raise InvalidArgument({"refresh_token": "is required"})
        async with self.database.unit_of_work() as uow:
            refresh_tokens = uow.repository.tokens
            row = await refresh_tokens.by_hash_for_update(tokens.token_digest(refresh_token))
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


def _unusable_link() -> InvalidArgument:
    return InvalidArgument([Violation("token", domain.UNUSABLE_LINK, domain.LINK_UNUSABLE)],
                           "the link is unknown, expired or already used", domain.LINK_UNUSABLE)


def _whole_millisecond(moment: datetime) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp() * 1000) / 1000, timezone.utc)


def _record(row: Row) -> tokens.RefreshToken:
    return tokens.RefreshToken(
        id=str(row.id), family_id=str(row.family_id), user_id=str(row.user_id),
        token_hash=row.token_hash, expires_at=row.expires_at, used_at=row.used_at,
        revoked_at=row.revoked_at,
    )
