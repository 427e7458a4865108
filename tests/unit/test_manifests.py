"""Service manifests: every service declares itself once, and the scripts find a new one."""
import subprocess
import sys

import pytest

from scripts.mesh import cores, layout
from services.kit.manifest import Service, every_service, hook
from services.kit.settings import REPO_ROOT

SERVICES = ("auth", "booking", "catalog", "config", "customer", "financing", "insurance", "inventory", "monitoring", "notification", "overview",
            "payment", "pricing", "reporting", "sales")


def test_the_mesh_runs_every_service_that_declares_itself():
    assert tuple(layout.SERVICES) == SERVICES
    assert all(manifest.name == name and manifest.module == f"services.{name}.main"
               for name, manifest in layout.SERVICES.items())
    assert {name: manifest.instances for name, manifest in layout.SERVICES.items()
            if manifest.instances > 1} == {"auth": 2, "booking": 2, "catalog": 2, "financing": 2, "inventory": 2, "payment": 2, "pricing": 2, "sales": 2}


def test_a_new_service_is_its_folder(tmp_path, monkeypatch):
    """What adding a service takes: a package with a main.py and a SERVICE; a folder without
    either is not a service."""
    parent = tmp_path / "newmesh"
    (parent / "showroom").mkdir(parents=True)
    (parent / "__init__.py").write_text("")
    (parent / "showroom" / "__init__.py").write_text(
        "from services.kit.manifest import Service\nSERVICE = Service('showroom', instances=3, core_weight=4.0)\n")
    (parent / "showroom" / "main.py").write_text("")
    (parent / "helpers").mkdir()
    (parent / "helpers" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        found = every_service(parent, "newmesh")
    finally:
        for module in [name for name in sys.modules if name.startswith("newmesh")]:
            del sys.modules[module]
    assert list(found) == ["showroom"]
    assert found["showroom"] == Service("showroom", instances=3, core_weight=4.0)


def test_core_weights_come_from_the_manifests():
    assert cores.LOAD_PER_PURCHASE == {name: manifest.core_weight for name, manifest in layout.SERVICES.items()}
    assert max(cores.LOAD_PER_PURCHASE, key=cores.LOAD_PER_PURCHASE.get) == "sales"


@pytest.mark.parametrize("name", [name for name in SERVICES if layout.SERVICES[name].seed or layout.SERVICES[name].demo])
def test_every_hook_a_manifest_names_exists(name):
    manifest = layout.SERVICES[name]
    for reference in filter(None, (manifest.seed, manifest.demo)):
        assert callable(hook(reference))


def test_the_manifests_import_without_the_generated_code():
    """./scripts/up reads every manifest before it generates the code (a fresh clone has none):
    a manifest and its settings import nothing heavier than the kit's manifest and settings."""
    probe = ("import sys; sys.path = [p for p in sys.path if not p.rstrip('/').endswith('gen/python')]; "
             "from services.kit.manifest import every_service; every_service(); "
             "assert 'autosalon' not in sys.modules, 'generated code imported'")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
