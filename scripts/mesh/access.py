"""Who may do what in the mesh's infrastructure, from its credentials file (kit.credentials):

- PostgreSQL: a role a service, owning that service's database and nothing else;
- NATS: a user a service, publishing only its own events (`autosalon.<service>.>`) and
  creating only its own stream; it reads every stream, and its replies come to its own inboxes;
- Consul: ACLs on, denying by default; a token a service, registering only that service and
  reading the rest; the edge's sync reads; the operator holds the management token.

`./scripts/up` applies them on every start, and `python -m scripts.mesh bootstrap` (containers)
at the servers its settings name, when it is given the file (so what the file says is what holds);
`python -m scripts.mesh rotate` replaces every secret and restarts what uses them.
"""
import json
import time
import urllib.error
import urllib.request

from services.kit import credentials
from services.kit.subjects import SETTINGS_BUCKET, SETTINGS_WRITER, stream_name
from services.kit.credentials import CONSUL_AGENT, EDGE_SYNC, OPERATOR, SUPERUSER, Credentials

from . import postgres
from .layout import CLUSTER, RUN, SERVICES, SETTINGS, ConsulAgent, NatsServer, consul_agents, nats_servers
from .tools import step

NATS_DIR = RUN / "nats"
CONSUL_DIR = RUN / "consul"
CLUSTER_NAME = "autosalon"
GLOBAL_MANAGEMENT = "00000000-0000-0000-0000-000000000001"


def ensure() -> Credentials:
    """The credentials file, written with new secrets where it or a service's lines are missing."""
    path = SETTINGS.credentials_path
    kept = credentials.read(path)
    wanted = kept.with_services(list(SERVICES)) if kept else Credentials.generated(list(SERVICES))
    if wanted != kept:
        step(f"credentials: {'adding the new services to' if kept else 'generating'} {path}")
        credentials.write(path, wanted)
    else:
        step(f"credentials: present in {path}")
    return wanted


def service_environment(service: str, secrets: Credentials) -> dict:
    """The settings that make a service's process act as that service."""
    return {
        "AUTOSALON_PG_USER": service, "AUTOSALON_PG_PASSWORD": secrets.postgres[service],
        "AUTOSALON_NATS_USER": service, "AUTOSALON_NATS_PASSWORD": secrets.nats[service],
        "AUTOSALON_CONSUL_TOKEN": secrets.consul[service],
    }


# NATS -------------------------------------------------------------------------------------

def nats_permissions(service: str) -> dict:
    # Every service watches the settings bucket (kit.live_settings); only config writes it.
    settings_bucket = [f"$JS.API.STREAM.CREATE.KV_{SETTINGS_BUCKET}",
                                                      f"$KV.{SETTINGS_BUCKET}.>"] if service == SETTINGS_WRITER else []
    return {
        "publish": {"allow": [
            *settings_bucket,
            f"autosalon.{service}.>",
            "$JS.API.INFO",
            f"$JS.API.STREAM.CREATE.{stream_name(service)}",
            f"$JS.API.STREAM.UPDATE.{stream_name(service)}",
            "$JS.API.STREAM.INFO.*",
            "$JS.API.CONSUMER.>",
            "$JS.ACK.>",
            "$JS.FC.>",
        ]},
        "subscribe": {"allow": ["autosalon.>", f"_INBOX.{service}.>"]},
    }


def nats_config_path(server: NatsServer):
    return NATS_DIR / ("nats.conf" if not CLUSTER else f"{server.program}.conf")


def nats_config(secrets: Credentials, server: NatsServer) -> str:
    """One nats-server's whole configuration (its syntax takes JSON), so that a reload (SIGHUP)
    finds what the start did: where it listens and keeps its streams, its users, no
    anonymous access; in a cluster, its routes to the others, which sign in as the operator."""
    users = [{"user": OPERATOR, "password": secrets.nats[OPERATOR]}]
    users += [
        {"user": service, "password": secrets.nats[service], "permissions": nats_permissions(service)}
        for service in SERVICES
    ]
    config = {
        "server_name": server.server_name,
        "host": "127.0.0.1", "port": server.port, "http_port": server.monitor_port,
        "jetstream": {"store_dir": str(NATS_DIR if not CLUSTER else NATS_DIR / server.program)},
        "authorization": {"users": users},
    }
    if CLUSTER:
        route_login = f"{OPERATOR}:{secrets.nats[OPERATOR]}"
        config["cluster"] = {
            "name": CLUSTER_NAME, "host": "127.0.0.1", "port": server.route_port,
            "authorization": {"user": OPERATOR, "password": secrets.nats[OPERATOR]},
            "routes": [f"nats-route://{route_login}@127.0.0.1:{other.route_port}"
                       for other in nats_servers() if other != server],
        }
    return json.dumps(config, indent=2) + "\n"


def write_nats_config(secrets: Credentials) -> list[str]:
    """Writes each server's configuration: the servers whose changed (a running one must reload it)."""
    changed = []
    for server in nats_servers():
        path, text = nats_config_path(server), nats_config(secrets, server)
        if not path.exists() or path.read_text() != text:
            credentials.write_private(path, text)
            changed.append(server.program)
    return changed


# Consul -----------------------------------------------------------------------------------

def consul_config_path(agent: ConsulAgent):
    return CONSUL_DIR / ("consul.json" if not CLUSTER else f"{agent.program}.json")


def _consul_data(agent: ConsulAgent):
    return CONSUL_DIR / ("data" if not CLUSTER else agent.program)


def consul_config(secrets: Credentials, agent: ConsulAgent) -> str:
    """One Consul agent keeping its state (ACL tokens too) in the run folder: a single mesh's
    own server; in a cluster, a server awaiting the others for its first election, or a node's
    client agent, all joining the servers."""
    config = {
        "server": agent.server, "data_dir": str(_consul_data(agent)),
        "bind_addr": "127.0.0.1", "client_addr": "127.0.0.1",
        "ports": {"http": agent.http_port, "dns": -1, "grpc": -1},
        "log_level": "warn", "log_json": True, "disable_update_check": True,
        "performance": {"raft_multiplier": 1},
        "acl": {
            "enabled": True, "default_policy": "deny", "down_policy": "extend-cache",
            "enable_token_persistence": True,
            **({"tokens": {"initial_management": secrets.consul[OPERATOR]}} if agent.server else {}),
        },
    }
    if not CLUSTER:
        config["bootstrap_expect"] = 1
    else:
        servers = [other for other in consul_agents() if other.server]
        config.update({
            "node_name": agent.program, "datacenter": "dc1",
            "retry_join": [f"127.0.0.1:{server.serf_port}" for server in servers],
            **({"bootstrap_expect": len(servers)} if agent.server else {}),
        })
        config["ports"].update({"serf_lan": agent.serf_port, "serf_wan": -1, "grpc_tls": -1,
                                **({"server": agent.rpc_port} if agent.server else {})})
    return json.dumps(config, indent=2) + "\n"


def repair_consul_data() -> None:
    """Consul refuses to start on an empty server_metadata.json, which a start cut short leaves
    behind (seen after two meshes fought over the same ports); it writes the file anew when none
    is there."""
    for agent in consul_agents():
        metadata = _consul_data(agent) / "server_metadata.json"
        if metadata.exists() and metadata.stat().st_size == 0:
            step(f"consul: removing the empty {metadata} a start cut short left")
            metadata.unlink()


def write_consul_config(secrets: Credentials) -> None:
    for agent in consul_agents():
        credentials.write_private(consul_config_path(agent), consul_config(secrets, agent))


def consul_rules(holder: str) -> str:
    """The ACL rules of a token holder's policy."""
    read_all = 'service_prefix "" { policy = "read" }\nnode_prefix "" { policy = "read" }\n'
    if holder == CONSUL_AGENT:
        return 'node_prefix "" { policy = "write" }\nservice_prefix "" { policy = "read" }\n'
    if holder == EDGE_SYNC:
        return read_all
    return f'service "{holder}" {{ policy = "write" }}\n' + read_all


def consul(method: str, path: str, token: str, body: dict | None = None, timeout: float = 10.0,
           address: str = ""):
    """Consul's HTTP API (the settings' agent, or the one at `address`), as the holder of
    `token`: the JSON answer."""
    request = urllib.request.Request(
        f"http://{address or SETTINGS.consul_addr}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-Consul-Token": token},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _once_consul_can(call, failure: str, timeout: float = 60.0):
    """call()'s answer, asked again while Consul cannot give it yet (no leader elected, ACLs not
    bootstrapped, an agent not joined to the servers yet); `failure` and why when time is up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except (urllib.error.URLError, OSError) as error:
            if time.monotonic() > deadline:
                raise SystemExit(f"{failure}: {error}") from None
            time.sleep(0.2)


def _consul_when_ready(token: str) -> list[dict]:
    """The ACL tokens, once Consul has a leader and its ACLs are bootstrapped."""
    return _once_consul_can(lambda: consul("GET", "/v1/acl/tokens", token), "consul's ACLs did not come up")


def consul_requests(secrets: Credentials, policies: dict[str, dict],
                    token_secrets: set[str]) -> list[tuple[str, str, str, dict]]:
    """(what it does, method, path, body) of each Consul API call that makes its ACLs hold what
    `secrets` says, given the `policies` it has (by name, with their ID, Rules and Description)
    and the secrets of its tokens: a policy a holder (consul_rules) and a token a holder linked
    to it, the operator's to global management. None for what holds already."""
    requests = []
    for holder, secret in secrets.consul.items():
        if holder == OPERATOR:
            links = [{"ID": GLOBAL_MANAGEMENT}]
        else:
            name = f"autosalon-{holder}"
            policy = {"Name": name, "Rules": consul_rules(holder), "Description": f"autosalon {holder}"}
            found = policies.get(name)
            if found is None:
                requests.append((f"creating policy {name}", "PUT", "/v1/acl/policy", policy))
            elif (found["Rules"], found["Description"]) != (policy["Rules"], policy["Description"]):
                requests.append((f"updating policy {name}", "PUT", f"/v1/acl/policy/{found['ID']}", policy))
            links = [{"Name": name}]
        if secret not in token_secrets:
            requests.append((f"creating the token of {holder}", "PUT", "/v1/acl/token",
                             {"SecretID": secret, "Description": f"autosalon {holder}", "Policies": links}))
    return requests


def apply_consul(secrets: Credentials, login: str) -> list[str]:
    """Gives the Consul at the settings' address the policies and tokens `secrets` says
    (consul_requests), acting with the `login` token: what it changed, nothing when all held
    already. Tokens replaced stay until `delete_stale_tokens`."""
    token_secrets = {token.get("SecretID") for token in _consul_when_ready(login)}
    names = {f"autosalon-{holder}" for holder in secrets.consul}
    policies = {listed["Name"]: consul("GET", f"/v1/acl/policy/{listed['ID']}", login)
                for listed in consul("GET", "/v1/acl/policies", login) if listed["Name"] in names}
    changes = []
    for what, method, path, body in consul_requests(secrets, policies, token_secrets):
        step(f"consul: {what}")
        consul(method, path, login, body)
        changes.append(what)
    return changes


def use_agent_token(secrets: Credentials, login: str) -> None:
    """Makes each of the mesh's own Consul agents act with the agents' token (not for a
    deployment's servers: they hold the tokens their chart gives them)."""
    for agent in consul_agents():
        _once_consul_can(lambda: consul("PUT", "/v1/agent/token/agent", login, {"Token": secrets.consul[CONSUL_AGENT]},
                                        address=agent.address), f"{agent.program} did not take the agents' token")


def apply(secrets: Credentials, acting_as: Credentials) -> list[str]:
    """What `secrets` lets each service do, given to the PostgreSQL and the Consul the settings
    name, as `acting_as`'s superuser and operator (the old secrets, when rotating): a role and a
    database a service, a policy and a token a holder. NATS takes its users from its own
    configuration. Only what differs changes: what did, nothing on a second run."""
    step("postgresql, consul: applying the roles, databases, ACL policies and tokens")
    return (postgres.apply_roles(secrets, acting_as.postgres[SUPERUSER])
            + apply_consul(secrets, acting_as.consul[OPERATOR]))


def delete_stale_tokens(secrets: Credentials, replaced: Credentials) -> None:
    """Deletes our tokens that `secrets` no longer holds, `replaced`'s management token among
    them, acting with the new one (no token may delete itself)."""
    wanted, management = set(secrets.consul.values()), secrets.consul[OPERATOR]
    for token in consul("GET", "/v1/acl/tokens", management):
        ours = (token.get("Description", "").startswith("autosalon ")
                or token.get("SecretID") == replaced.consul[OPERATOR])
        if ours and token.get("SecretID") not in wanted:
            consul("DELETE", f"/v1/acl/token/{token['AccessorID']}", management)
