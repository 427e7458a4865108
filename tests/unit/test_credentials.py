"""The credentials file and who acts with which line of it (kit.credentials, scripts.mesh.access)."""
import configparser
import os

from scripts.mesh import access, layout, supervisor
from services.kit import credentials
from services.kit.credentials import Credentials
from services.kit.settings import load

SERVICES = list(layout.SERVICES)


def test_the_operator_opens_a_service_database_as_its_role_and_any_other_as_the_superuser(tmp_path):
    secrets = Credentials.generated(SERVICES)
    credentials.write(credentials.path_in(tmp_path), secrets)
    operator = load(environ={"AUTOSALON_RUN_DIR": str(tmp_path)})
    assert operator.pg_login("sales") == ("sales", secrets.postgres["sales"])
    assert operator.pg_login("postgres") == (credentials.SUPERUSER, secrets.postgres[credentials.SUPERUSER])
    assert operator.nats_login == (credentials.OPERATOR, secrets.nats[credentials.OPERATOR])
    assert operator.consul_acl_token == secrets.consul[credentials.OPERATOR]
    assert f"sales:{secrets.postgres['sales']}@" in operator.database_url("sales")


def test_a_process_given_its_own_credentials_uses_them_whatever_the_file_says(tmp_path):
    credentials.write(credentials.path_in(tmp_path), Credentials.generated(SERVICES))
    service = load(environ={"AUTOSALON_RUN_DIR": str(tmp_path), "AUTOSALON_PG_USER": "sales",
                            "AUTOSALON_PG_PASSWORD": "p@ss:word/1", "AUTOSALON_NATS_USER": "sales",
                            "AUTOSALON_NATS_PASSWORD": "n", "AUTOSALON_CONSUL_TOKEN": "t"})
    assert service.pg_login("postgres") == ("sales", "p@ss:word/1")
    assert "sales:p%40ss%3Aword%2F1@" in service.database_url("sales")
    assert (service.nats_login, service.consul_acl_token) == (("sales", "n"), "t")


def test_secrets_stay_out_of_the_settings_repr():
    shown = repr(load(environ={"AUTOSALON_PG_PASSWORD": "hunter2-pg", "AUTOSALON_NATS_PASSWORD": "hunter2-nats",
                               "AUTOSALON_CONSUL_TOKEN": "hunter2-consul", "AUTOSALON_ADMIN_PASSWORD": "hunter2-admin"}))
    assert "hunter2" not in shown


def test_the_file_is_private_and_a_new_service_gets_secrets_without_changing_the_others(tmp_path):
    path = credentials.path_in(tmp_path)
    first = Credentials.generated(["sales"])
    credentials.write(path, first)
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(path.parent.stat().st_mode & 0o777) == "0o700"
    more = credentials.read(path).with_services(["sales", "financing"])
    assert more.postgres["sales"] == first.postgres["sales"] and more.consul["sales"] == first.consul["sales"]
    assert more.nats["financing"] and more.consul["financing"] not in first.consul.values()
    assert more.consul[credentials.OPERATOR] == first.consul[credentials.OPERATOR]
    assert credentials.read(tmp_path / "missing.json") is None


def test_each_service_program_holds_its_own_credentials_and_no_one_elses(monkeypatch):
    for name in [name for name in os.environ if name.startswith("AUTOSALON_")]:
        monkeypatch.delenv(name)
    secrets = Credentials.generated(SERVICES)
    sections = configparser.ConfigParser(interpolation=None)
    sections.read_string(supervisor.config("/opt/consul", "/opt/mailpit", secrets))
    for service in SERVICES:
        environment = sections[f"program:{service}-0"]["environment"]
        assert f'AUTOSALON_PG_USER="{service}"' in environment
        assert f'AUTOSALON_NATS_PASSWORD="{secrets.nats[service]}"' in environment
        assert f'AUTOSALON_CONSUL_TOKEN="{secrets.consul[service]}"' in environment
        others = [kind[other] for kind in (secrets.postgres, secrets.nats, secrets.consul)
                  for other in kind if other != service]
        assert not [secret for secret in others if secret in environment]
    assert f'AUTOSALON_CONSUL_TOKEN="{secrets.consul[credentials.EDGE_SYNC]}"' in sections["program:edge-sync"]["environment"]
    every_secret = [secret for kind in (secrets.postgres, secrets.nats, secrets.consul) for secret in kind.values()]
    for program in ("postgres", "consul", "nats", "envoy", "payment-gateway"):
        assert not [secret for secret in every_secret if secret in str(dict(sections[f"program:{program}"]))]


def test_a_nats_user_publishes_only_its_own_events_and_creates_only_its_own_stream():
    allowed = access.nats_permissions("sales")["publish"]["allow"]
    assert [subject for subject in allowed if subject.startswith("autosalon.")] == ["autosalon.sales.>"]
    streams = [subject for subject in allowed if subject.startswith("$JS.API.STREAM.")
               and not subject.startswith("$JS.API.STREAM.INFO.")]
    assert streams == ["$JS.API.STREAM.CREATE.AUTOSALON_SALES", "$JS.API.STREAM.UPDATE.AUTOSALON_SALES"]
    assert access.nats_permissions("sales")["subscribe"]["allow"] == ["autosalon.>", "_INBOX.sales.>"]


def test_a_consul_token_writes_its_own_service_only():
    rules = access.consul_rules("sales")
    assert 'service "sales" { policy = "write" }' in rules
    assert rules.count('"write"') == 1
    assert '"write"' not in access.consul_rules(credentials.EDGE_SYNC)
