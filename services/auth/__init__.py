"""auth: users, sign-in, access and refresh tokens, the keys every service verifies them with,
and the account's emailed links (an address verified, a password reset)."""
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
    verification_link_hours: int = setting(48, "AUTOSALON_VERIFICATION_LINK_HOURS",
                                           "how long an emailed link that verifies an address works", minimum=1,
                                           maximum=720)
    reset_link_minutes: int = setting(30, "AUTOSALON_RESET_LINK_MINUTES",
                                      "how long an emailed password reset link works (once)", minimum=5, maximum=1440)


SERVICE = Service("auth", instances=2, core_weight=0.1, settings=AuthSettings,
                  seed="services.auth.seed:ensure_admin")
