"""Which PostgreSQL statements and Consul calls make the servers hold what the credentials say
(scripts.mesh.postgres.role_statements, scripts.mesh.access.consul_requests): everything on
empty servers, only what differs otherwise, nothing once all holds."""
from scripts.mesh import access, postgres
from scripts.mesh.postgres import DatabaseFound, RoleFound
from services.kit.credentials import CONSUL_AGENT, EDGE_SYNC, OPERATOR, SUPERUSER, Credentials

SECRETS = Credentials.generated(["sales", "payment"])
ALL_HOLDS_ROLES = {role: RoleFound(plain_login=True, current_password=True) for role in SECRETS.postgres}
ALL_HOLDS_DATABASES = {service: DatabaseFound(owner=service, open_to_public=False) for service in ("sales", "payment")}

# What PostgreSQL 18 stored for the password "Showroom-Keys-2026" (pg_authid.rolpassword).
VERIFIER = ("SCRAM-SHA-256$4096:pQBKdq1Ug5SOKBdn/uKF0Q==$88ewy97kirVAgZRlmofl+0rJP+AHwzUglfJT+J4tpKc="
            ":8z3dh3w8UY3Ick2YAD6w4kOFjiLEgfsQxmuHeIKuPdQ=")


def _statements(roles: dict, databases: dict) -> list[str]:
    return [statement.as_string() for _, statement in postgres.role_statements(SECRETS, roles, databases)]


def test_a_password_matches_the_verifier_postgresql_made_of_it_and_no_other():
    assert postgres.password_matches(VERIFIER, "Showroom-Keys-2026")
    assert not postgres.password_matches(VERIFIER, "Showroom-Keys-2027")
    assert not postgres.password_matches(None, "Showroom-Keys-2026")  # a role without a password
    assert not postgres.password_matches("md5" + "0" * 32, "Showroom-Keys-2026")


def test_on_an_empty_server_each_service_gets_a_login_role_and_its_own_closed_database():
    superuser = {SUPERUSER: RoleFound(plain_login=False, current_password=True)}
    password = SECRETS.postgres["sales"]
    assert _statements(superuser, {}) == [
        f"""CREATE ROLE "sales" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}'""",
        'CREATE DATABASE "sales" OWNER "sales"',
        'REVOKE ALL ON DATABASE "sales" FROM PUBLIC',
        f"""CREATE ROLE "payment" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{SECRETS.postgres["payment"]}'""",
        'CREATE DATABASE "payment" OWNER "payment"',
        'REVOKE ALL ON DATABASE "payment" FROM PUBLIC',
    ]


def test_once_everything_holds_nothing_is_run():
    assert _statements(ALL_HOLDS_ROLES, ALL_HOLDS_DATABASES) == []


def test_only_what_differs_is_changed():
    roles = {**ALL_HOLDS_ROLES, SUPERUSER: RoleFound(plain_login=False, current_password=False),
             "sales": RoleFound(plain_login=False, current_password=True)}
    # The database a bootstrap without credentials made, as the superuser, open to everyone.
    databases = {**ALL_HOLDS_DATABASES, "payment": DatabaseFound(owner=SUPERUSER, open_to_public=True)}
    assert _statements(roles, databases) == [
        f"""ALTER ROLE "{SUPERUSER}" PASSWORD '{SECRETS.postgres[SUPERUSER]}'""",
        f"""ALTER ROLE "sales" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{SECRETS.postgres["sales"]}'""",
        'ALTER DATABASE "payment" OWNER TO "payment"',
        'REVOKE ALL ON DATABASE "payment" FROM PUBLIC',
    ]


def test_no_statement_says_a_password_in_what_it_does():
    changes = postgres.role_statements(SECRETS, {}, {})
    assert changes and not any(password in what for what, _ in changes for password in SECRETS.postgres.values())


def _policies_as_consul_holds_them() -> dict[str, dict]:
    return {f"autosalon-{holder}": {"ID": f"id-{holder}", "Rules": access.consul_rules(holder),
                                    "Description": f"autosalon {holder}"}
            for holder in SECRETS.consul if holder != OPERATOR}


def test_on_an_empty_consul_each_holder_gets_its_policy_and_a_token_linked_to_it():
    requests = access.consul_requests(SECRETS, {}, set())
    policies = {body["Name"]: body["Rules"] for _, method, path, body in requests if path == "/v1/acl/policy"}
    assert policies == {f"autosalon-{holder}": access.consul_rules(holder)
                        for holder in (CONSUL_AGENT, EDGE_SYNC, "sales", "payment")}
    tokens = {body["SecretID"]: body["Policies"] for _, method, path, body in requests if path == "/v1/acl/token"}
    assert tokens == {
        SECRETS.consul[OPERATOR]: [{"ID": access.GLOBAL_MANAGEMENT}],
        **{SECRETS.consul[holder]: [{"Name": f"autosalon-{holder}"}]
           for holder in (CONSUL_AGENT, EDGE_SYNC, "sales", "payment")},
    }
    assert {method for _, method, _, _ in requests} == {"PUT"}


def test_a_service_policy_writes_only_its_own_service():
    assert 'service "sales" { policy = "write" }' in access.consul_rules("sales")
    assert '"write"' not in access.consul_rules("sales").replace('service "sales" { policy = "write" }', "")


def test_once_consul_holds_everything_no_call_is_made():
    assert access.consul_requests(SECRETS, _policies_as_consul_holds_them(), set(SECRETS.consul.values())) == []


def test_a_policy_whose_rules_differ_is_updated_in_place_and_a_missing_token_made():
    policies = _policies_as_consul_holds_them()
    policies["autosalon-sales"] = {**policies["autosalon-sales"], "Rules": 'service_prefix "" { policy = "write" }'}
    token_secrets = set(SECRETS.consul.values()) - {SECRETS.consul["payment"]}
    requests = access.consul_requests(SECRETS, policies, token_secrets)
    assert [(method, path) for _, method, path, _ in requests] == [
        ("PUT", "/v1/acl/policy/id-sales"), ("PUT", "/v1/acl/token")]
    assert requests[0][3]["Rules"] == access.consul_rules("sales")
    assert requests[1][3]["SecretID"] == SECRETS.consul["payment"]
