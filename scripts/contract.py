"""The protos against the last released contract: `buf breaking` (buf.yaml's FILE rules) between
proto/ today and proto/ as of the commit named in proto/RELEASED, so that a change which breaks
a client's generated code or wire format (a field renumbered, retyped or removed, a method gone)
fails with the field's name. The tests run it (tests/unit/test_protos.py); when a release goes
out, proto/RELEASED moves to its commit."""
import pathlib
import shutil
import subprocess

from services.kit.settings import REPO_ROOT

from .mesh.layout import VENV_BIN
from .mesh.tools import GEN

RELEASED = REPO_ROOT / "proto" / "RELEASED"


def released_commit() -> str:
    lines = [line.strip() for line in RELEASED.read_text().splitlines()]
    return next(line for line in lines if line and not line.startswith("#"))


def contract_tree(into: pathlib.Path, commit: str | None = None) -> pathlib.Path:
    """buf.yaml and proto/ (as of `commit`, or as they are now) in `into`, with the google/api and
    google/rpc protos the generated code was made with (gen/third_party, never committed)."""
    into.mkdir(parents=True, exist_ok=True)
    if commit is None:
        shutil.copyfile(REPO_ROOT / "buf.yaml", into / "buf.yaml")
        shutil.copytree(REPO_ROOT / "proto", into / "proto")
    else:
        archive = subprocess.run(["git", "archive", commit, "buf.yaml", "proto"], cwd=REPO_ROOT,
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    shutil.copytree(GEN / "third_party", into / "gen" / "third_party")
    return into


def breaking(current: pathlib.Path, released: pathlib.Path) -> subprocess.CompletedProcess:
    """`buf breaking` of the tree `current` against the tree `released`: exit 0 when compatible,
    else 100 with a line per change that breaks a client."""
    return subprocess.run([VENV_BIN / "buf", "breaking", current, "--against", released],
                          capture_output=True, text=True)
