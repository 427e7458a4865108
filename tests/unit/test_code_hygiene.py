"""The house rules: pyflakes finds nothing; the kit knows no service; no service imports another."""
import ast
import subprocess
import sys

import pytest

from services.kit.settings import REPO_ROOT


def test_pyflakes_finds_nothing():
    result = subprocess.run(
        [sys.executable, "-m", "pyflakes", "services", "scripts", "bench", "tests"],
        cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _imports(path, package: str | None = None) -> set[str]:
    """Every module `path` imports, relative imports resolved from its package."""
    tree = ast.parse(path.read_text())
    package = package or ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            else:
                found.add(node.module)
    return found


SERVICES_DIR = REPO_ROOT / "services"
PACKAGES = sorted(path.name for path in SERVICES_DIR.iterdir() if (path / "__init__.py").exists())


def test_the_kit_knows_no_service():
    """Neither a service's generated contract (only the shared autosalon.common) nor a
    service's code, nor the peers' clients."""
    for path in (SERVICES_DIR / "kit").rglob("*.py"):
        for module in _imports(path):
            contract = module.startswith("autosalon.") and not module.startswith("autosalon.common.")
            ours = module.startswith("services.") and not module.startswith("services.kit")
            assert not (contract or ours), f"{path.relative_to(REPO_ROOT)} imports {module}"


@pytest.mark.parametrize("package", [name for name in PACKAGES if name not in ("kit", "peers")])
def test_a_service_imports_no_other_service(package):
    """Another service's contract is reached through its client in services.peers."""
    for path in (SERVICES_DIR / package).rglob("*.py"):
        for module in _imports(path):
            if module.startswith("services."):
                owner = module.split(".")[1]
                assert owner in (package, "kit", "peers"), f"{path.relative_to(REPO_ROOT)} imports {module}"


def test_the_peers_import_no_service():
    for path in (SERVICES_DIR / "peers").rglob("*.py"):
        for module in _imports(path):
            if module.startswith("services."):
                assert module.split(".")[1] in ("kit", "peers"), f"{path.relative_to(REPO_ROOT)} imports {module}"


def test_the_checks_see_a_forbidden_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from autosalon.sales.v1 import sales_pb2\nfrom ..sales import domain\nimport services.auth\n")
    assert _imports(probe, "services.kit") == {"autosalon.sales.v1", "services.sales", "services.auth"}
