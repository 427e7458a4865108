"""python -m scripts.mesh up|down|status|prepare (called by ./scripts/up, down, status, test)."""
import argparse
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from services.kit import migrations
from services.kit.manifest import hook
from services.kit.settings import REPO_ROOT, Settings, described

from . import postgres, supervisor, tools
from .layout import (
    CONSUL_HTTP_PORT, EDGE_PORT, ENVOY_ADMIN_PORT, LOGS, NATS_MONITOR_PORT, NATS_PORT, RUN,
    EMULATORS, GATEWAY_ADDR, SERVICES, SETTINGS, VENV_BIN, databases, instances,
)
from .tools import step


def prepare() -> None:
    """Everything short of starting processes: tools, generated code, keys, database cluster."""
    tools.ensure_consul()
    tools.generate_code()
    tools.ensure_keys()
    postgres.ensure_cluster()
    _render_edge()


def _render_edge() -> None:
    RUN.mkdir(parents=True, exist_ok=True)
    step("envoy: rendering the edge config from the descriptor set")
    tools.run(
        [VENV_BIN / "python", "-m", "services.edge.render",
         "--descriptors", tools.DESCRIPTORS, "--settings", REPO_ROOT / "envoy" / "edge.yaml",
         "--run-dir", RUN],
        stdout=subprocess.DEVNULL,
    )


def _get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _wait(what: str, ready, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}; logs are in {LOGS}")
        time.sleep(0.1)


def _passing(service: str) -> int:
    body = _get(f"http://127.0.0.1:{CONSUL_HTTP_PORT}/v1/health/service/{service}?passing=true")
    return len(json.loads(body))


def _listening(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=1):
        return True


def _edge_endpoints(service: str) -> int:
    clusters = _get(f"http://127.0.0.1:{ENVOY_ADMIN_PORT}/clusters").decode()
    return sum(
        1 for line in clusters.splitlines()
        if line.startswith(f"{service}::") and line.endswith("::health_flags::healthy")
    )


def up() -> None:
    started = time.monotonic()
    prepare()
    supervisor.render(tools.CONSUL_BINARY)
    step("supervisord: starting postgres, consul, nats")
    supervisor.start()
    edge_config = RUN / "envoy" / "envoy.yaml"
    running_config = RUN / "envoy" / "running.yaml"
    if not running_config.exists() or running_config.read_bytes() != edge_config.read_bytes():
        # Hot restart is off (several Envoys may share a machine): a new config means a
        # restart, of the endpoint sync too, which follows the config's clusters.
        supervisor.ctl("stop", "envoy", "edge-sync", check=False)
        shutil.copyfile(edge_config, running_config)
    code_stamp, code = RUN / "running-code", tools.code_fingerprint()
    if not code_stamp.exists() or code_stamp.read_text() != code:
        # Programs still running older code stop (the services before their migrations run).
        supervisor.ctl("stop", "edge-sync", *EMULATORS, *(f"{service}:*" for service in SERVICES), check=False)
        code_stamp.write_text(code)
    _databases()
    step("supervisord: starting the edge and the services")
    # One supervisorctl per program, all at once: a single `start a b c` waits out each
    # program's startsecs in turn, which made a warm start a dozen seconds longer.
    programs = ["edge-sync", "envoy", *EMULATORS, *(f"{service}:*" for service in SERVICES)]
    with ThreadPoolExecutor(len(programs)) as pool:
        results = list(pool.map(lambda program: supervisor.ctl("start", program, check=False), programs))
    failed = [result.stdout for result in results if result.returncode != 0]
    if failed:
        sys.exit(f"some programs did not start:\n{''.join(failed)}logs are in {LOGS}")
    _wait("consul", lambda: _get(f"http://127.0.0.1:{CONSUL_HTTP_PORT}/v1/status/leader"))
    for service in SERVICES:
        want = instances(service)
        step(f"{service}: waiting for {want} healthy instance(s) in Consul and at the edge")
        _wait(f"{service} in consul", lambda: _passing(service) >= want)
        _wait(f"{service} at the edge", lambda: _edge_endpoints(service) >= want)
    _wait("the edge", lambda: _get(f"http://127.0.0.1:{EDGE_PORT}/health"))
    _wait("the payment gateway emulator", lambda: _listening(GATEWAY_ADDR))
    _demo_data()
    elapsed = time.monotonic() - started
    _print_addresses(elapsed)


def _databases() -> None:
    """One database a service, its migrations, then its seed (the initial admin, the demo showroom)."""
    postgres.wait_ready()
    postgres.ensure_databases(databases())
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
    """For containers (compose.yaml): keys, edge config and databases on external servers."""
    tools.ensure_keys()
    _render_edge()
    _databases()


def _print_addresses(elapsed: float) -> None:
    print(
        f"""
Autosalon is up (healthy in {elapsed:.1f} s).
  edge, REST and native gRPC   http://127.0.0.1:{EDGE_PORT}   (GET /health)
  envoy admin                  http://127.0.0.1:{ENVOY_ADMIN_PORT}
  consul                       http://127.0.0.1:{CONSUL_HTTP_PORT}
  nats (jetstream)             nats://127.0.0.1:{NATS_PORT}  (monitor :{NATS_MONITOR_PORT})
  postgresql                   127.0.0.1:{SETTINGS.pg_port}  user {SETTINGS.pg_user}
  services                     ports as registered in Consul: ./scripts/status
  payment gateway (emulator)   {GATEWAY_ADDR}
  logs                         {LOGS}
""",
        flush=True,
    )


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
            checks = json.loads(
                _get(f"http://127.0.0.1:{CONSUL_HTTP_PORT}/v1/health/checks/{service}")
            )
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
    commands.add_parser("prepare")
    commands.add_parser("status")
    commands.add_parser("generate")
    commands.add_parser("bootstrap")
    commands.add_parser("settings")
    down_parser = commands.add_parser("down")
    down_parser.add_argument("--purge", action="store_true", help="also delete databases and state")
    args = parser.parse_args()
    if args.command == "up":
        up()
    elif args.command == "prepare":
        prepare()
    elif args.command == "generate":
        tools.generate_code()
    elif args.command == "bootstrap":
        bootstrap()
    elif args.command == "settings":
        print_settings()
    elif args.command == "down":
        down(args.purge)
    else:
        return status()
    return 0


if __name__ == "__main__":
    sys.exit(main())
