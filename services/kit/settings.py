"""Where the mesh's shared parts are, from the environment, with defaults for a local run."""
import os
import pathlib
import socket
from dataclasses import dataclass

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class Settings:
    run_dir: pathlib.Path
    consul_addr: str
    nats_url: str
    pg_host: str
    pg_port: int
    pg_user: str
    pg_password: str
    # Set: services reach PostgreSQL through its Unix socket in this folder, which costs both
    # sides less CPU a statement than loopback TCP. Empty: TCP to pg_host:pg_port.
    pg_socket_dir: str
    bind_host: str
    # The address other processes reach this one at (a container's name under compose).
    advertise_host: str
    jwks_file: pathlib.Path
    signing_key_file: pathlib.Path
    # How long JetStream keeps events, and services their outbox rows and consumed event ids.
    event_retention_days: int
    # How long an access token lives: auth signs them so, and every service must know which
    # account changes may still have tokens out.
    access_token_ttl_seconds: int
    # How old an anonymous read of public data may be when a cache (the edge's, a browser's)
    # answers it; 0 keeps nothing.
    public_cache_seconds: int

    def database_url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        credentials = f"{driver}://{self.pg_user}:{self.pg_password}"
        if self.pg_socket_dir:
            return f"{credentials}@/{database}?host={self.pg_socket_dir}&port={self.pg_port}"
        return f"{credentials}@{self.pg_host}:{self.pg_port}/{database}"


def _advertised(bind_host: str) -> str:
    """Listening on every interface (a container), peers reach us at our own address."""
    if bind_host in ("0.0.0.0", "::"):
        return socket.gethostbyname(socket.gethostname())
    return bind_host


def load() -> Settings:
    run_dir = pathlib.Path(_env("AUTOSALON_RUN_DIR", str(REPO_ROOT / ".run")))
    return Settings(
        run_dir=run_dir,
        consul_addr=_env("AUTOSALON_CONSUL_ADDR", "127.0.0.1:8500"),
        nats_url=_env("AUTOSALON_NATS_URL", "nats://127.0.0.1:4222"),
        pg_host=_env("AUTOSALON_PG_HOST", "127.0.0.1"),
        pg_port=int(_env("AUTOSALON_PG_PORT", "55432")),
        pg_user=_env("AUTOSALON_PG_USER", "autosalon"),
        pg_password=_env("AUTOSALON_PG_PASSWORD", "autosalon"),
        pg_socket_dir=_env("AUTOSALON_PG_SOCKET_DIR", ""),
        bind_host=_env("AUTOSALON_BIND_HOST", "127.0.0.1"),
        advertise_host=_env("AUTOSALON_ADVERTISE_HOST", "") or _advertised(
            _env("AUTOSALON_BIND_HOST", "127.0.0.1")
        ),
        jwks_file=pathlib.Path(_env("AUTOSALON_JWKS_FILE", str(run_dir / "keys" / "jwks.json"))),
        signing_key_file=pathlib.Path(
            _env("AUTOSALON_SIGNING_KEY_FILE", str(run_dir / "keys" / "auth-signing-key.pem"))
        ),
        event_retention_days=int(_env("AUTOSALON_EVENT_RETENTION_DAYS", "30")),
        access_token_ttl_seconds=int(_env("AUTOSALON_ACCESS_TOKEN_TTL", "900")),
        public_cache_seconds=int(_env("AUTOSALON_PUBLIC_CACHE_SECONDS", "5")),
    )
