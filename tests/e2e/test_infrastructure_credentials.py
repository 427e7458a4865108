"""The infrastructure behind credentials (issue 16, defect 9): PostgreSQL, NATS and Consul
each refuse whoever has no secret, and each service's secret opens only its own part."""
import asyncio
import json
import stat
import subprocess
import sys
import urllib.error
import urllib.request

import nats
import nats.errors
import psycopg
import pytest

from scripts.mesh import supervisor
from services.kit import credentials
from services.kit.subjects import stream_name
from services.kit.settings import REPO_ROOT

from .conftest import bearer, login, register


def _secrets(mesh) -> credentials.Credentials:
    return credentials.read(mesh.credentials_path)


def _pg(mesh, database: str, user: str, password: str) -> psycopg.Connection:
    return psycopg.connect(host=mesh.pg_host, port=mesh.pg_port, dbname=database, user=user,
                           password=password, connect_timeout=5)


def _consul(path: str, token: str = "", method: str = "GET", body: dict | None = None):
    """(status, answer) of a Consul HTTP call with `token` (none: anonymous)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:8500{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-Consul-Token": token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class _Connection:
    """A NATS connection as one user, keeping the errors the server sent it."""

    def __init__(self, mesh, user: str, password: str):
        self._mesh, self._user, self._password = mesh, user, password
        self.errors: list[str] = []

    async def __aenter__(self):
        async def keep(error):
            self.errors.append(str(error))

        self.nc = await nats.connect(self._mesh.nats_url, user=self._user, password=self._password,
                                     inbox_prefix=f"_INBOX.{self._user}", error_cb=keep,
                                     allow_reconnect=False)
        return self

    async def __aexit__(self, *exc):
        await self.nc.close()

    async def refused(self) -> bool:
        for _ in range(50):
            if any("permissions violation" in error.lower() for error in self.errors):
                return True
            await asyncio.sleep(0.1)
        return False


def test_the_secrets_are_readable_by_their_owner_only(mesh):
    for path in (mesh.credentials_path, mesh.run_dir / "supervisord.conf"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(mesh.credentials_path.parent.stat().st_mode) == 0o700


def test_every_service_has_secrets_of_its_own(mesh):
    secrets = _secrets(mesh)
    for kind in (secrets.postgres, secrets.nats, secrets.consul):
        values = list(kind.values())
        assert len(set(values)) == len(values)
        assert {"auth", "catalog", "customer", "inventory", "payment", "pricing", "sales"} <= set(kind)
    assert "autosalon" not in secrets.postgres.values()


# PostgreSQL -------------------------------------------------------------------------------

def test_postgres_refuses_the_old_default_password(mesh):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _pg(mesh, "postgres", credentials.SUPERUSER, "autosalon")


def test_a_service_role_opens_its_own_database_only(mesh):
    secrets = _secrets(mesh)
    with _pg(mesh, "catalog", "catalog", secrets.postgres["catalog"]) as own:
        assert own.execute("SELECT count(*) FROM pg_tables WHERE tableowner = 'catalog'").fetchone()[0] > 0
        assert own.execute("SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles "
                           "WHERE rolname = 'catalog'").fetchone()[0] is False
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        _pg(mesh, "payment", "catalog", secrets.postgres["catalog"])
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _pg(mesh, "catalog", "catalog", secrets.postgres["payment"])


# NATS -------------------------------------------------------------------------------------

async def test_nats_refuses_a_connection_without_credentials(mesh):
    with pytest.raises(Exception, match="(?i)authorization"):
        await nats.connect(mesh.nats_url, allow_reconnect=False, max_reconnect_attempts=0,
                           connect_timeout=5)


async def test_a_service_cannot_publish_another_services_events(mesh):
    """The forged `payment.succeeded` of the report: refused, and nothing reaches the stream."""
    secrets = _secrets(mesh)
    async with _Connection(mesh, "inventory", secrets.nats["inventory"]) as inventory:
        stream = inventory.nc.jetstream()
        before = (await stream.stream_info(stream_name("payment"))).state.messages
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await stream.publish("autosalon.payment.payment.succeeded", b"forged", timeout=1)
        assert await inventory.refused()
        assert (await stream.stream_info(stream_name("payment"))).state.messages == before


async def test_a_service_cannot_delete_a_stream_or_read_another_services_replies(mesh):
    secrets = _secrets(mesh)
    async with _Connection(mesh, "inventory", secrets.nats["inventory"]) as inventory:
        with pytest.raises(nats.errors.TimeoutError):
            await inventory.nc.request(f"$JS.API.STREAM.DELETE.{stream_name('payment')}", b"", timeout=1)
        assert await inventory.refused()
    async with _Connection(mesh, "inventory", secrets.nats["inventory"]) as inventory:
        await inventory.nc.subscribe("_INBOX.payment.>")
        assert await inventory.refused()
    async with _Connection(mesh, credentials.OPERATOR, secrets.nats[credentials.OPERATOR]) as operator:
        assert (await operator.nc.jetstream().stream_info(stream_name("payment"))).config.name


# Consul -----------------------------------------------------------------------------------

def test_consul_shows_and_takes_nothing_from_anonymous(mesh):
    status, instances = _consul("/v1/health/service/payment?passing=true")
    assert (status, instances) == (200, [])
    status, _ = _consul("/v1/agent/service/register", method="PUT",
                        body={"ID": "forged-payment", "Name": "payment", "Address": "127.0.0.1", "Port": 1})
    assert status == 403


def test_a_services_token_registers_that_service_only(mesh):
    secrets = _secrets(mesh)
    catalog = secrets.consul["catalog"]
    status, instances = _consul("/v1/health/service/payment?passing=true", catalog)
    assert status == 200 and len(instances) >= 1
    status, answer = _consul("/v1/agent/service/register", catalog, "PUT",
                             {"ID": "forged-payment", "Name": "payment", "Address": "127.0.0.1", "Port": 1})
    assert status == 403, answer
    status, _ = _consul("/v1/health/service/payment", secrets.consul["edge-sync"])
    assert status == 200
    status, _ = _consul("/v1/agent/service/register", secrets.consul["edge-sync"], "PUT",
                        {"ID": "forged-catalog", "Name": "catalog", "Address": "127.0.0.1", "Port": 1})
    assert status == 403


# Rotation ---------------------------------------------------------------------------------

@pytest.mark.disruptive
def test_rotation_replaces_every_secret_and_the_mesh_serves_on(mesh, edge):
    tokens = login(edge, register(edge)["email"], "Correct-Horse-42")
    old = _secrets(mesh)
    subprocess.run([sys.executable, "-m", "scripts.mesh", "rotate"], cwd=REPO_ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    new = _secrets(mesh)
    for kind in ("postgres", "nats", "consul"):
        old_values, new_values = getattr(old, kind), getattr(new, kind)
        assert set(old_values) == set(new_values)
        assert not set(old_values.values()) & set(new_values.values())
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _pg(mesh, "sales", "sales", old.postgres["sales"])
    with _pg(mesh, "sales", "sales", new.postgres["sales"]) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
    assert _consul("/v1/agent/self", old.consul[credentials.OPERATOR])[0] == 403
    with pytest.raises(Exception, match="(?i)authorization"):
        asyncio.run(nats.connect(mesh.nats_url, user=credentials.OPERATOR, allow_reconnect=False,
                                 password=old.nats[credentials.OPERATOR], max_reconnect_attempts=0))
    assert _consul("/v1/health/service/sales", new.consul["sales"])[0] == 200
    assert not mesh.credentials_path.with_name("credentials.json.previous").exists()
    assert supervisor.running()
    # Signed-in users stay signed in (the signing keys are not these secrets), and every
    # service works on: a write through the edge reaches auth's database and comes back.
    assert edge.get("/auth/me", headers=bearer(tokens)).status_code == 200
    assert register(edge)["email"]
