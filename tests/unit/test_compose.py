"""compose.yaml, checked statically (no Docker engine on these machines)."""

import pytest
import yaml

from scripts.mesh.layout import SERVICES
from services.kit.settings import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
DEFINED = COMPOSE["services"]


def test_every_part_of_the_mesh_is_a_container():
    for name in ("postgres", "consul", "nats", "envoy", "edge-sync", "bootstrap", *SERVICES):
        assert name in DEFINED, f"{name} missing from compose.yaml"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_runs_its_own_module_as_often_as_its_manifest_says(service):
    command = DEFINED[service]["command"]
    assert command[:3] == ["python", "-m", SERVICES[service].module]
    assert (REPO_ROOT / "services" / service / "main.py").exists()
    assert DEFINED[service].get("deploy", {}).get("replicas", 1) == SERVICES[service].instances


def test_dependencies_name_defined_services():
    for name, spec in DEFINED.items():
        for dependency in spec.get("depends_on", {}):
            assert dependency in DEFINED, f"{name} depends on unknown {dependency}"


def test_published_ports_are_the_fixed_local_ones_on_loopback():
    published = {
        int(mapping.split(":")[-1]): mapping
        for spec in DEFINED.values() for mapping in spec.get("ports", [])
    }
    assert set(published) == {8080, 9901, 8500, 4222, 8025}
    assert all(mapping.startswith("127.0.0.1:") for mapping in published.values())


def test_services_find_infrastructure_by_container_name():
    environment = DEFINED["auth"]["environment"]
    assert environment["AUTOSALON_CONSUL_ADDR"].split(":")[0] in DEFINED
    assert environment["AUTOSALON_NATS_URL"].split("//")[1].split(":")[0] in DEFINED
    assert environment["AUTOSALON_PG_HOST"] in DEFINED


def test_build_context_has_its_dockerfile():
    for spec in DEFINED.values():
        if "build" in spec:
            assert (REPO_ROOT / spec["build"]["context"] / spec["build"]["dockerfile"]).exists()


def test_named_volumes_are_declared():
    declared = set(COMPOSE["volumes"])
    for spec in DEFINED.values():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared


def test_edge_sync_reaches_envoys_admin_and_access_log():
    """It rotates the access log Envoy writes, then asks Envoy's admin to reopen it."""
    edge_sync, envoy = DEFINED["edge-sync"], DEFINED["envoy"]
    assert edge_sync["network_mode"] == "service:envoy"
    assert "envoy" in edge_sync["depends_on"] and "edge-sync" not in envoy.get("depends_on", {})
    logs = "edgelogs:/var/lib/autosalon/logs"
    assert logs in edge_sync["volumes"] and logs in envoy["volumes"]


def test_envoy_listens_beyond_its_container_loopback():
    environment = DEFINED["bootstrap"]["environment"]
    assert environment["AUTOSALON_EDGE_ADDRESS"] == "0.0.0.0"
    assert environment["AUTOSALON_ENVOY_ADMIN_ADDRESS"] == "0.0.0.0"


def test_the_image_installs_the_locked_tree_as_the_scripts_do():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    venv = (REPO_ROOT / "scripts" / "venv.sh").read_text()
    for flag in ("--require-hashes", "--no-deps", "--only-binary :all:", "--build-constraint"):
        assert flag in dockerfile and flag in venv, flag
    assert "COPY requirements.lock" in dockerfile and "pyproject.toml" not in dockerfile
