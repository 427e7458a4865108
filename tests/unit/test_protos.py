"""The protos are the contract: buf lint clean, compatible with the last released contract (buf
breaking), and every RPC reachable over REST."""
import re
import subprocess

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from scripts import contract
from scripts.mesh.layout import VENV_BIN
from scripts.mesh.tools import DESCRIPTORS
from services.kit.settings import REPO_ROOT

REST_PREFIX = {
    "auth": "/auth/", "catalog": "/catalog/", "inventory": "/inventory/", "customer": "/customers",
    "pricing": "/pricing/", "sales": "/sales/", "payment": "/payments", "financing": "/financing/",
    "insurance": "/insurance/", "config": "/admin/", "booking": "/service/", "notification": "/notifications",
    "reporting": "/reports", "overview": "/", "monitoring": "/monitoring/",
}


def test_buf_lint_is_clean():
    result = subprocess.run([VENV_BIN / "buf", "lint"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _autosalon_methods():
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTORS.read_bytes()).file
    for file in files:
        if file.package.startswith("autosalon.") and file.service:
            for service in file.service:
                for method in service.method:
                    yield file.package.split(".")[1], f"{service.name}/{method.name}", method


def test_every_rpc_has_an_http_rule_under_its_service_prefix():
    methods = list(_autosalon_methods())
    assert methods
    for service, name, method in methods:
        assert method.options.HasExtension(annotations_pb2.http), f"{name} has no google.api.http"
        rule: http_pb2.HttpRule = method.options.Extensions[annotations_pb2.http]
        # "/{name=customers/*}" is served at "/customers/*".
        path = re.sub(r"\{[^=}]+=([^}]*)\}", r"\1", getattr(rule, rule.WhichOneof("pattern")))
        assert path.startswith(REST_PREFIX[service]), f"{name}: {path}"


def test_the_protos_keep_the_released_contract(tmp_path):
    released = contract.contract_tree(tmp_path / "released", contract.released_commit())
    result = contract.breaking(REPO_ROOT, released)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_change_that_breaks_clients_fails_with_the_fields_name(tmp_path):
    current = contract.contract_tree(tmp_path / "current")
    sales = current / "proto" / "autosalon" / "sales" / "v1" / "sales.proto"
    text = sales.read_text()
    retyped = text.replace("  string vehicle_title = 5 ", "  int64 vehicle_title = 5 ", 1)
    assert retyped != text
    sales.write_text(retyped)
    result = contract.breaking(current, contract.contract_tree(tmp_path / "released"))
    assert result.returncode != 0
    assert '"vehicle_title"' in result.stdout and "Order" in result.stdout, result.stdout
