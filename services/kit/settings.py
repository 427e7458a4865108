"""Settings from the environment: one frozen dataclass a service (and one for the whole mesh),
every field typed, defaulted for a local run, validated, and documented where it is declared.

    @dataclass(frozen=True)
    class InventorySettings:
        saga_hold_seconds: int = setting(1800, "AUTOSALON_SAGA_HOLD_SECONDS",
                                         "how long a confirmed order holds its car unpaid", minimum=1)

`load(InventorySettings)` (the mesh's own `Settings` by default) reads each field's variable (unset or empty: the default), converts
it to the field's type and checks its bounds; a bad value stops the process with a message
naming the variable. `described(...)` lists them all (`python -m scripts.mesh settings`
prints the README's Configuration table from it).
"""
import dataclasses
import math
import os
import pathlib
import socket
from decimal import Decimal
from typing import Any, Mapping, TypeVar
from urllib.parse import quote

from . import credentials

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

S = TypeVar("S")


class BadSetting(ValueError):
    """An environment variable holds a value its setting cannot take."""


def setting(default: Any, env: str, doc: str, *, minimum: float | None = None,
            maximum: float | None = None, choices: tuple[str, ...] = (), secret: bool = False,
            hot: bool = False, category: str = "") -> Any:
    """A settings field: its default, its environment variable, what it means, its bounds or
    its `choices`; a `secret` one is left out of the settings' repr (and so of tracebacks and
    logs). A `hot` one may be changed while the service runs, through the config service, as
    the setting "<service>.<field>" (kit.live_settings), listed there under `category` (the
    service's name when empty)."""
    return dataclasses.field(default=default, repr=not secret,
                             metadata={"env": env, "doc": doc, "minimum": minimum, "maximum": maximum,
                                       "choices": choices, "hot": hot, "category": category})


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def kind_of(field: dataclasses.Field) -> type:
    return field.type if isinstance(field.type, type) else type(field.default)


def truth(raw: str) -> bool:
    """A yes-or-no setting's text ("true", "1", "yes", "on" or their opposites), or ValueError."""
    if raw.strip().lower() not in _TRUE + _FALSE:
        raise ValueError(raw)
    return raw.strip().lower() in _TRUE


def convert(field: dataclasses.Field, raw: str, source: str) -> Any:
    """`raw` as the field's value, or BadSetting naming `source` (where the text came from)."""
    kind = kind_of(field)
    try:
        if kind is bool:
            value = truth(raw)
        else:
            value = kind(raw)
            # nan passes any bound (and Decimal's cannot be compared): not a setting's value.
            if isinstance(value, (float, Decimal)) and not math.isfinite(value):
                raise ValueError(raw)
    except (ValueError, ArithmeticError):  # Decimal's InvalidOperation is an ArithmeticError
        raise BadSetting(f"{source}={raw!r} is not a valid {kind.__name__}") from None
    choices = field.metadata["choices"]
    if choices and value not in choices:
        raise BadSetting(f"{source}={raw!r} must be one of {', '.join(choices)}")
    low, high = field.metadata["minimum"], field.metadata["maximum"]
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise BadSetting(f"{source}={raw!r} must be {bounds}")
    return value


def load(cls: type[S] = None, environ: Mapping[str, str] | None = None) -> S:
    """`cls` (the mesh's Settings unless named) with every field from its environment
    variable, or its default."""
    cls = Settings if cls is None else cls
    environ = os.environ if environ is None else environ
    values = {}
    for field in dataclasses.fields(cls):
        raw = environ.get(field.metadata["env"], "")
        values[field.name] = convert(field, raw, field.metadata["env"]) if raw else field.default
    return cls(**values)


def described(cls: type) -> list[tuple[str, str, str]]:
    """(variable, default as text, meaning) of every setting of `cls`; a path in the checkout
    is shown relative to it."""
    def shown(default: Any) -> str:
        if isinstance(default, pathlib.Path) and default.is_relative_to(REPO_ROOT):
            return f"{default.relative_to(REPO_ROOT)} in the checkout"
        return str(default)

    return [(field.metadata["env"], shown(field.default), field.metadata["doc"]) for field in dataclasses.fields(cls)]


@dataclasses.dataclass(frozen=True)
class Settings:
    """Where the mesh's shared parts are, and the policies every service shares."""
    run_dir: pathlib.Path = setting(REPO_ROOT / ".run", "AUTOSALON_RUN_DIR", "the mesh's state, logs and keys")
    consul_addr: str = setting("127.0.0.1:8500", "AUTOSALON_CONSUL_ADDR", "Consul's HTTP API")
    nats_url: str = setting(
        "nats://127.0.0.1:4222", "AUTOSALON_NATS_URL",
        "NATS JetStream; a cluster's servers separated by commas, the one to try first first")
    nats_replicas: int = setting(
        1, "AUTOSALON_NATS_REPLICAS", "how many servers keep a copy of each stream (3 in a cluster)",
        minimum=1, maximum=5)
    pg_host: str = setting("127.0.0.1", "AUTOSALON_PG_HOST", "PostgreSQL's host")
    pg_port: int = setting(55432, "AUTOSALON_PG_PORT", "PostgreSQL's port", minimum=1, maximum=65535)
    pg_user: str = setting(
        "", "AUTOSALON_PG_USER",
        "PostgreSQL's role (empty: the operator's, from `keys/credentials.json` in the run folder: the "
        "role named after the database opened, or else the superuser)")
    pg_password: str = setting("", "AUTOSALON_PG_PASSWORD", "that role's password", secret=True)
    nats_user: str = setting(
        "", "AUTOSALON_NATS_USER", "the NATS user (empty: the operator, from `keys/credentials.json`)")
    nats_password: str = setting("", "AUTOSALON_NATS_PASSWORD", "that user's password", secret=True)
    consul_token: str = setting(
        "", "AUTOSALON_CONSUL_TOKEN",
        "the Consul ACL token (empty: the operator's, from `keys/credentials.json`)", secret=True)
    # Unix sockets cost both sides less CPU a statement than loopback TCP.
    pg_socket_dir: str = setting(
        "", "AUTOSALON_PG_SOCKET_DIR",
        "the folder of PostgreSQL's Unix socket, which the services then use instead of TCP "
        "(`./scripts/up` sets it when the socket's path fits the kernel's 107 bytes)")
    bind_host: str = setting("127.0.0.1", "AUTOSALON_BIND_HOST", "the address services listen on")
    advertise_host: str = setting(
        "", "AUTOSALON_ADVERTISE_HOST",
        "the address other processes reach a service at (empty: the bind address, or the "
        "host's own when binding every interface, as in a container)")
    port: int = setting(0, "AUTOSALON_PORT", "a service's gRPC port (0: any free one, as registered in Consul)",
                        minimum=0, maximum=65535)
    jwks_file: str = setting("", "AUTOSALON_JWKS_FILE", "auth's public keys for the edge (empty: `keys/jwks.json` in the run folder)")
    signing_key_file: str = setting(
        "", "AUTOSALON_SIGNING_KEY_FILE", "auth's private signing key (empty: `keys/auth-signing-key.pem` in the run folder)")
    metrics: bool = setting(
        True, "AUTOSALON_METRICS",
        "whether every service counts its calls, events and connections and serves them to "
        "Prometheus (kit.metrics); off only to measure what they cost")
    metrics_port: int = setting(
        0, "AUTOSALON_METRICS_PORT",
        "the port a service serves its Prometheus metrics on, on the bind address (0: any free one, "
        "registered in Consul as the instance's metrics_port)", minimum=0, maximum=65535)
    trace_percent: float = setting(
        1.0, "AUTOSALON_TRACE_PERCENT",
        "the share of requests traced, in per cent (0 to 100): the edge and every service keep a "
        "record of each step of a sampled request for the monitoring service (kit.tracing); an "
        "x-request-id starting with 00000000 is always traced unless this is 0",
        minimum=0, maximum=100)
    event_retention_days: int = setting(
        3650, "AUTOSALON_EVENT_RETENTION_DAYS",
        "how long JetStream keeps events and the services their published outbox rows and "
        "consumed event ids (pruned hourly); reporting rebuilds its read models from the events "
        "kept, so a shorter time loses the older figures at the next rebuild", minimum=1)
    access_token_ttl_seconds: int = setting(
        900, "AUTOSALON_ACCESS_TOKEN_TTL",
        "how long an access token lives: auth signs them so, and every service replays this "
        "much of auth's account changes when it starts", minimum=60)
    public_cache_seconds: int = setting(
        5, "AUTOSALON_PUBLIC_CACHE_SECONDS",
        "the least time an anonymous read of public data (the catalogue) may be kept by the edge "
        "or a browser; 0 keeps nothing", minimum=0)
    admin_email: str = setting("admin@autosalon.local", "AUTOSALON_ADMIN_EMAIL",
                               "the initial admin, created by the first `./scripts/up`")
    admin_password: str = setting("Showroom-Keys-2026", "AUTOSALON_ADMIN_PASSWORD",
                                  "the initial admin's password", secret=True)

    @property
    def jwks_path(self) -> pathlib.Path:
        return pathlib.Path(self.jwks_file or self.run_dir / "keys" / "jwks.json")

    @property
    def signing_key_path(self) -> pathlib.Path:
        return pathlib.Path(self.signing_key_file or self.run_dir / "keys" / "auth-signing-key.pem")

    @property
    def advertised_host(self) -> str:
        """Listening on every interface (a container), peers reach us at our own address."""
        if self.advertise_host:
            return self.advertise_host
        if self.bind_host in ("0.0.0.0", "::"):
            return socket.gethostbyname(socket.gethostname())
        return self.bind_host

    @property
    def credentials_path(self) -> pathlib.Path:
        return credentials.path_in(self.run_dir)

    def _operators(self) -> credentials.Credentials | None:
        return credentials.read(self.credentials_path)

    def pg_login(self, database: str) -> tuple[str, str]:
        """(role, password) to open `database` with: the settings', or the operator's."""
        if self.pg_user:
            return self.pg_user, self.pg_password
        operators = self._operators()
        return operators.pg_login(database) if operators else (credentials.SUPERUSER, "")

    @property
    def nats_login(self) -> tuple[str, str]:
        """(user, password) for NATS: the settings', or the operator's; empty: no login."""
        if self.nats_user:
            return self.nats_user, self.nats_password
        operators = self._operators()
        return (credentials.OPERATOR, operators.nats[credentials.OPERATOR]) if operators else ("", "")

    @property
    def consul_acl_token(self) -> str:
        """The Consul token: the settings', or the operator's; empty: anonymous."""
        if self.consul_token:
            return self.consul_token
        operators = self._operators()
        return operators.consul[credentials.OPERATOR] if operators else ""

    def database_url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        user, password = self.pg_login(database)
        login = f"{driver}://{quote(user, safe='')}:{quote(password, safe='')}"
        if self.pg_socket_dir:
            return f"{login}@/{database}?host={self.pg_socket_dir}&port={self.pg_port}"
        return f"{login}@{self.pg_host}:{self.pg_port}/{database}"


def watch_seconds_setting(service: str) -> float:
    """The settings field of how long one watch (kit.watches) of `service` lasts at most."""
    return setting(600.0, f"AUTOSALON_{service.upper()}_WATCH_SECONDS",
                   "the longest a watch lasts; the caller then watches again", minimum=1, maximum=3600, hot=True)


def most_watches_setting(service: str) -> int:
    """The settings field of how many watches (server-streaming calls) an instance of `service`
    serves at once."""
    return setting(200, f"AUTOSALON_{service.upper()}_MOST_WATCHES",
                   "watches one instance serves at once; one more is refused RESOURCE_EXHAUSTED (BUSY)",
                   minimum=1, hot=True)
