"""Nothing secret is committed: no private key, no signed token, no key file, and the folders
./scripts/up writes its keys and data into stay out of git."""
import re
import subprocess

import pytest

from services.kit.settings import REPO_ROOT
from tests.image import dockerignore_patterns, ignored

SECRETS = {
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a signed JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"),
    "an AWS access key": re.compile(r"AKIA[0-9A-Z]{16}"),
}


def _tracked() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name]


def _found(text: str) -> list[str]:
    return [what for what, pattern in SECRETS.items() if pattern.search(text)]


# The showroom's, the tests' and the benches' meshes (scripts/sandbox.sh).
RUN_FOLDERS = (".run", ".run-test", ".run-bench")


def test_no_tracked_file_holds_a_secret():
    offenders = {}
    for name in _tracked():
        path = REPO_ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        found = _found(path.read_text(errors="replace"))
        if found:
            offenders[name] = found
    assert offenders == {}


def test_no_key_file_and_no_run_folder_is_tracked():
    tracked = _tracked()
    assert not [name for name in tracked if name.endswith((".pem", ".key", ".p12", ".pfx"))]
    assert not [name for name in tracked if name.split("/")[0] in (*RUN_FOLDERS, ".venv", "gen")]
    ignored = (REPO_ROOT / ".gitignore").read_text().split()
    assert {*(f"{folder}/" for folder in RUN_FOLDERS), ".venv/", "gen/"} <= set(ignored)


def test_no_run_folder_goes_into_the_image():
    """Each mesh's folder holds its keys and credentials: none is copied into a container."""
    patterns = dockerignore_patterns()
    assert all(ignored(f"{folder}/keys/credentials.json", patterns) for folder in RUN_FOLDERS)


# Assembled here, so that this file holds no secret-shaped text itself.
@pytest.mark.parametrize("secret", [
    "-----BEGIN EC " + "PRIVATE KEY-----\nMHcCAQEE...",
    "token = eyJhbGciOiJFUzI1NiJ9" + ".eyJzdWIiOiJ1MSJ9" + ".c2lnbmF0dXJlLXNpZ25hdHVyZQ",
])
def test_the_scan_sees_a_secret(secret):
    assert _found(secret)
