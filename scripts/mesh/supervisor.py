"""supervisord: one config for the whole mesh, rendered from the layout."""
import os
import subprocess
import sys
import time

from services.kit import cores as kit_cores
from services.kit.settings import REPO_ROOT

from services.kit import credentials
from services.kit.credentials import EDGE_SYNC, Credentials

from . import access, cores, postgres
from .layout import (
    CLUSTER, EMULATORS, ENVOY_ADMIN_PORT, LOGS, MAIL_HTTP_ADDR, MAIL_SMTP_ADDR, PG_SOCKET_DIR, PG_SYSTEM_USER, RUN,
    RUNNING_AS_ROOT, SERVICES, STREAM_REPLICAS, VENV_BIN, consul_agents, instances, nats_servers, node_of,
)

CONF = RUN / "supervisord.conf"
SOCKET = RUN / "supervisor.sock"

# Besides Consul's agents and the NATS servers (layout.consul_agents, nats_servers).
INFRASTRUCTURE = ("postgres", "mail")
EDGE = ("edge-sync", "envoy")
# Envoy 1.40's disk cache warns "InsertContext destroyed prematurely" on every entry it stores,
# stored entries included (the e2e cache tests read them back); only its errors are logged.
ENVOY_QUIET = ("--component-log-level", "cache_filter:error")


def _program(
    name: str, command: list, priority: int, autostart: bool, extra: str = "",
    log_name: str = "%(program_name)s",
) -> str:
    return f"""
[program:{name}]
command={" ".join(str(part) for part in command)}
priority={priority}
autostart={str(autostart).lower()}
autorestart=true
startsecs=1
stopwaitsecs=20
redirect_stderr=true
stdout_logfile={LOGS}/{log_name}.log
stdout_logfile_maxbytes=20MB
stdout_logfile_backups=2
{extra}"""


# gRPC's EventEngine (grpcio's default since 1.80) passes every call between its own I/O
# threads and the thread that hands completions to Python's event loop. Measured on GET
# /auth/me, three alternating pairs: auth spent 236-252 µs of CPU per request with it and
# 193-211 µs with gRPC's classic poller, serving a tenth more requests. Set for every
# program (the Dockerfile sets the same); worth measuring again whenever grpcio is upgraded.
GRPC_EXPERIMENTS = ("-event_engine_listener,-event_engine_client,-event_engine_for_all_other_endpoints,"
                    "-event_engine_callback_cq")

# Read only by the process running ./scripts/up: Envoy's config, the number of nodes.
_MESH_ONLY_SETTINGS = ("AUTOSALON_EDGE_", "AUTOSALON_ENVOY_", "AUTOSALON_CLUSTER_")


def _environment(variables: dict) -> str:
    return ",".join(f'{key}="{value}"' for key, value in variables.items())


def _settings_environment(own: dict | None = None) -> str:
    """The caller's AUTOSALON_* settings, for the Python programs only, with the program's `own`.

    supervisord's `update` restarts every program whose environment changed: settings given to
    all programs made a test run's edge limits restart PostgreSQL, NATS and Consul under the
    services. Programs inherit PATH from whoever started supervisord, for the same reason.
    """
    settings = {
        key: value for key, value in sorted(os.environ.items())
        if key.startswith("AUTOSALON_") and not key.startswith(_MESH_ONLY_SETTINGS)
    }
    settings.update(own or {})
    return f"environment={_environment(settings)}\n" if settings else ""


def _own_settings(service: str) -> dict:
    """What a service must know of the mesh that its own settings do not say."""
    if service == "monitoring":
        return {"AUTOSALON_MONITORING_ENVOY_ADMIN_URL": f"http://127.0.0.1:{ENVOY_ADMIN_PORT}"}
    return {}


def _core_environment(cores: list[int] | None, instance: int) -> dict:
    """Which core the instance runs on, given its service's (cores.placement)."""
    return {kit_cores.CORE: str(cores[instance])} if cores else {}


def _node_environment(node: int) -> dict:
    """In a cluster, the node's Consul agent and NATS server (the others after it, to fail over
    to), and streams kept on three servers."""
    if not CLUSTER:
        return {}
    servers = nats_servers()
    nearest_first = servers[node - 1:] + servers[:node - 1]
    agent = next(agent for agent in consul_agents() if not agent.server and agent.node == node)
    return {"AUTOSALON_CONSUL_ADDR": agent.address,
            "AUTOSALON_NATS_URL": ",".join(server.url for server in nearest_first),
            "AUTOSALON_NATS_REPLICAS": str(STREAM_REPLICAS)}


def render(consul_binary, mailpit_binary, secrets: Credentials) -> None:
    """The config holds each service's credentials, so only its owner may read it."""
    LOGS.mkdir(parents=True, exist_ok=True)
    (RUN / "mail").mkdir(exist_ok=True)
    credentials.write_private(CONF, config(consul_binary, mailpit_binary, secrets))


def config(consul_binary, mailpit_binary, secrets: Credentials) -> str:
    python = VENV_BIN / "python"
    environment = _environment({"PYTHONUNBUFFERED": "1", "AUTOSALON_RUN_DIR": RUN,
                                "AUTOSALON_PG_SOCKET_DIR": PG_SOCKET_DIR, "GRPC_EXPERIMENTS": GRPC_EXPERIMENTS})
    settings = _settings_environment()
    programs = [
        _program(
            "postgres", postgres.server_command(), 10, True,
            # Fast shutdown: roll back open transactions, write a checkpoint.
            "stopsignal=INT\n"
            + (f"user={PG_SYSTEM_USER}\ndirectory=/\n" if RUNNING_AS_ROOT else ""),
        ),
        *(_program(agent.program, [consul_binary, "agent", f"-config-file={access.consul_config_path(agent)}"],
                   10, True) for agent in consul_agents()),
        *(_program(server.program, [VENV_BIN / "nats-server", f"--config={access.nats_config_path(server)}"],
                   10, True) for server in nats_servers()),
        # Keeps what it received in the run folder, so a test reads mail sent before a restart.
        _program(
            "mail",
            [mailpit_binary, "--smtp", MAIL_SMTP_ADDR, "--listen", MAIL_HTTP_ADDR,
             "--database", RUN / "mail" / "mailpit.db", "--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
             "--quiet"],
            10, True,
        ),
        _program("edge-sync", [python, "-m", "services.edge.eds_sync", "--run-dir", RUN], 50, False,
                 _settings_environment({"AUTOSALON_CONSUL_TOKEN": secrets.consul[EDGE_SYNC]})),
        # One worker thread: on two cores shared with the services, a second one only adds
        # context switches and splits the upstream HTTP/2 connections (measured on /auth/me:
        # +15 % requests/s, p99 70 -> 40 ms; /health still above 18,000 requests/s).
        _program(
            "envoy",
            [VENV_BIN / "envoy", "-c", RUN / "envoy" / "envoy.yaml", "--log-level", "warn",
             "--disable-hot-restart", "--concurrency", "1", *ENVOY_QUIET],
            50, False,
        ),
    ]
    for program, module in EMULATORS.items():
        programs.append(_program(program, [python, "-m", module], 40, True, settings))
    placed = cores.placement({service: instances(service) for service in SERVICES}, cores.available())
    for service, manifest in SERVICES.items():
        # A program an instance (each with its node's addresses), grouped by service: "sales:sales-0".
        names = [f"{service}-{instance}" for instance in range(instances(service))]
        for instance, name in enumerate(names):
            programs.append(_program(
                name, [python, "-m", manifest.module], 100, False,
                "stopsignal=TERM\n" + _settings_environment(
                    {**_core_environment(placed.get(service), instance), **access.service_environment(service, secrets),
                     **_node_environment(node_of(service, instance)), **_own_settings(service)}),
            ))
        programs.append(f"\n[group:{service}]\nprograms={','.join(names)}\npriority=100\n")
    return (
        f"""[unix_http_server]
file={SOCKET}

[supervisord]
logfile={LOGS}/supervisord.log
pidfile={RUN}/supervisord.pid
childlogdir={LOGS}
directory={REPO_ROOT}
environment={environment}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{SOCKET}
"""
        + "".join(programs)
    )


def ctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [VENV_BIN / "supervisorctl", "-c", CONF, *args],
        check=check, text=True, capture_output=True,
    )


def running() -> bool:
    return SOCKET.exists() and ctl("pid", check=False).returncode == 0


def start() -> None:
    """Starts supervisord, or makes a running one take up the new config."""
    if running():
        ctl("reread")
        ctl("update")
        return
    SOCKET.unlink(missing_ok=True)
    subprocess.run([VENV_BIN / "supervisord", "-c", CONF], check=True)
    deadline = time.monotonic() + 15
    while not running():
        if time.monotonic() > deadline:
            sys.exit(f"supervisord did not start; see {LOGS}/supervisord.log")
        time.sleep(0.1)


def stop() -> None:
    if running():
        ctl("shutdown", check=False)
        pid_file = RUN / "supervisord.pid"
        deadline = time.monotonic() + 60
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
