"""The container bootstrap's access step (scripts.mesh.access.apply, which ./scripts/up runs too)
against the test mesh's real PostgreSQL and Consul, twice, with credentials of its own: two
throwaway services, and the mesh's own superuser and operator secrets, unchanged, to act with
(so the mesh's roles and tokens stay as they are)."""
import uuid

import psycopg
import pytest

from scripts.mesh import access
from services.kit import credentials
from services.kit.credentials import OPERATOR, SUPERUSER, Credentials


def _superuser(mesh) -> psycopg.Connection:
    return psycopg.connect(mesh.database_url("postgres", driver="postgresql"), autocommit=True)


def _connect(mesh, database: str, role: str, password: str) -> psycopg.Connection:
    return psycopg.connect(host=mesh.pg_host, port=mesh.pg_port, dbname=database, user=role, password=password,
                           connect_timeout=5)


@pytest.fixture
def throwaway(mesh):
    """Credentials for two services `it-access-<hex>-a` and `-b`; their roles, databases,
    policies and tokens are removed afterwards."""
    mine = credentials.read(mesh.credentials_path)
    services = [f"it-access-{uuid.uuid4().hex[:8]}-{letter}" for letter in "ab"]
    theirs = Credentials.generated(services)
    secrets = Credentials(
        postgres={SUPERUSER: mine.postgres[SUPERUSER], **{name: theirs.postgres[name] for name in services}},
        nats={},
        consul={OPERATOR: mine.consul[OPERATOR], **{name: theirs.consul[name] for name in services}},
    )
    yield secrets
    operator = mine.consul[OPERATOR]
    ours = {secrets.consul[name] for name in services}
    for token in access.consul("GET", "/v1/acl/tokens", operator):
        if token.get("SecretID") in ours:
            access.consul("DELETE", f"/v1/acl/token/{token['AccessorID']}", operator)
    for policy in access.consul("GET", "/v1/acl/policies", operator):
        if policy["Name"] in {f"autosalon-{name}" for name in services}:
            access.consul("DELETE", f"/v1/acl/policy/{policy['ID']}", operator)
    with _superuser(mesh) as connection:
        for name in services:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'DROP ROLE IF EXISTS "{name}"')


def _what_the_servers_hold(mesh, secrets: Credentials) -> dict:
    """The throwaway services' roles, databases, policies and tokens, and the superuser's role,
    as the servers keep them, with the version of their last change (a row's xmin, an ACL's
    ModifyIndex)."""
    names = [name for name in secrets.postgres if name != SUPERUSER]
    operator = secrets.consul[OPERATOR]
    with _superuser(mesh) as connection:
        roles = connection.execute(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolpassword, xmin::text "
            "FROM pg_authid WHERE rolname = ANY(%s) ORDER BY rolname", ([*names, SUPERUSER],)).fetchall()
        databases = connection.execute(
            "SELECT datname, pg_get_userbyid(datdba), datacl::text, xmin::text FROM pg_database "
            "WHERE datname = ANY(%s) ORDER BY datname", (names,)).fetchall()
    policies = sorted((policy["Name"], policy["ModifyIndex"]) for policy in access.consul("GET", "/v1/acl/policies", operator)
                      if policy["Name"] in {f"autosalon-{name}" for name in names})
    tokens = sorted((token["AccessorID"], token["ModifyIndex"]) for token in access.consul("GET", "/v1/acl/tokens", operator)
                    if token.get("SecretID") in secrets.consul.values())
    return {"superuser": [role for role in roles if role[0] == SUPERUSER], "roles": roles, "databases": databases,
            "policies": policies, "tokens": tokens}


def test_the_access_step_gives_each_service_its_own_logins_and_a_second_run_changes_nothing(mesh, throwaway):
    first, second = (name for name in throwaway.postgres if name != SUPERUSER)
    before = _what_the_servers_hold(mesh, throwaway)

    changes = access.apply(throwaway, throwaway)

    # Only the throwaway services' part changed: the mesh's superuser and operator held already.
    assert changes and all(first in change or second in change for change in changes)
    assert _what_the_servers_hold(mesh, throwaway)["superuser"] == before["superuser"]
    for own, other in ((first, second), (second, first)):
        with _connect(mesh, own, own, throwaway.postgres[own]) as connection:
            assert connection.execute("SELECT current_user, current_database()").fetchone() == (own, own)
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            _connect(mesh, other, own, throwaway.postgres[own])
    for name in (first, second):
        token = access.consul("GET", "/v1/acl/token/self", throwaway.consul[name])
        assert [policy["Name"] for policy in token["Policies"]] == [f"autosalon-{name}"]
        policy = access.consul("GET", f"/v1/acl/policy/{token['Policies'][0]['ID']}", throwaway.consul[OPERATOR])
        assert policy["Rules"] == access.consul_rules(name)

    applied = _what_the_servers_hold(mesh, throwaway)
    assert access.apply(throwaway, throwaway) == []
    assert _what_the_servers_hold(mesh, throwaway) == applied
