"""auth: users, sign-in, access and refresh tokens, and the keys every service verifies them with."""
from dataclasses import dataclass

from services.kit.manifest import Service
from services.kit.settings import setting


@dataclass(frozen=True)
class AuthSettings:
    # Hashing is slow by design: a few at a time per instance, a few more may wait, the rest
    # are refused at once (RESOURCE_EXHAUSTED) instead of queuing into time-outs.
    hash_workers: int = setting(2, "AUTOSALON_AUTH_HASH_WORKERS", "password hashes computed at once per instance",
                                minimum=1)
    hash_queue: int = setting(16, "AUTOSALON_AUTH_HASH_QUEUE",
                              "password hashes that may wait per instance before sign-ins are refused (429)",
                              minimum=0)
    refresh_token_days: int = setting(30, "AUTOSALON_REFRESH_TOKEN_DAYS", "how long a refresh token lives",
                                      minimum=1)


SERVICE = Service("auth", instances=2, core_weight=0.1, settings=AuthSettings,
                  seed="services.auth.seed:ensure_admin")
