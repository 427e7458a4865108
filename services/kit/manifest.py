"""A service's manifest: what the scripts, the compose file, core placement and the bench need
to know of it, declared once as `SERVICE` in its package (`services/<name>/__init__.py`).

Adding a service is its folder and its proto: `./scripts/up` finds every package here with a
`SERVICE`, creates its database, runs its migrations and its seed, starts its instances as
`python -m services.<name>.main` and waits for them in Consul and at the edge.

The package's `__init__.py` holds only the manifest (and the settings class it names), so
reading every manifest imports nothing heavier than this module.
"""
import dataclasses
import importlib
import pathlib
from typing import Any, Callable

_SERVICES = pathlib.Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Service:
    name: str
    # How many instances `./scripts/up` runs (AUTOSALON_<NAME>_INSTANCES overrides).
    instances: int = 1
    # CPU the service spends per purchase in the saga bench (ms): which instances share a core.
    core_weight: float = 0.0
    # The service's settings (kit.settings), beside the mesh's; None when it has none of its own.
    settings: type | None = None
    # "module:function" run once its database is migrated, before the mesh starts, with the
    # mesh's Settings (the initial admin, a demo catalogue); idempotent.
    seed: str | None = None
    # "module:function" run once the whole mesh is up, with the mesh's Settings and the edge's
    # address (demo data that must go through the other services); idempotent.
    demo: str | None = None

    @property
    def module(self) -> str:
        return f"services.{self.name}.main"


def hook(reference: str) -> Callable[..., Any]:
    """The function a "module:function" reference names."""
    module, _, function = reference.partition(":")
    return getattr(importlib.import_module(module), function)


def every_service(folder: pathlib.Path = _SERVICES, parent: str = "services") -> dict[str, Service]:
    """Every service's manifest, by name, in name order: each package in `folder` (importable
    as `parent`.<name>) with a main.py and a SERVICE."""
    found = {}
    for package in sorted(folder.iterdir()):
        if (package / "__init__.py").exists() and (package / "main.py").exists():
            manifest = getattr(importlib.import_module(f"{parent}.{package.name}"), "SERVICE", None)
            if manifest is not None:
                found[manifest.name] = manifest
    return found
