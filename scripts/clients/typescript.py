"""The TypeScript client (./scripts/sdk typescript): the package @autosalon/client in
sdk/typescript, messages and service descriptors generated from the partner-facing protos by
@bufbuild/protoc-gen-es for @connectrpc/connect, compiled by tsc with its examples into
sdk/typescript/dist with the hand-written src/ (errors.ts: a refusal's reason and field
violations, read with google/rpc/error_details, generated here too). The npm packages are the
ones package-lock.json pins, installed with `npm ci` when the lock changed; package.json, the
lock and src/ are committed, what is installed, generated or compiled is not. Nothing is done
when no input changed."""
import pathlib
import shutil
import sys

from services.kit.settings import REPO_ROOT

from ..mesh import tools
from .generation import Stamp, buf_generate

SDK = REPO_ROOT / "sdk" / "typescript"
NODE_MODULES = SDK / "node_modules"
PLUGIN = {"local": str(NODE_MODULES / ".bin" / "protoc-gen-es"), "out": str(SDK / "gen"),
          "opt": ["target=ts", "import_extension=js"]}
# No partner proto imports google/rpc (the details travel in the status, not the messages), so
# include_imports leaves it out: src/errors.ts needs ErrorInfo and BadRequest from it.
ERROR_DETAILS = {"directory": "gen/third_party", "paths": ["gen/third_party/google/rpc/error_details.proto"]}


def _install_packages() -> None:
    if shutil.which("npm") is None:
        sys.exit("typescript client: building it needs Node.js and npm (https://nodejs.org/), not on PATH")
    stamp = Stamp(NODE_MODULES / ".autosalon-fingerprint", [SDK / "package.json", SDK / "package-lock.json"])
    if stamp.fresh():
        tools.step("typescript client: npm packages up to date")
        return
    tools.step("typescript client: npm ci (the first time about 10 seconds)")
    tools.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SDK)
    stamp.record()


def build() -> pathlib.Path:
    """Generates and compiles the package; returns its directory."""
    _install_packages()
    stamp = Stamp(SDK / ".fingerprint", [pathlib.Path(__file__), SDK / "package-lock.json", SDK / "tsconfig.json",
                                         SDK / "examples", SDK / "src"], with_protos=True)
    if stamp.fresh() and (SDK / "dist").exists():
        tools.step("typescript client: up to date")
        return SDK
    tools.step("typescript client: buf generate + tsc (about 10 seconds)")
    for made in ("gen", "dist"):
        shutil.rmtree(SDK / made, ignore_errors=True)
    # google/api's descriptors too, which the protos' own refer to; the well-known types
    # come with @bufbuild/protobuf.
    buf_generate([dict(PLUGIN, include_imports=True)])
    buf_generate([PLUGIN], inputs=[ERROR_DETAILS])
    tools.run([NODE_MODULES / ".bin" / "tsc", "-p", SDK])
    stamp.record()
    tools.step("typescript client: built")
    return SDK
