"""Where everything of a local mesh lives and listens."""
import hashlib
import os
import pathlib
import sys
from dataclasses import dataclass

from services.kit.manifest import every_service
from services.kit.settings import load

SETTINGS = load()
RUN = SETTINGS.run_dir
LOGS = RUN / "logs"
VENV_BIN = pathlib.Path(sys.executable).parent
CACHE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "autosalon"

EDGE_PORT = int(os.environ.get("AUTOSALON_EDGE_PORT", "8080"))
ENVOY_ADMIN_PORT = int(os.environ.get("AUTOSALON_ENVOY_ADMIN_PORT", "9901"))
CONSUL_HTTP_PORT = int(SETTINGS.consul_addr.rsplit(":", 1)[1])
# The first server the settings name (a cluster's are separated by commas).
NATS_PORT = int(SETTINGS.nats_url.split(",")[0].rsplit(":", 1)[1])
NATS_MONITOR_PORT = int(os.environ.get("AUTOSALON_NATS_MONITOR_PORT", "8222"))
NATS_ROUTE_PORT = int(os.environ.get("AUTOSALON_NATS_ROUTE_PORT", "6222"))

# How many nodes the mesh spreads over: 1, or a cluster (./scripts/up --cluster: 3) of Consul
# servers, NATS servers in one JetStream cluster, and a Consul agent on each node where that
# node's service instances register. The run folder keeps the count its mesh was made with.
NODES_FILE = RUN / "nodes"
CLUSTER_SIZES = (1, 3, 5)


def _kept_nodes() -> str:
    """The count the run folder's mesh was made with: its note, "1" for a mesh made before the
    note was kept (its one Consul's and NATS server's configs are there), "" for a new folder."""
    if NODES_FILE.exists():
        return NODES_FILE.read_text().strip()
    return "1" if (RUN / "consul" / "consul.json").exists() or (RUN / "nats" / "nats.conf").exists() else ""


_ASKED_NODES = os.environ.get("AUTOSALON_CLUSTER_NODES", "").strip()
# A count that is no number is refused by nodes_conflict, with the mesh's commands that start
# or change it; the others (down, status) still work.
NODES = int(_ASKED_NODES or _kept_nodes() or "1") if (_ASKED_NODES or "1").isdigit() else 0
CLUSTER = NODES > 1
# How many NATS servers keep each stream and the settings bucket.
STREAM_REPLICAS = min(3, NODES)


def nodes_conflict() -> str:
    """Why this run folder cannot be brought up (or its secrets rotated) with NODES, or ""."""
    if NODES not in CLUSTER_SIZES:
        return (f"AUTOSALON_CLUSTER_NODES={_ASKED_NODES}: a mesh runs on "
                f"{' or '.join(map(str, CLUSTER_SIZES))} nodes")
    kept = _kept_nodes() or str(NODES)
    if kept != str(NODES):
        return (f"{RUN} holds a mesh of {kept} node(s), not {NODES}: bring it up as it was made, use another "
                "run folder (AUTOSALON_RUN_DIR), or delete this one first (./scripts/down --purge)")
    return ""


@dataclass(frozen=True)
class NatsServer:
    """One NATS server: `node` numbers from 1; a cluster's route to the others on `route_port`."""
    program: str
    node: int
    port: int
    monitor_port: int
    route_port: int

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def server_name(self) -> str:
        """The name it goes by in its cluster, as a stream's leader is named."""
        return "autosalon" if not CLUSTER else f"autosalon-{self.node}"


@dataclass(frozen=True)
class ConsulAgent:
    """One Consul agent: a server (one of the Raft peers, on `rpc_port`), or a node's client agent."""
    program: str
    node: int
    server: bool
    http_port: int
    serf_port: int
    rpc_port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.http_port}"


def nats_servers() -> list[NatsServer]:
    if not CLUSTER:
        return [NatsServer("nats", 1, NATS_PORT, NATS_MONITOR_PORT, 0)]
    return [NatsServer(f"nats-{node}", node, NATS_PORT + node - 1, NATS_MONITOR_PORT + node - 1,
                       NATS_ROUTE_PORT + node - 1) for node in range(1, NODES + 1)]


def consul_agents() -> list[ConsulAgent]:
    """A single mesh's one server (Consul's own serf and RPC ports); a cluster's servers, then
    each node's client agent, the first node's at the settings' address."""
    if not CLUSTER:
        return [ConsulAgent("consul", 1, True, CONSUL_HTTP_PORT, 8301, 8300)]
    servers = [ConsulAgent(f"consul-server-{node}", node, True, CONSUL_HTTP_PORT + 10 * node - 5,
                           8296 + 10 * node, 8297 + 10 * node) for node in range(1, NODES + 1)]
    agents = [ConsulAgent(f"consul-{node}", node, False, CONSUL_HTTP_PORT + 10 * (node - 1),
                          8291 + 10 * node, 0) for node in range(1, NODES + 1)]
    return servers + agents


def node_of(service: str, instance: int) -> int:
    """The node an instance runs on: every instance of every service dealt round the nodes in
    turn, so each node has as many as another (give or take one) and a service's instances are
    on different nodes."""
    dealt = [(name, number) for name in SERVICES for number in range(instances(name))]
    return dealt.index((service, instance)) % NODES + 1


# PostgreSQL refuses to run as root, so as root it runs as this system user, with its
# binaries and data where that user can reach them (a checkout may sit in a 700 folder).
# One database cluster per run directory: the test suite's mesh has its own (./scripts/test).
PG_SYSTEM_USER = "autosalon-pg"
RUNNING_AS_ROOT = os.geteuid() == 0
_run_dir_key = hashlib.sha256(str(RUN.resolve()).encode()).hexdigest()[:12]
PG_HOME = (
    pathlib.Path("/var/lib/autosalon") / _run_dir_key if RUNNING_AS_ROOT else RUN / "postgres"
)
PG_DATA = PG_HOME / "data"


def socket_folder(pg_home: pathlib.Path, port: int) -> str:
    """Where the services reach PostgreSQL through its Unix socket: the cluster's folder, when
    the socket's path fits the kernel's limit (107 bytes); "" (TCP) for a deeper checkout."""
    return str(pg_home) if len(f"{pg_home}/.s.PGSQL.{port}".encode()) <= 107 else ""


PG_SOCKET_DIR = socket_folder(PG_HOME, SETTINGS.pg_port)

# Every service of the mesh, as its manifest declares it (services/<name>/__init__.py).
SERVICES = every_service()


# Stand-ins for outside systems: program name -> module (not in Consul, not behind the edge).
EMULATORS = {"payment-gateway": "services.emulators.payment_gateway", "bank": "services.emulators.bank",
             "insurer": "services.emulators.insurer", "sms": "services.emulators.sms",
             "push": "services.emulators.push"}
GATEWAY_ADDR = os.environ.get("AUTOSALON_GATEWAY_ADDR", "127.0.0.1:7101")
BANK_ADDR = os.environ.get("AUTOSALON_BANK_ADDR", "127.0.0.1:7102")
INSURER_ADDR = os.environ.get("AUTOSALON_INSURER_ADDR", "127.0.0.1:7103")
SMS_ADDR = os.environ.get("AUTOSALON_SMS_ADDR", "127.0.0.1:7104")
PUSH_ADDR = os.environ.get("AUTOSALON_PUSH_ADDR", "127.0.0.1:7105")
# The mail server (Mailpit): SMTP in, its web UI and API to read what arrived.
MAIL_SMTP_ADDR = os.environ.get("AUTOSALON_MAIL_SMTP_ADDR", "127.0.0.1:1025")
MAIL_HTTP_ADDR = os.environ.get("AUTOSALON_MAIL_HTTP_ADDR", "127.0.0.1:8025")


def instances(service: str) -> int:
    """How many instances of `service` run: its manifest's, unless AUTOSALON_<NAME>_INSTANCES says."""
    return int(os.environ.get(f"AUTOSALON_{service.upper()}_INSTANCES", SERVICES[service].instances))
