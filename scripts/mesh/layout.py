"""Where everything of a local mesh lives and listens."""
import hashlib
import os
import pathlib
import sys

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
NATS_PORT = int(SETTINGS.nats_url.rsplit(":", 1)[1])
NATS_MONITOR_PORT = int(os.environ.get("AUTOSALON_NATS_MONITOR_PORT", "8222"))

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
