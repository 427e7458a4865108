"""requirements.lock, what scripts/venv.sh installs, against the pins in pyproject.toml.

Run ./scripts/lock after changing a pin; these fail until the lock agrees again.
"""
import pathlib
import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

# From this file, not services.kit: the lock is checked even when the services do not import.
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
# uv's annotation for a requirement that comes from pyproject.toml itself.
FROM_PYPROJECT = "autosalon (pyproject.toml)"
SHA256 = re.compile(r"sha256:[0-9a-f]{64}")


def direct_pins(pyproject):
    """{canonical name: version} of `dependencies` and every optional-dependencies group."""
    project = tomllib.loads(pyproject.read_text())["project"]
    pins = {}
    for line in project["dependencies"] + sum(project["optional-dependencies"].values(), []):
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{line}: pyproject pins exactly"
        pins[canonicalize_name(requirement.name)] = Version(specifier.version)
    return pins


def lock_entries(lock):
    """[(requirement, hashes, annotation)] per entry, backslash continuations joined."""
    entries = []
    for line in lock.read_text().replace("\\\n", " ").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.lstrip().startswith("#"):
            # A "# via ..." line belongs to the entry above it.
            entries[-1][2].append(line.strip("# "))
            continue
        requirement = line.split(" --hash=")[0].strip()
        entries.append((Requirement(requirement), re.findall(r"--hash=(\S+)", line), []))
    return entries


def pinned_version(requirement):
    specifiers = list(requirement.specifier)
    if len(specifiers) == 1 and specifiers[0].operator == "==" and "*" not in specifiers[0].version:
        return Version(specifiers[0].version)
    return None


def test_every_lock_entry_is_an_exact_version_with_hashes():
    entries = lock_entries(REPO_ROOT / "requirements.lock")
    assert len(entries) > 30
    for requirement, hashes, _ in entries:
        assert pinned_version(requirement), f"{requirement} is not pinned with =="
        assert hashes, f"{requirement} has no hash"
        for digest in hashes:
            assert SHA256.fullmatch(digest), f"{requirement}: {digest} is not a sha256"


def test_every_direct_pin_is_in_the_lock_at_its_version():
    # A set per name: a universal lock may list a package once per platform it forks on.
    locked = {}
    for requirement, _, _ in lock_entries(REPO_ROOT / "requirements.lock"):
        name = canonicalize_name(requirement.name)
        locked.setdefault(name, set()).add(pinned_version(requirement))
    for name, version in direct_pins(REPO_ROOT / "pyproject.toml").items():
        assert name in locked, f"{name} is pinned in pyproject.toml but missing from the lock"
        assert locked[name] == {version}, f"{name}: pyproject.toml {version}, lock {locked[name]}"


def test_the_lock_has_no_direct_requirement_pyproject_dropped():
    from_pyproject = {
        canonicalize_name(requirement.name)
        for requirement, _, annotation in lock_entries(REPO_ROOT / "requirements.lock")
        if FROM_PYPROJECT in " ".join(annotation)
    }
    pinned = set(direct_pins(REPO_ROOT / "pyproject.toml"))
    assert not from_pyproject - pinned, f"no longer in pyproject.toml: {from_pyproject - pinned}"
    assert not pinned - from_pyproject, f"not in the lock as direct: {pinned - from_pyproject}"


def test_venv_sh_finds_pip_and_the_sdist_build_backend_in_the_lock():
    # venv.sh installs pip from the lock first, and builds the one sdist with its setuptools.
    lock = lock_entries(REPO_ROOT / "requirements.lock")
    assert {"pip", "setuptools"} <= {canonicalize_name(r.name) for r, _, _ in lock}
