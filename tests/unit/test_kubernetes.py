"""deploy/kubernetes, checked offline (no cluster here): the committed generated files are what
`python -m scripts.kubernetes` writes; each overlay builds with kustomize and every resource
it makes is valid for the pinned Kubernetes's schemas; every service runs as its manifest says,
probed through its gRPC health service, with resources, a disruption budget and hardening; no
secret is committed, and every Secret the manifests name is one `secrets` prints."""
import base64
import copy
import json

import kubernetes_validate
import pytest
import yaml

from scripts import kubernetes
from scripts.kubernetes import DEPLOY, GRPC_PORT, SERVICES
from scripts.mesh.access import nats_permissions
from services.kit import settings
from services.kit.credentials import EDGE_SYNC, OPERATOR, SUPERUSER, Credentials

OVERLAYS = ("dev", "production")


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, kubernetes.built(request.param)


def _of_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {resource["metadata"]["name"]: resource for resource in resources if resource["kind"] == kind}


def _made_secrets() -> list[dict]:
    return kubernetes.secrets(Credentials.generated(list(SERVICES)), "signing key", "{}", "admin password",
                              "autosalon")


def test_the_committed_files_are_a_fresh_generation():
    assert kubernetes.stale_files() == [], "run python -m scripts.kubernetes"


def test_every_resource_is_valid_for_the_pinned_kubernetes(overlay):
    name, resources = overlay
    for resource in resources:
        kubernetes_validate.validate(resource, kubernetes.KUBERNETES_VERSION, strict=True)


def test_the_validation_refuses_a_broken_resource(overlay):
    _, resources = overlay
    broken = copy.deepcopy(_of_kind(resources, "Deployment")["sales"])
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["port"] = "grpc"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes.KUBERNETES_VERSION, strict=True)


def test_every_service_runs_its_module_probed_by_its_grpc_health_service(overlay):
    name, resources = overlay
    deployments = _of_kind(resources, "Deployment")
    for service, manifest in SERVICES.items():
        pod = deployments[service]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["command"] == ["python", "-m", manifest.module]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"] == {"port": GRPC_PORT}, (service, probe)
        environment = {entry["name"]: entry for entry in container["env"]}
        assert environment["AUTOSALON_ADVERTISE_HOST"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
        wanted = manifest.instances if name == "dev" else 3
        assert deployments[service]["spec"]["replicas"] == wanted, service


def test_the_services_listen_on_the_port_their_probes_check(overlay):
    _, resources = overlay
    (config_map,) = _of_kind(resources, "ConfigMap").values()
    assert config_map["data"]["AUTOSALON_PORT"] == str(GRPC_PORT)
    assert config_map["data"]["AUTOSALON_BIND_HOST"] == "0.0.0.0"


def test_every_deployment_has_a_disruption_budget(overlay):
    name, resources = overlay
    budgets = {budget["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: budget["spec"]
               for budget in _of_kind(resources, "PodDisruptionBudget").values()}
    for service in [*SERVICES, "edge"]:
        assert service in budgets, service
        if name == "production":
            assert budgets[service].get("minAvailable") == 2 and "maxUnavailable" not in budgets[service]


def test_production_spreads_every_deployment_over_nodes_and_zones():
    for deployment in _of_kind(kubernetes.built("production"), "Deployment").values():
        spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert {rule["topologyKey"] for rule in spread} == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
        assert all("app.kubernetes.io/name" in rule["matchLabelKeys"] for rule in spread)


def test_the_outside_world_is_emulated_in_dev_only():
    dev, production = (_of_kind(kubernetes.built(name), "Deployment") for name in OVERLAYS)
    for stand_in in [*kubernetes.EMULATORS, "mail"]:
        assert stand_in in dev and stand_in not in production


def test_the_edge_renders_its_config_and_follows_consul_beside_envoy(overlay):
    _, resources = overlay
    pod = _of_kind(resources, "Deployment")["edge"]["spec"]["template"]["spec"]
    (render,) = pod["initContainers"]
    assert render["command"][:3] == ["python", "-m", "services.edge.render"]
    containers = {container["name"]: container for container in pod["containers"]}
    assert containers["envoy"]["image"] == kubernetes.ENVOY_IMAGE
    assert containers["edge-sync"]["command"][:3] == ["python", "-m", "services.edge.eds_sync"]
    assert "edge" in _of_kind(resources, "Service")


def test_every_setting_given_is_one_the_mesh_reads_and_accepts(overlay):
    _, resources = overlay
    known = kubernetes.every_setting()
    for config_map in _of_kind(resources, "ConfigMap").values():
        for variable, value in config_map["data"].items():
            assert variable in known, variable
            assert known[variable].repr, f"{variable} is secret: it belongs in a Secret"
            settings.convert(known[variable], value, variable)


def test_no_secret_is_committed_only_named(overlay):
    _, resources = overlay
    assert _of_kind(resources, "Secret") == {}
    for path in DEPLOY.rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            assert isinstance(document, (dict, list)) and (
                not isinstance(document, dict) or (document.get("kind") != "Secret" and "secretGenerator" not in document)
            ), path


def _secret_names(value) -> set[str]:
    """Every Secret a resource refers to, wherever it does."""
    if isinstance(value, list):
        return set().union(*map(_secret_names, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found = set().union(*map(_secret_names, value.values())) if value else set()
    for key in ("secretRef", "secretKeyRef", "secret"):
        if isinstance(value.get(key), dict) and "name" in value[key]:
            found.add(value[key]["name"])
    return found


def test_every_secret_named_is_one_the_secrets_command_prints(overlay):
    _, resources = overlay
    printed = {secret["metadata"]["name"] for secret in _made_secrets()}
    named = set().union(*map(_secret_names, resources))
    assert named and named <= printed, named - printed


def test_the_printed_secrets_are_valid_for_the_pinned_kubernetes():
    for secret in _made_secrets():
        kubernetes_validate.validate(secret, kubernetes.KUBERNETES_VERSION, strict=True)


def test_a_service_gets_only_its_own_logins():
    made = Credentials.generated(list(SERVICES))
    printed = {secret["metadata"]["name"]: secret for secret in
               kubernetes.secrets(made, "key", "{}", "admin password", "autosalon")}
    sales = {key: base64.b64decode(value).decode() for key, value in printed["autosalon-sales"]["data"].items()}
    assert sales == {"AUTOSALON_PG_USER": "sales", "AUTOSALON_PG_PASSWORD": made.postgres["sales"],
                     "AUTOSALON_NATS_USER": "sales", "AUTOSALON_NATS_PASSWORD": made.nats["sales"],
                     "AUTOSALON_CONSUL_TOKEN": made.consul["sales"]}
    operator = json.loads(base64.b64decode(printed["autosalon-operator"]["data"]["credentials.json"]))
    assert Credentials(**operator) == made
    assert printed["autosalon-edge-sync"]["data"] == {
        "AUTOSALON_CONSUL_TOKEN": base64.b64encode(made.consul[EDGE_SYNC].encode()).decode()}
    assert base64.b64decode(printed["autosalon-postgres"]["data"]["password"]).decode() \
        == made.postgres[SUPERUSER]


def test_only_the_bootstrap_mounts_the_operators_credentials(overlay):
    _, resources = overlay
    for resource in resources:
        if resource["kind"] in ("Deployment", "Job", "StatefulSet"):
            mounts_operator = "autosalon-operator" in _secret_names(resource)
            assert mounts_operator == (resource["metadata"]["name"] == "bootstrap"), resource["metadata"]["name"]


def test_nats_has_a_user_per_service_with_its_permissions_and_password_from_the_secret():
    values = yaml.safe_load((DEPLOY / "helm" / "nats-values.yaml").read_text())
    users = {user["user"]: user for user in values["config"]["merge"]["authorization"]["users"]}
    assert set(users) == {OPERATOR, *SERVICES}
    for service in SERVICES:
        assert users[service]["permissions"] == nats_permissions(service)
    (nats_secret,) = [secret for secret in _made_secrets() if secret["metadata"]["name"] == kubernetes.NATS_USERS_SECRET]
    for user in users.values():
        variable = user["password"].removeprefix("<< $").removesuffix(" >>")
        reference = values["container"]["env"][variable]["valueFrom"]["secretKeyRef"]
        assert reference == {"name": kubernetes.NATS_USERS_SECRET, "key": user["user"]}
        assert user["user"] in nats_secret["data"]
    assert values["config"]["jetstream"]["fileStore"]["enabled"] and values["config"]["cluster"]["replicas"] == 3


def test_consul_runs_three_servers_with_acls_bootstrapped_by_the_operators_token():
    values = yaml.safe_load((DEPLOY / "helm" / "consul-values.yaml").read_text())
    assert values["server"]["replicas"] == 3
    assert values["global"]["acls"]["manageSystemACLs"]
    assert values["global"]["acls"]["bootstrapToken"] == {"secretName": kubernetes.CONSUL_BOOTSTRAP_SECRET,
                                                          "secretKey": "token"}
    # The services' address of Consul is the chart's server Service.
    assert kubernetes.CONSUL_ADDR.startswith(f"{values['global']['name']}-server.")


def test_every_secret_setting_comes_from_a_secret_never_the_config_map():
    secret_variables = {variable for variable, field in kubernetes.every_setting().items() if field.repr is False}
    assert secret_variables and not secret_variables & set(kubernetes.cluster_settings())
