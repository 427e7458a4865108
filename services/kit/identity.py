"""Who is calling: the identity in a verified access token, and per-RPC role rules.

Envoy checks the token at the edge, but every service checks it again: a service is also
reachable over native gRPC inside the mesh, and must never trust a header it cannot verify.
"""
import contextvars
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import jwt

from .errors import TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_REVOKED, PermissionDenied, Unauthenticated

ISSUER = "autosalon-auth"
AUDIENCE = "autosalon"
CLOCK_SKEW_SECONDS = 30

CLIENT, MANAGER, ADMIN = "client", "manager", "admin"
STAFF = frozenset({MANAGER, ADMIN})
ANYONE_SIGNED_IN = frozenset({CLIENT, MANAGER, ADMIN})
ADMINS = frozenset({ADMIN})


@dataclass(frozen=True)
class Identity:
    user_id: str
    role: str
    email: str
    token: str
    # When the token was issued (its iat, Unix seconds, to the millisecond); 0 for identities
    # made in-process.
    issued_at: float = 0.0

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def user_name(self) -> str:
        return f"users/{self.user_id}"


class Public:
    """Marks an RPC that needs no token (a token, when sent, is still verified)."""

    def __repr__(self) -> str:
        return "PUBLIC"


PUBLIC = Public()
# Method name (e.g. "Login") -> PUBLIC or the roles allowed to call it.
AccessRules = dict[str, "Public | frozenset[str]"]

identity_var: contextvars.ContextVar[Identity | None] = contextvars.ContextVar(
    "identity", default=None
)


def current() -> Identity:
    """The caller of the RPC being served; only valid inside a non-public RPC."""
    identity = identity_var.get()
    if identity is None:
        raise Unauthenticated("sign in first: no access token was sent")
    return identity


def optional() -> Identity | None:
    return identity_var.get()


class AccountStates:
    """The role and active flag of each account auth changed lately, and the moment its access
    was last taken away, as its events tell every service. A token of a deactivated account,
    one still carrying a role its account no longer has, and one issued before the account's
    access was last taken away (a deactivation or a role change, even one undone since) are
    refused at once rather than when they expire."""

    def __init__(self) -> None:
        self._latest: dict[str, tuple[str, bool]] = {}
        self._revoked_at: dict[str, float] = {}

    def heard(self, user_id: str, role: str, active: bool, revoked_at: float | None = None) -> None:
        self._latest[user_id] = (role, active)
        if revoked_at is not None:
            self._revoked_at[user_id] = max(revoked_at, self._revoked_at.get(user_id, 0.0))

    def check(self, who: Identity) -> None:
        latest = self._latest.get(who.user_id)
        if latest is None:
            return
        role, active = latest
        if not active:
            raise Unauthenticated("this account was deactivated", TOKEN_REVOKED)
        if role != who.role:
            raise Unauthenticated(f"this account's role is now {role}: sign in again", TOKEN_REVOKED)
        if who.issued_at < self._revoked_at.get(who.user_id, 0.0):
            raise Unauthenticated("this account's access changed after the token was issued: sign in again",
                                  TOKEN_REVOKED)


class TokenVerifier:
    """Verifies ES256 access tokens against a JWKS, refetching it when a new key id appears.

    A token verified once is remembered until it expires: the same string always carries the
    same claims, and the signature check is the costliest part of a cheap read.
    """

    REFETCH_INTERVAL = 30.0
    REMEMBERED_TOKENS = 10_000

    def __init__(self, fetch_jwks: Callable[[], Awaitable[dict]], accounts: AccountStates | None = None):
        self._fetch_jwks = fetch_jwks
        self._accounts = accounts or AccountStates()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._verified: dict[str, tuple[Identity, float]] = {}

    async def _key(self, kid: str) -> jwt.PyJWK:
        stale = time.monotonic() - self._fetched_at > self.REFETCH_INTERVAL
        if kid not in self._keys and (stale or not self._keys):
            jwks = await self._fetch_jwks()
            self._keys = {key["kid"]: jwt.PyJWK(key) for key in jwks.get("keys", [])}
            self._fetched_at = time.monotonic()
        try:
            return self._keys[kid]
        except KeyError:
            raise Unauthenticated("access token signed with an unknown key", TOKEN_INVALID) from None

    async def verify(self, token: str) -> Identity:
        remembered = self._verified.get(token)
        if remembered is not None and remembered[1] > time.time():
            who = remembered[0]
        else:
            who, expires_at = await self._verify_signed(token)
            if len(self._verified) >= self.REMEMBERED_TOKENS:
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = (who, expires_at)
        self._accounts.check(who)
        return who

    async def _verify_signed(self, token: str) -> tuple[Identity, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("access token is malformed", TOKEN_INVALID) from None
        key = await self._key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["ES256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("access token has expired", TOKEN_EXPIRED) from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"access token is invalid: {error}", TOKEN_INVALID) from None
        role = claims.get("role")
        if role not in ANYONE_SIGNED_IN:
            raise Unauthenticated("access token carries no known role", TOKEN_INVALID)
        who = Identity(
            user_id=str(claims["sub"]), role=role, email=str(claims.get("email", "")), token=token,
            issued_at=float(claims["iat"]),
        )
        return who, float(claims["exp"])


def check_access(method: str, rule: "Public | frozenset[str] | None", who: Identity | None) -> None:
    """Raises unless `who` may call `method`. An RPC with no rule is closed to everyone."""
    if rule is None:
        raise PermissionDenied(f"{method} has no access rule")
    if isinstance(rule, Public):
        return
    if who is None:
        raise Unauthenticated("sign in first: no access token was sent")
    if who.role not in rule:
        raise PermissionDenied(f"role {who.role} may not call {method}")


@dataclass(frozen=True)
class Trust:
    """Where a service learns which access tokens to accept: `keys(peers)` fetches the
    signer's public keys (a JWKS), and the events on `account_changes`, read by `account`
    as (user id, role, active, the moment its older tokens were revoked or None), refuse a
    changed account's older tokens at once (AccountStates). The signer's
    typed client (services.peers.auth) provides it: the kit knows no service's contract."""
    keys: Callable[[Any], Callable[[], Awaitable[dict]]]
    account_changes: str
    account: Callable[[Any], tuple[str, str, bool, float | None]]
