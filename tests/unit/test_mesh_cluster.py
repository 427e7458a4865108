"""./scripts/up --cluster: three Consul servers and a Consul agent a node, three NATS servers in
one JetStream cluster, the services spread over the nodes; all on loopback, on distinct ports."""
import configparser
import json
import os
import re
import subprocess
import sys

import pytest

from services.kit.bus import Bus
from services.kit.manifest import every_service
from services.kit.settings import REPO_ROOT

SERVICES = every_service()
_PROBE = """
import json
from scripts.mesh import access, layout, supervisor
from services.kit.credentials import Credentials
secrets = Credentials.generated(list(layout.SERVICES))
print(json.dumps({
    "nats": [json.loads(access.nats_config(secrets, server)) for server in layout.nats_servers()],
    "consul": [json.loads(access.consul_config(secrets, agent)) for agent in layout.consul_agents()],
    "supervisord": supervisor.config("/opt/consul", "/opt/mailpit", secrets),
    "operator": secrets.nats["operator"], "conflict": layout.nodes_conflict(),
}))
"""


def _rendered(run_dir, nodes: str | None) -> dict:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AUTOSALON_")}
    environment["AUTOSALON_RUN_DIR"] = str(run_dir)
    if nodes is not None:
        environment["AUTOSALON_CLUSTER_NODES"] = nodes
    ran = subprocess.run([sys.executable, "-c", _PROBE], env=environment, cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> dict:
    return _rendered(tmp_path_factory.mktemp("cluster"), "3")


def test_the_nats_servers_form_one_cluster_each_routed_to_the_others(cluster):
    servers = cluster["nats"]
    assert [server["server_name"] for server in servers] == ["autosalon-1", "autosalon-2", "autosalon-3"]
    routes = {server["cluster"]["port"] for server in servers}
    assert len(routes) == 3 and {server["cluster"]["name"] for server in servers} == {"autosalon"}
    for server in servers:
        routed = {int(route.rsplit(":", 1)[1]) for route in server["cluster"]["routes"]}
        assert routed == routes - {server["cluster"]["port"]}
        # A route signs in: loopback is shared with every other user of the machine.
        assert server["cluster"]["authorization"] == {"user": "operator", "password": cluster["operator"]}
        assert all(f"operator:{cluster['operator']}@127.0.0.1:" in route for route in server["cluster"]["routes"])
        assert server["host"] == server["cluster"]["host"] == "127.0.0.1"
    ports = [port for server in servers for port in (server["port"], server["http_port"], server["cluster"]["port"])]
    assert len(set(ports)) == 9
    assert len({server["jetstream"]["store_dir"] for server in servers}) == 3


def test_three_consul_servers_elect_among_themselves_and_every_node_has_an_agent(cluster):
    servers = [agent for agent in cluster["consul"] if agent["server"]]
    agents = [agent for agent in cluster["consul"] if not agent["server"]]
    assert len(servers) == 3 and len(agents) == 3
    joins = {f"127.0.0.1:{server['ports']['serf_lan']}" for server in servers}
    for agent in cluster["consul"]:
        assert set(agent["retry_join"]) == joins and agent["bind_addr"] == agent["client_addr"] == "127.0.0.1"
        assert agent["acl"]["default_policy"] == "deny"
    assert all(server["bootstrap_expect"] == 3 and "initial_management" in server["acl"]["tokens"]
               for server in servers)
    assert all("bootstrap_expect" not in agent and "tokens" not in agent["acl"] for agent in agents)
    ports = [port for agent in cluster["consul"] for kind, port in agent["ports"].items() if port != -1]
    assert len(ports) == len(set(ports)) == 15  # http and serf each, Raft on the servers
    assert len({agent["node_name"] for agent in cluster["consul"]}) == 6
    assert len({agent["data_dir"] for agent in cluster["consul"]}) == 6


def test_each_instance_uses_its_nodes_agent_and_nats_server_first_with_streams_on_three(cluster):
    sections = configparser.ConfigParser(interpolation=None)
    sections.read_string(cluster["supervisord"])
    agents = {agent["node_name"]: agent["ports"]["http"] for agent in cluster["consul"] if not agent["server"]}
    nats_ports = [server["port"] for server in cluster["nats"]]
    nodes_of: dict[str, list[int]] = {}
    for name in sections.sections():
        program = name.removeprefix("program:")
        service, _, instance = program.rpartition("-")
        if not name.startswith("program:") or not instance.isdigit() or service not in SERVICES:
            continue
        environment = dict(re.findall(r'(\w+)="([^"]*)"', sections[name]["environment"]))
        servers = [int(url.rsplit(":", 1)[1]) for url in environment["AUTOSALON_NATS_URL"].split(",")]
        node = nats_ports.index(servers[0]) + 1
        assert sorted(servers) == nats_ports
        assert environment["AUTOSALON_CONSUL_ADDR"] == f'127.0.0.1:{agents[f"consul-{node}"]}'
        assert environment["AUTOSALON_NATS_REPLICAS"] == "3"
        nodes_of.setdefault(service, []).append(node)
    assert all(len(set(nodes)) == len(nodes) for nodes in nodes_of.values()), nodes_of
    every = [node for nodes in nodes_of.values() for node in nodes]
    assert max(every.count(node) for node in (1, 2, 3)) - min(every.count(node) for node in (1, 2, 3)) <= 1
    assert {"program:nats-1", "program:consul-server-1", "program:consul-1", "group:sales"} <= set(sections.sections())


def test_a_single_mesh_keeps_its_one_consul_and_nats_as_before(tmp_path):
    single = _rendered(tmp_path, None)
    assert len(single["nats"]) == 1 and "cluster" not in single["nats"][0]
    assert single["nats"][0]["server_name"] == "autosalon"
    assert [agent["bootstrap_expect"] for agent in single["consul"]] == [1]
    assert "AUTOSALON_NATS_URL" not in single["supervisord"] and single["conflict"] == ""


def test_a_run_folder_is_brought_up_with_the_nodes_it_was_made_with(tmp_path):
    (tmp_path / "nodes").write_text("1\n")
    assert "holds a mesh of 1 node(s), not 3" in _rendered(tmp_path, "3")["conflict"]
    assert _rendered(tmp_path, None)["conflict"] == ""
    assert "a mesh runs on 1 or 3 or 5 nodes" in _rendered(tmp_path, "2")["conflict"]


def test_a_folder_made_before_the_count_was_kept_holds_one_node(tmp_path):
    (tmp_path / "consul").mkdir()
    (tmp_path / "consul" / "consul.json").write_text("{}")
    assert "holds a mesh of 1 node(s), not 3" in _rendered(tmp_path, "3")["conflict"]


def test_a_count_that_is_no_number_is_refused_by_name(tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AUTOSALON_")}
    environment.update(AUTOSALON_RUN_DIR=str(tmp_path), AUTOSALON_CLUSTER_NODES="three")
    ran = subprocess.run([sys.executable, "-c", "from scripts.mesh import layout; print(layout.nodes_conflict())"],
                         env=environment, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "AUTOSALON_CLUSTER_NODES=three: a mesh runs on 1 or 3 or 5 nodes" in ran.stdout


def test_the_bus_tries_a_clusters_servers_in_the_order_given():
    bus = Bus("nats://127.0.0.1:4223, nats://127.0.0.1:4222,nats://127.0.0.1:4224", replicas=3)
    assert bus._servers == ["nats://127.0.0.1:4223", "nats://127.0.0.1:4222", "nats://127.0.0.1:4224"]
    assert bus.replicas == 3
