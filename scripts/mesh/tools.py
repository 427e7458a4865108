"""The pieces a mesh needs before it can start: Consul, Mailpit, generated code, signing keys,
Swagger UI for the edge's docs page; and the browser the tests drive it with."""
import base64
import hashlib
import importlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

import google.api

from services.kit.settings import REPO_ROOT

from .layout import CACHE, SETTINGS, VENV_BIN

CONSUL_VERSION = "1.16.3"
CONSUL_BINARY = CACHE / "bin" / f"consul-{CONSUL_VERSION}"
MAILPIT_VERSION = "1.33.1"
MAILPIT_BINARY = CACHE / "bin" / f"mailpit-{MAILPIT_VERSION}"
# The version scripts/protoc-gen-openapiv2 runs, too.
OPENAPI_PLUGIN_VERSION = "2.34.0"
OPENAPI_PLUGIN = CACHE / "bin" / f"protoc-gen-openapiv2-{OPENAPI_PLUGIN_VERSION}"
# Swagger UI's browser build, which the edge serves at /docs; the integrity is the npm registry's
# own for that release, checked again here.
SWAGGER_UI_VERSION = "5.35.0"
SWAGGER_UI_INTEGRITY = "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ=="
SWAGGER_UI = CACHE / f"swagger-ui-dist-{SWAGGER_UI_VERSION}"
SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE")
GEN = REPO_ROOT / "gen"
DESCRIPTORS = GEN / "descriptors.binpb"
OPENAPI = GEN / "openapi" / "autosalon.swagger.json"


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(command: list, **kwargs) -> None:
    subprocess.run([str(part) for part in command], check=True, **kwargs)


def ensure_consul() -> pathlib.Path:
    """Builds Consul from the Go module proxy once, cached outside the checkout."""
    if CONSUL_BINARY.exists():
        step(f"consul {CONSUL_VERSION}: cached at {CONSUL_BINARY}")
        return CONSUL_BINARY
    if shutil.which("go") is None:
        sys.exit("consul: building it needs Go (https://go.dev/dl/), which is not on PATH")
    step(f"consul {CONSUL_VERSION}: building with Go (first time only, about 6 minutes)")
    CONSUL_BINARY.parent.mkdir(parents=True, exist_ok=True)
    partial = CONSUL_BINARY.with_suffix(".partial")
    env = dict(os.environ, CGO_ENABLED="0", GOSUMDB="off", GOFLAGS="-mod=mod")
    run(
        ["go", "build", "-trimpath", "-ldflags=-checklinkname=0", "-o", partial,
         "github.com/hashicorp/consul"],
        cwd=REPO_ROOT / "consul" / "build",
        env=env,
    )
    partial.rename(CONSUL_BINARY)
    step(f"consul {CONSUL_VERSION}: built")
    return CONSUL_BINARY


def go_installed(name: str, module: str, version: str, binary: pathlib.Path, how_long: str,
                 command: str = "") -> pathlib.Path:
    """`binary`, built from the Go module proxy's `module`@v`version` the first time, cached
    outside the checkout. `command`: the name Go gives what it builds, when it is not the
    module path's last part (a major version suffix: .../kustomize/v5)."""
    if binary.exists():
        step(f"{name} {version}: cached at {binary}")
        return binary
    if shutil.which("go") is None:
        sys.exit(f"{name}: building it needs Go (https://go.dev/dl/), which is not on PATH")
    step(f"{name} {version}: building with Go (first time only, {how_long})")
    built = binary.parent / f"{name}-{version}.build"
    env = dict(os.environ, CGO_ENABLED="0", GOBIN=str(built), GOFLAGS="-mod=mod")
    run(["go", "install", "-trimpath", f"{module}@v{version}"], env=env)
    (built / (command or module.rsplit("/", 1)[1])).rename(binary)
    shutil.rmtree(built, ignore_errors=True)
    step(f"{name} {version}: built")
    return binary


def ensure_mailpit() -> pathlib.Path:
    """Mailpit, the mesh's mail server (SMTP in, an API to read what arrived)."""
    return go_installed("mailpit", "github.com/axllent/mailpit", MAILPIT_VERSION, MAILPIT_BINARY, "about a minute")


def ensure_openapi_plugin() -> pathlib.Path:
    """grpc-gateway's protoc-gen-openapiv2, for the edge's OpenAPI document."""
    return go_installed("protoc-gen-openapiv2", "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2",
                         OPENAPI_PLUGIN_VERSION, OPENAPI_PLUGIN, "under a minute")


def ensure_swagger_ui() -> pathlib.Path:
    """Swagger UI's files for the edge's /docs page, from the npm registry once, cached outside
    the checkout: the page fetches nothing from elsewhere."""
    if all((SWAGGER_UI / name).exists() for name in SWAGGER_UI_FILES):
        step(f"swagger-ui {SWAGGER_UI_VERSION}: cached at {SWAGGER_UI}")
        return SWAGGER_UI
    if shutil.which("npm") is None:
        sys.exit("swagger-ui: fetching it needs npm (https://nodejs.org/), which is not on PATH")
    step(f"swagger-ui {SWAGGER_UI_VERSION}: fetching from the npm registry (first time only, seconds)")
    with tempfile.TemporaryDirectory() as work:
        run(["npm", "pack", "--silent", f"swagger-ui-dist@{SWAGGER_UI_VERSION}", "--pack-destination", work],
            stdout=subprocess.DEVNULL)
        tarball = next(pathlib.Path(work).glob("*.tgz"))
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if integrity != SWAGGER_UI_INTEGRITY:
            sys.exit(f"swagger-ui: {tarball.name} is not the release pinned in scripts/mesh/tools.py ({integrity})")
        partial = SWAGGER_UI.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        with tarfile.open(tarball) as archive:
            for name in SWAGGER_UI_FILES:
                (partial / name).write_bytes(archive.extractfile(f"package/{name}").read())
        partial.rename(SWAGGER_UI)
    return SWAGGER_UI


def ensure_test_browser() -> pathlib.Path:
    """Chromium from the system's packages, which the docs page's tests drive through Playwright."""
    found = shutil.which("chromium")
    if found:
        step(f"chromium: installed at {found}")
        return pathlib.Path(found)
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        sys.exit("chromium: the docs page's tests need it; install Debian's `chromium` package (as root: "
                 "apt-get install chromium)")
    step("chromium: installing Debian's package (first time only, about a minute)")
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        # A fresh machine may have no package lists yet.
        run(["apt-get", "update"], env=env, stdout=subprocess.DEVNULL)
        run(install, env=env, stdout=subprocess.DEVNULL)
    return pathlib.Path(shutil.which("chromium"))


def _proto_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "proto").rglob("*.proto")) + [
        REPO_ROOT / "buf.yaml",
        REPO_ROOT / "buf.gen.yaml",
        REPO_ROOT / "buf.gen.openapi.yaml",
        REPO_ROOT / "scripts" / "protoc-gen-autosalon-python",
        REPO_ROOT / "scripts" / "protoc-gen-openapiv2",
    ]:
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_fingerprint() -> str:
    """Changes whenever the services' code or the generated code does."""
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "services").rglob("*.py")) + [DESCRIPTORS]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def generate_code() -> None:
    """Python stubs, the descriptor set (for Envoy's transcoder) and the OpenAPI document from proto/."""
    stamp = GEN / ".fingerprint"
    fingerprint = _proto_fingerprint()
    if DESCRIPTORS.exists() and OPENAPI.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        step("generated code: up to date")
        return
    step("generated code: buf generate + descriptor set")
    shutil.rmtree(GEN, ignore_errors=True)
    # buf has no registry to fetch google/api and google/rpc from here: take the protos
    # googleapis-common-protos ships.
    site_packages = pathlib.Path(google.api.__path__[0]).parents[1]
    for package in ("api", "rpc"):
        for proto in (site_packages / "google" / package).rglob("*.proto"):
            target = GEN / "third_party" / proto.relative_to(site_packages)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(proto, target)
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}")
    run([VENV_BIN / "buf", "generate"], cwd=REPO_ROOT, env=env)
    run([VENV_BIN / "buf", "build", "-o", DESCRIPTORS], cwd=REPO_ROOT, env=env)
    run([VENV_BIN / "buf", "generate", "--template", "buf.gen.openapi.yaml"], cwd=REPO_ROOT, env=env)
    stamp.write_text(fingerprint)
    _importable(GEN / "python")


def _importable(directory: pathlib.Path) -> None:
    """Lets this process import code generated after it started.

    The venv's .pth file names gen/python, but Python skips a directory that does not exist
    yet at start-up, which is so on a fresh clone.
    """
    entry = str(directory)
    sys.path_importer_cache.pop(entry, None)
    if entry not in sys.path:
        sys.path.append(entry)
    importlib.invalidate_caches()


def ensure_keys() -> None:
    """The auth service's signing key and the JWKS that Envoy and the services verify with."""
    from services.auth.tokens import TokenSigner, generate_signing_key

    key_file, jwks_file = SETTINGS.signing_key_path, SETTINGS.jwks_path
    if key_file.exists() and jwks_file.exists():
        step(f"signing keys: present in {key_file.parent}")
        return
    step("signing keys: generating an ES256 key")
    key_file.parent.mkdir(parents=True, exist_ok=True)
    pem, kid = generate_signing_key()
    key_file.touch(mode=0o600)
    key_file.write_bytes(pem)
    jwks_file.write_text(json.dumps(TokenSigner(pem, kid).jwks(), indent=2))
