"""The Go client (./scripts/sdk go): the module github.com/autosalon/autosalon-go in sdk/go, its
messages and gRPC stubs generated from the partner-facing protos by protoc-gen-go and
protoc-gen-go-grpc (pinned, built once from the Go module proxy), then compiled and vetted
with its examples, whose programs land in sdk/go/bin. go.mod and go.sum are committed, and so
is the hand-written package apierror (a refusal's reason and field violations); the generated
packages (sdk/go/autosalon/) are not. Nothing is done when no input changed."""
import pathlib
import shutil
import sys

from services.kit.settings import REPO_ROOT

from ..mesh import tools
from ..mesh.layout import CACHE
from .generation import Stamp, buf_generate

MODULE = "github.com/autosalon/autosalon-go"
SDK = REPO_ROOT / "sdk" / "go"
GENERATED = SDK / "autosalon"
# Written by hand, beside the generated tree, and built, vetted and tested with it.
HAND_WRITTEN = [SDK / "apierror"]
PROGRAMS = SDK / "bin"
# The runtime in go.mod must be at least as new as the generators.
PROTOC_GEN_GO_VERSION = "1.36.11"
PROTOC_GEN_GO_GRPC_VERSION = "1.6.1"


def _plugins() -> list[pathlib.Path]:
    return [
        tools.go_installed("protoc-gen-go", "google.golang.org/protobuf/cmd/protoc-gen-go", PROTOC_GEN_GO_VERSION,
                           CACHE / "bin" / f"protoc-gen-go-{PROTOC_GEN_GO_VERSION}", "under a minute"),
        tools.go_installed("protoc-gen-go-grpc", "google.golang.org/grpc/cmd/protoc-gen-go-grpc",
                           PROTOC_GEN_GO_GRPC_VERSION,
                           CACHE / "bin" / f"protoc-gen-go-grpc-{PROTOC_GEN_GO_GRPC_VERSION}", "under a minute"),
    ]


def build() -> pathlib.Path:
    """Generates and compiles the module; returns its directory."""
    if shutil.which("go") is None:
        sys.exit("go client: building it needs Go (https://go.dev/dl/), which is not on PATH")
    plugins = _plugins()
    stamp = Stamp(SDK / ".fingerprint",
                  [pathlib.Path(__file__), SDK / "go.mod", SDK / "go.sum", SDK / "examples", *HAND_WRITTEN],
                  with_protos=True)
    if stamp.fresh() and GENERATED.exists() and PROGRAMS.exists():
        tools.step("go client: up to date")
        return SDK
    tools.step("go client: buf generate + go build (the first time about a minute, fetching modules)")
    shutil.rmtree(GENERATED, ignore_errors=True)
    buf_generate(
        [{"local": str(plugin), "out": str(SDK), "opt": [f"module={MODULE}"]} for plugin in plugins],
        managed={
            "enabled": True,
            # Each package's import path under the module's; google/api keeps its own
            # (google.golang.org/genproto), which go.mod requires.
            "disable": [{"file_option": "go_package", "path": "google"}],
            "override": [{"file_option": "go_package_prefix", "value": MODULE}],
        },
    )
    tools.run(["go", "build", "-o", f"{PROGRAMS}/", "./..."], cwd=SDK)
    tools.run(["go", "vet", "./..."], cwd=SDK)
    tools.run(["go", "test", *(f"./{package.name}/..." for package in HAND_WRITTEN)], cwd=SDK)
    stamp.record()
    tools.step("go client: built")
    return SDK
