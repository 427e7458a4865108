"""What every client's build shares: buf generate over the partner-facing protos (autosalon/*,
with what they import; never mesh/ nor the emulators'), and the stamp that skips a step when
none of its inputs changed."""
import hashlib
import json
import os
import pathlib

from services.kit.settings import REPO_ROOT

from ..mesh import tools
from ..mesh.layout import VENV_BIN

PARTNER_PROTOS = REPO_ROOT / "proto" / "autosalon"
# buf's input: the partner protos, out of the proto/ module.
PARTNER_INPUT = {"directory": "proto", "paths": ["proto/autosalon"]}


def buf_generate(plugins: list[dict], managed: dict | None = None, inputs: list[dict] | None = None) -> None:
    """Runs the plugins (buf.gen.yaml v2 entries; `local:` ones only, as there is no registry
    here) over the partner protos, google/api and google/rpc taken from gen/third_party; or
    over other `inputs` (buf.gen.yaml v2 entries)."""
    tools.generate_code()
    template = {"version": "v2", "inputs": inputs or [PARTNER_INPUT], "plugins": plugins}
    if managed:
        template["managed"] = managed
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}")
    tools.run([VENV_BIN / "buf", "generate", "--template", json.dumps(template)], cwd=REPO_ROOT, env=env)


class Stamp:
    """The fingerprint of a step's inputs (files, and directories taken whole; with_protos: the
    partner protos and this module, which chooses them, too), kept in `path` once the step is
    done."""

    def __init__(self, path: pathlib.Path, inputs: list[pathlib.Path], with_protos: bool = False):
        self.path = path
        files = []
        for source in inputs + ([PARTNER_PROTOS, pathlib.Path(__file__)] if with_protos else []):
            files += sorted(f for f in source.rglob("*") if f.is_file()) if source.is_dir() else [source]
        digest = hashlib.sha256()
        for file in files:
            digest.update(str(file).encode())
            digest.update(file.read_bytes())
        self.fingerprint = digest.hexdigest()

    def fresh(self) -> bool:
        return self.path.exists() and self.path.read_text() == self.fingerprint

    def record(self) -> None:
        self.path.write_text(self.fingerprint)
