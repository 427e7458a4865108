"""supervisord's config: a changed setting restarts only the programs that read it."""
import configparser
import json
import os
import pathlib
import subprocess
import sys
from decimal import Decimal

import pytest

from scripts.mesh import access, layout, supervisor
from services.kit import settings
from services.kit.credentials import Credentials
from services.kit.settings import REPO_ROOT


def _sections(monkeypatch, **variables) -> configparser.ConfigParser:
    for name in [name for name in os.environ if name.startswith("AUTOSALON_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(supervisor.config("/opt/consul", "/opt/mailpit", Credentials.generated(list(layout.SERVICES))))
    return parser


def test_settings_reach_the_python_programs_only(monkeypatch):
    sections = _sections(monkeypatch, AUTOSALON_EVENT_RETENTION_DAYS="7",
                         AUTOSALON_EDGE_STRICT_REQUESTS="300")
    assert 'AUTOSALON_EVENT_RETENTION_DAYS="7"' in sections["program:sales-0"]["environment"]
    assert 'AUTOSALON_EVENT_RETENTION_DAYS="7"' in sections["program:edge-sync"]["environment"]
    assert 'AUTOSALON_EVENT_RETENTION_DAYS="7"' in sections["program:payment-gateway"]["environment"]
    for program in ("postgres", "consul", "nats", "envoy"):
        assert "environment" not in sections[f"program:{program}"]
    # The edge's settings are baked into Envoy's config by ./scripts/up, not read by a program.
    assert all("AUTOSALON_EDGE_" not in section.get("environment", "")
               for section in sections.values())


def test_the_shared_environment_does_not_depend_on_the_caller(monkeypatch):
    first = _sections(monkeypatch)["supervisord"]["environment"]
    monkeypatch.setenv("PATH", "/somewhere/else:/usr/bin")
    second = _sections(monkeypatch, AUTOSALON_EDGE_STRICT_REQUESTS="300")["supervisord"]["environment"]
    assert first == second
    assert "PATH" not in first


def _layout_in(run_dir: str) -> dict:
    """Where a mesh kept in `run_dir` puts its state, as a fresh process reads it."""
    probe = "import json; from scripts.mesh import layout as l; print(json.dumps({'pg': str(l.PG_DATA), 'logs': str(l.LOGS)}))"
    environment = {**os.environ, "AUTOSALON_RUN_DIR": run_dir}
    return json.loads(subprocess.run([sys.executable, "-c", probe], env=environment, cwd=REPO_ROOT,
                                     check=True, capture_output=True, text=True).stdout)


def test_each_run_directory_has_its_own_databases_and_logs(tmp_path):
    """./scripts/test's mesh (.run-test) never writes into a developer's (.run)."""
    own, tests = _layout_in(str(tmp_path / ".run")), _layout_in(str(tmp_path / ".run-test"))
    assert own["pg"] != tests["pg"] and own["logs"] != tests["logs"]
    assert _layout_in(str(tmp_path / ".run")) == own


def test_services_reach_postgres_through_its_unix_socket(monkeypatch):
    """Cheaper than loopback TCP on both sides; the socket lives with the cluster."""
    sections = _sections(monkeypatch)
    folder = layout.socket_folder(layout.PG_HOME, layout.SETTINGS.pg_port)
    assert f'AUTOSALON_PG_SOCKET_DIR="{folder}"' in sections["supervisord"]["environment"]
    assert f"unix_socket_directories={folder}" in sections["program:postgres"]["command"]


def test_a_socket_path_past_the_kernels_limit_leaves_the_services_on_tcp():
    assert layout.socket_folder(pathlib.Path("/var/lib/autosalon/0123456789ab"), 55432) == "/var/lib/autosalon/0123456789ab"
    deep = pathlib.Path("/home/someone/" + "projects/" * 10 + "autosalon/.run/postgres")
    assert layout.socket_folder(deep, 55432) == ""


def test_the_database_url_names_the_socket_folder_when_one_is_set(monkeypatch):
    monkeypatch.setenv("AUTOSALON_PG_SOCKET_DIR", "/var/lib/pg")
    monkeypatch.setenv("AUTOSALON_PG_PORT", "6543")
    assert settings.load().database_url("sales").endswith("@/sales?host=/var/lib/pg&port=6543")
    monkeypatch.delenv("AUTOSALON_PG_SOCKET_DIR")
    monkeypatch.setenv("AUTOSALON_PG_HOST", "db.local")
    assert settings.load().database_url("sales").endswith("@db.local:6543/sales")


def test_every_program_and_the_image_run_grpc_on_its_classic_poller(monkeypatch):
    shared = _sections(monkeypatch)["supervisord"]["environment"]
    assert f'GRPC_EXPERIMENTS="{supervisor.GRPC_EXPERIMENTS}"' in shared
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert f"ENV GRPC_EXPERIMENTS={supervisor.GRPC_EXPERIMENTS}\n" in dockerfile


def test_grpc_knows_every_experiment_the_mesh_turns_off():
    """An upgraded grpcio that dropped one would ignore it, with only a line on stderr."""
    serve_once = ("import asyncio, grpc\n"
                  "async def main():\n"
                  "    server = grpc.aio.server(); server.add_insecure_port('127.0.0.1:0')\n"
                  "    await server.start(); await server.stop(None)\n"
                  "asyncio.run(main())\n")
    environment = {**os.environ, "GRPC_EXPERIMENTS": supervisor.GRPC_EXPERIMENTS}
    ran = subprocess.run([sys.executable, "-c", serve_once], env=environment, capture_output=True, text=True,
                         timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "Unknown experiment" not in ran.stderr
    bogus = subprocess.run([sys.executable, "-c", serve_once], env={**environment, "GRPC_EXPERIMENTS": "-no_such_one"},
                           capture_output=True, text=True, timeout=60)
    assert "Unknown experiment" in bogus.stderr, "the check above would not notice a dropped experiment"


def test_the_readmes_configuration_table_is_the_generated_one():
    from scripts.mesh.__main__ import settings_table
    readme = (REPO_ROOT / "README.md").read_text()
    shown = readme.split("<!-- settings table: generated -->\n")[1].split("<!-- end of settings table -->")[0]
    assert shown == settings_table(), "run `python -m scripts.mesh settings` and paste its table into README.md"


@pytest.mark.parametrize("value, problem", [("soon", "is not a valid int"), ("10", "must be at least 60")])
def test_a_bad_setting_is_refused_naming_its_variable(value, problem):
    from services.inventory import InventorySettings
    with pytest.raises(settings.BadSetting) as refused:
        settings.load(InventorySettings, {"AUTOSALON_SAGA_HOLD_SECONDS": value})
    assert "AUTOSALON_SAGA_HOLD_SECONDS" in str(refused.value) and problem in str(refused.value)


def test_settings_take_their_defaults_and_the_environment_typed():
    from services.payment import PaymentSettings
    loaded = settings.load(PaymentSettings, {"AUTOSALON_PAYMENT_QUEUE_SECONDS": "0.5", "AUTOSALON_GATEWAY_ADDR": ""})
    assert loaded.queue_seconds == 0.5 and loaded.gateway_addr == "127.0.0.1:7101"
    assert settings.load(environ={"AUTOSALON_RUN_DIR": "/srv/mesh"}).jwks_path == pathlib.Path("/srv/mesh/keys/jwks.json")


@pytest.mark.parametrize("variable, value, problem", [
    ("AUTOSALON_FINANCING_BASE_RATE", "twelve", "is not a valid Decimal"),
    ("AUTOSALON_FINANCING_BASE_RATE", "101", "must be between 0 and 100"),
    ("AUTOSALON_FINANCING_INTEREST_BASIS", "weekly", "must be one of monthly, actual_days"),
])
def test_decimal_and_choice_settings_are_checked(variable, value, problem):
    from services.financing import FinancingSettings
    with pytest.raises(settings.BadSetting) as refused:
        settings.load(FinancingSettings, {variable: value})
    assert variable in str(refused.value) and problem in str(refused.value)
    loaded = settings.load(FinancingSettings, {"AUTOSALON_FINANCING_BASE_RATE": "9.9",
                                               "AUTOSALON_FINANCING_INTEREST_BASIS": "actual_days"})
    assert loaded.base_rate == Decimal("9.9") and loaded.interest_basis == "actual_days"


def test_an_empty_consul_server_metadata_file_is_removed_and_a_written_one_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(access, "CONSUL_DIR", tmp_path)
    metadata = tmp_path / "data" / "server_metadata.json"
    metadata.parent.mkdir()
    metadata.write_text('{"last_seen_unix":1}')
    access.repair_consul_data()
    assert metadata.exists()
    metadata.write_text("")
    access.repair_consul_data()
    assert not metadata.exists()
    access.repair_consul_data()
