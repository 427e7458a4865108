"""Access tokens (ES256 JWTs), refresh-token families and the tokens of emailed links.
Verification of access tokens lives in the kit."""
import base64
import enum
import hashlib
import json
import pathlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.kit.identity import AUDIENCE, ISSUER


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def generate_signing_key() -> tuple[bytes, str]:
    """A new P-256 private key (PEM) and its key id, the RFC 7638 thumbprint of its JWK."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, _thumbprint(private_key.public_key())


def _public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict:
    return jwt.algorithms.ECAlgorithm.to_jwk(public_key, as_dict=True)


def _thumbprint(public_key: ec.EllipticCurvePublicKey) -> str:
    jwk = _public_jwk(public_key)
    canonical = json.dumps(
        {name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":")
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


class TokenSigner:
    def __init__(self, pem: bytes, kid: str):
        self._private_key = serialization.load_pem_private_key(pem, password=None)
        self.kid = kid

    @classmethod
    def from_file(cls, path: pathlib.Path) -> "TokenSigner":
        pem = path.read_bytes()
        public_key = serialization.load_pem_private_key(pem, password=None).public_key()
        return cls(pem, _thumbprint(public_key))

    def issue_access_token(
        self, user_id: str, role: str, email: str, now: datetime, ttl: timedelta
    ) -> str:
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": user_id,
            "role": role,
            "email": email,
            # To the millisecond (a NumericDate may have a fraction): a change to the account
            # revokes exactly the tokens issued before it, even within the same second.
            "iat": round(now.timestamp(), 3),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._private_key, algorithm="ES256", headers={"kid": self.kid})

    def jwks(self) -> dict:
        jwk = _public_jwk(self._private_key.public_key())
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "ES256"}]}


@dataclass(frozen=True)
class RefreshToken:
    id: str
    family_id: str
    user_id: str
    token_hash: str
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class RefreshDecision(enum.Enum):
    ROTATE = "rotate"
    # A spent token came back: the family is compromised and must be revoked whole.
    REUSE_DETECTED = "reuse_detected"
    REJECT = "reject"


def token_digest(plain: str) -> str:
    """Only this hash of a refresh token or an emailed link's token is stored: a stolen database
    holds no usable one."""
    return hashlib.sha256(plain.encode()).hexdigest()


def new_link_token() -> tuple[str, str]:
    """An emailed link's secret (256 random bits, URL-safe) and its digest."""
    plain = secrets.token_urlsafe(32)
    return plain, token_digest(plain)


def new_refresh_token(
    user_id: str, family_id: str, now: datetime, ttl: timedelta
) -> tuple[str, RefreshToken]:
    plain = secrets.token_urlsafe(32)
    record = RefreshToken(
        id=str(uuid.uuid4()),
        family_id=family_id,
        user_id=user_id,
        token_hash=token_digest(plain),
        expires_at=now + ttl,
    )
    return plain, record


def decide_refresh(record: RefreshToken | None, now: datetime) -> RefreshDecision:
    if record is None or record.revoked_at is not None:
        return RefreshDecision.REJECT
    if record.used_at is not None:
        return RefreshDecision.REUSE_DETECTED
    if record.expires_at <= now:
        return RefreshDecision.REJECT
    return RefreshDecision.ROTATE
