"""The mesh's infrastructure credentials: one file, `keys/credentials.json` in the run folder
(mode 600, beside the signing keys, never committed), written by `./scripts/up` on its first
run and by `python -m scripts.mesh rotate`.

    {"postgres": {role: password},       the superuser, and one role a service database
     "nats":     {user: password},       the operator, and one user a service
     "consul":   {holder: token secret}} the operator (management), the agent, the edge's sync,
                                          and one token a service

A service never reads the file: the supervisor hands each process its own lines as settings
(AUTOSALON_PG_USER/PASSWORD, AUTOSALON_NATS_USER/PASSWORD, AUTOSALON_CONSUL_TOKEN). Tools run
by the operator (tests, benches, scripts) leave those settings empty and act as the operator:
as the role named after the database they open, or else the superuser.
"""
import dataclasses
import json
import pathlib
import secrets
import uuid

SUPERUSER = "autosalon"
OPERATOR = "operator"
CONSUL_AGENT = "agent"
EDGE_SYNC = "edge-sync"


@dataclasses.dataclass(frozen=True)
class Credentials:
    postgres: dict[str, str]
    nats: dict[str, str]
    consul: dict[str, str]

    @classmethod
    def generated(cls, services: list[str]) -> "Credentials":
        """New random secrets for the operator, the infrastructure and each of `services`."""
        def password() -> str:
            return secrets.token_urlsafe(24)

        return cls(
            postgres={SUPERUSER: password(), **{service: password() for service in services}},
            nats={OPERATOR: password(), **{service: password() for service in services}},
            # Consul takes only UUIDs as token secrets.
            consul={holder: str(uuid.uuid4()) for holder in (OPERATOR, CONSUL_AGENT, EDGE_SYNC, *services)},
        )

    def with_services(self, services: list[str]) -> "Credentials":
        """These credentials, with new ones for the services that have none yet."""
        missing = [service for service in services if service not in self.consul]
        if not missing:
            return self
        more = Credentials.generated(missing)
        return Credentials(
            postgres={**more.postgres, **self.postgres}, nats={**more.nats, **self.nats},
            consul={**more.consul, **self.consul},
        )

    def pg_login(self, database: str) -> tuple[str, str]:
        """The role that owns `database` and its password; the superuser's for any other."""
        role = database if database in self.postgres and database != SUPERUSER else SUPERUSER
        return role, self.postgres[role]


def path_in(run_dir: pathlib.Path) -> pathlib.Path:
    return run_dir / "keys" / "credentials.json"


def read(path: pathlib.Path) -> Credentials | None:
    """The credentials kept at `path`, or None when there are none (a mesh without them)."""
    try:
        return Credentials(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None


def write(path: pathlib.Path, credentials: Credentials) -> None:
    write_private(path, json.dumps(dataclasses.asdict(credentials), indent=2, sort_keys=True))


def write_private(path: pathlib.Path, text: str) -> None:
    """Replaces the file at `path` at once, readable by its owner only (its folder too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    partial.write_text(text)
    partial.replace(path)
