"""python -m scripts.mesh up|down|status|prepare (called by ./scripts/up, down, status, test)."""
import argparse
import hashlib
import pathlib
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from services.kit import credentials, migrations
from services.kit.credentials import OPERATOR, SUPERUSER, Credentials
from services.kit.manifest import hook
from services.kit.settings import REPO_ROOT, Settings, described

from . import access, postgres, probes, supervisor, tools
from .layout import (
    EDGE_PORT, ENVOY_ADMIN_PORT, LOGS, NODES, NODES_FILE, RUN, BANK_ADDR, EMULATORS, GATEWAY_ADDR, INSURER_ADDR,
    MAIL_HTTP_ADDR, MAIL_SMTP_ADDR, PUSH_ADDR, SERVICES, SETTINGS, SMS_ADDR, STREAM_REPLICAS, VENV_BIN, consul_agents,
    instances, nats_servers, nodes_conflict,
)
from .tools import step


def prepare() -> Credentials:
    """Everything short of starting processes: tools, generated code, keys and credentials,
    the database cluster, the configurations."""
    tools.ensure_consul()
    tools.ensure_mailpit()
    tools.ensure_openapi_plugin()
    tools.ensure_swagger_ui()
    tools.generate_code()
    tools.ensure_keys()
    secrets = access.ensure()
    postgres.ensure_cluster(secrets.postgres[SUPERUSER])
    _render_edge()
    return secrets


def _render_edge() -> None:
    RUN.mkdir(parents=True, exist_ok=True)
    step("envoy: rendering the edge config from the descriptor set")
    tools.run(
        [VENV_BIN / "python", "-m", "services.edge.render",
         "--descriptors", tools.DESCRIPTORS, "--settings", REPO_ROOT / "envoy" / "edge.yaml",
         "--run-dir", RUN, "--swagger-ui", tools.SWAGGER_UI],
        stdout=subprocess.DEVNULL,
    )


def up() -> None:
    started = time.monotonic()
    conflict = nodes_conflict()
    if conflict:
        sys.exit(conflict)
    secrets = prepare()
    NODES_FILE.write_text(f"{NODES}\n")
    access.write_consul_config(secrets)
    access.repair_consul_data()
    reconfigured = access.write_nats_config(secrets)
    supervisor.render(tools.CONSUL_BINARY, tools.MAILPIT_BINARY, secrets)
    step("supervisord: starting postgres, consul, nats" + (f" ({NODES} nodes)" if NODES > 1 else ""))
    supervisor.start()
    # A program given up on (FATAL: a port taken, say) is tried again.
    _in_parallel("start", [*supervisor.INFRASTRUCTURE, *(agent.program for agent in consul_agents()),
                           *(server.program for server in nats_servers())])
    for program in reconfigured:
        supervisor.ctl("signal", "HUP", program, check=False)
    _wait_for_jetstream()
    postgres.wait_ready(secrets.postgres[SUPERUSER])
    access.apply(secrets, secrets)
    access.use_agent_token(secrets, secrets.consul[OPERATOR])
    access.delete_stale_tokens(secrets, secrets)
    # The transcoder reads the descriptor set once, at start, and the direct responses their
    # files (the OpenAPI document, the docs page): a change of any is a new config too.
    envoy_dir = RUN / "envoy"
    edge_stamp, edge = envoy_dir / "running-config", _digest(
        envoy_dir / "envoy.yaml", envoy_dir / "descriptors.binpb", envoy_dir / "openapi.json",
        *sorted((envoy_dir / "docs").iterdir()))
    if not edge_stamp.exists() or edge_stamp.read_text() != edge:
        # Hot restart is off (several Envoys may share a machine): a new config means a
        # restart, of the endpoint sync too, which follows the config's clusters.
        supervisor.ctl("stop", "envoy", "edge-sync", check=False)
        edge_stamp.write_text(edge)
    code_stamp, code = RUN / "running-code", tools.code_fingerprint()
    if not code_stamp.exists() or code_stamp.read_text() != code:
        # Programs still running older code stop (the services before their migrations run).
        supervisor.ctl("stop", "edge-sync", *EMULATORS, *(f"{service}:*" for service in SERVICES), check=False)
        code_stamp.write_text(code)
    _migrate_and_seed()
    _start_programs()
    _wait_healthy()
    probes.wait("the payment gateway emulator", lambda: probes.listening(GATEWAY_ADDR))
    probes.wait("the bank emulator", lambda: probes.listening(BANK_ADDR))
    probes.wait("the insurer emulator", lambda: probes.listening(INSURER_ADDR))
    probes.wait("the SMS provider emulator", lambda: probes.listening(SMS_ADDR))
    probes.wait("the push provider emulator", lambda: probes.listening(PUSH_ADDR))
    probes.wait("the mail server", lambda: probes.listening(MAIL_SMTP_ADDR))
    _demo_data()
    elapsed = time.monotonic() - started
    _print_addresses(elapsed)


def _wait_for_jetstream() -> None:
    for server in nats_servers():
        probes.wait(f"{server.program}'s JetStream",
                    lambda: probes.get(f"http://127.0.0.1:{server.monitor_port}/healthz"))


def _digest(*paths: pathlib.Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _start_programs() -> None:
    """The edge, the emulators and the services, those not running yet."""
    step("supervisord: starting the edge and the services")
    # One supervisorctl per program, all at once: a single `start a b c` waits out each
    # program's startsecs in turn, which made a warm start a dozen seconds longer.
    _in_parallel("start", ["edge-sync", "envoy", *EMULATORS, *(f"{service}:*" for service in SERVICES)])


def _in_parallel(action: str, programs: list[str]) -> None:
    """`supervisorctl <action>` of each program at once."""
    with ThreadPoolExecutor(len(programs)) as pool:
        results = list(pool.map(lambda program: supervisor.ctl(action, program, check=False), programs))
    failed = [result.stdout for result in results if result.returncode != 0]
    if failed:
        sys.exit(f"some programs did not {action}:\n{''.join(failed)}logs are in {LOGS}")


def _wait_healthy() -> None:
    for service in SERVICES:
        want = instances(service)
        step(f"{service}: waiting for {want} healthy instance(s) in Consul and at the edge")
        probes.wait(f"{service} in consul", lambda: probes.passing(service) >= want)
        probes.wait(f"{service} at the edge", lambda: probes.edge_endpoints(service) >= want)
    probes.wait("the edge", lambda: probes.get(f"http://127.0.0.1:{EDGE_PORT}/health"))


def rotate() -> None:
    """New secrets for every role, user and token, applied to the running infrastructure with
    the old ones; then every service restarts with its own. The old file is kept as
    credentials.json.previous until all is applied."""
    if not supervisor.running():
        sys.exit("the mesh is not running: ./scripts/up first (rotation applies the new secrets to it)")
    conflict = nodes_conflict()
    if conflict:
        sys.exit(conflict)
    path = SETTINGS.credentials_path
    old, new = access.ensure(), Credentials.generated(list(SERVICES))
    previous = path.with_name(path.name + ".previous")
    credentials.write(previous, old)
    credentials.write(path, new)
    access.apply(new, old)
    access.use_agent_token(new, old.consul[OPERATOR])
    access.write_consul_config(new)
    # A NATS user has one password, so the services stop (leaving Consul and NATS with their
    # old secrets, still valid) before NATS takes the new ones, and start again with theirs.
    step("supervisord: stopping the services and the edge's sync")
    _in_parallel("stop", ["edge-sync", *(f"{service}:*" for service in SERVICES)])
    step("nats: new users, reloaded")
    for program in access.write_nats_config(new):
        supervisor.ctl("signal", "HUP", program)
    # A cluster's routes sign in with the operator's new password too: the services start once
    # every server is back in the cluster.
    _wait_for_jetstream()
    supervisor.render(tools.CONSUL_BINARY, tools.MAILPIT_BINARY, new)
    supervisor.start()
    _start_programs()
    _wait_healthy()
    step("consul: deleting the old tokens")
    access.delete_stale_tokens(new, old)
    previous.unlink()
    step(f"credentials: rotated ({path})")


def _migrate_and_seed() -> None:
    """Each service's migrations (as its role, with the operator's credentials file: the role
    then owns what they make), then its seed (the initial admin, the demo showroom)."""
    for service in SERVICES:
        step(f"{service}: migrations")
        migrations.upgrade(service, SETTINGS.database_url(service))
    for name, service in SERVICES.items():
        if service.seed:
            step(f"{name}: {hook(service.seed)(SETTINGS)}")


def _demo_data() -> None:
    """What the services load through the running mesh (the demo stock)."""
    for name, service in SERVICES.items():
        if service.demo:
            step(f"{name}: {hook(service.demo)(SETTINGS, f'127.0.0.1:{EDGE_PORT}')}")


def print_settings() -> None:
    """Every setting of the mesh and its services, as the README's Configuration table."""
    print(settings_table(), end="")


def settings_table() -> str:
    """The Markdown table of every setting: the mesh's, then each service's own."""
    sections = [("mesh", Settings)] + [(name, service.settings) for name, service in SERVICES.items()
                                       if service.settings is not None]
    lines = ["| variable | default | what it sets |", "|---|---|---|"]
    for who, settings_class in sections:
        for variable, default, meaning in described(settings_class):
            lines.append(f"| `{variable}` | {f'`{default}`' if default else '(empty)'} | {who}: {meaning} |")
    return "\n".join(lines) + "\n"


def bootstrap() -> None:
    """For containers (compose.yaml, deploy/kubernetes): keys and the edge's config; then, with
    the operator's credentials file in the run folder, what ./scripts/up gives each service
    (access.apply) at the servers the settings name, and each database migrated as its own
    role; without the file, the databases made and migrated as the role the settings name.
    Run again, it changes nothing that holds already."""
    tools.ensure_keys()
    _render_edge()
    secrets = credentials.read(SETTINGS.credentials_path)
    if secrets is None:
        postgres.create_missing_databases(list(SERVICES))
    else:
        missing = [service for service in SERVICES if service not in secrets.postgres]
        if missing:
            sys.exit(f"{SETTINGS.credentials_path} has no secrets for {', '.join(missing)}: make them where "
                     "the file comes from (for a cluster, `python -m scripts.kubernetes secrets` adds them)")
        if SETTINGS.pg_user:
            # The migrations would run as that role, which would own the tables, not the service's.
            sys.exit("AUTOSALON_PG_USER is set: with a credentials file leave it unset, the bootstrap "
                     "acts as each service's role and as the file's superuser")
        access.apply(secrets, secrets)
    _migrate_and_seed()


def _print_addresses(elapsed: float) -> None:
    print(
        f"""
Autosalon is up (healthy in {elapsed:.1f} s).
  edge, REST and native gRPC   http://127.0.0.1:{EDGE_PORT}   (GET /health)
  envoy admin                  http://127.0.0.1:{ENVOY_ADMIN_PORT}
  consul                       {_consul_addresses()}
  nats (jetstream)             {_nats_addresses()}
  postgresql                   127.0.0.1:{SETTINGS.pg_port}  a role a service, superuser {SUPERUSER}
  credentials                  {SETTINGS.credentials_path}  (python -m scripts.mesh rotate)
  services                     ports as registered in Consul: ./scripts/status
  payment gateway (emulator)   {GATEWAY_ADDR}
  bank (emulator)              {BANK_ADDR}
  insurer (emulator)           {INSURER_ADDR}
  sms provider (emulator)      {SMS_ADDR}
  push provider (emulator)     {PUSH_ADDR}
  mail (mailpit)               smtp {MAIL_SMTP_ADDR}, web and API http://{MAIL_HTTP_ADDR}
  logs                         {LOGS}
""",
        flush=True,
    )


def _consul_addresses() -> str:
    agents = consul_agents()
    if len(agents) == 1:
        return f"http://{agents[0].address}"
    servers = ", ".join(str(agent.http_port) for agent in agents if agent.server)
    nodes = ", ".join(f"http://{agent.address}" for agent in agents if not agent.server)
    return f"{nodes} (each node's agent; servers on :{servers})"


def _nats_addresses() -> str:
    return ", ".join(f"{server.url} (monitor :{server.monitor_port})" for server in nats_servers()) + (
        f", one JetStream cluster, streams on {STREAM_REPLICAS} servers" if NODES > 1 else "")


def down(purge: bool) -> None:
    step("stopping the mesh")
    supervisor.stop()
    if purge:
        step("deleting the mesh's data")
        postgres.drop_cluster()
        shutil.rmtree(RUN, ignore_errors=True)


def status() -> int:
    if not supervisor.running():
        print("the mesh is not running (./scripts/up starts it)")
        return 3
    print(supervisor.ctl("status", check=False).stdout)
    for service in SERVICES:
        try:
            checks = access.consul("GET", f"/v1/health/checks/{service}", SETTINGS.consul_acl_token, timeout=2)
        except OSError as error:
            print(f"consul: unreachable ({error})")
            return 1
        for check in checks:
            print(f"consul  {service:<14} {check['ServiceID']:<40} {check['Status']}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts.mesh")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up")
    prepare_parser = commands.add_parser("prepare")
    prepare_parser.add_argument("--test-browser", action="store_true",
                                help="also the browser the docs page's tests drive (./scripts/test)")
    commands.add_parser("status")
    commands.add_parser("generate")
    commands.add_parser("bootstrap")
    commands.add_parser("settings")
    commands.add_parser("rotate")
    down_parser = commands.add_parser("down")
    down_parser.add_argument("--purge", action="store_true", help="also delete databases and state")
    args = parser.parse_args()
    if args.command == "up":
        up()
    elif args.command == "prepare":
        if args.test_browser:
            tools.ensure_test_browser()
        prepare()
    elif args.command == "generate":
        tools.ensure_openapi_plugin()
        tools.generate_code()
    elif args.command == "bootstrap":
        bootstrap()
    elif args.command == "settings":
        print_settings()
    elif args.command == "rotate":
        rotate()
    elif args.command == "down":
        down(args.purge)
    else:
        return status()
    return 0


if __name__ == "__main__":
    sys.exit(main())
