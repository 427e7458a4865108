"""Renders Envoy's bootstrap for the edge from the protos' descriptor set and envoy/edge.yaml.

Every gRPC service in a package `autosalon.<name>.v1` becomes a cluster `<name>` (its Consul
service name) whose endpoints come from `<run>/envoy/eds/<name>.yaml`, kept current by
eds_sync; REST routes come from the google.api.http annotations through the transcoder. The
bootstrap's parts, a module each, are in the envoy package.

Environment overrides: AUTOSALON_EDGE_ADDRESS / AUTOSALON_EDGE_PORT, AUTOSALON_ENVOY_ADMIN_ADDRESS /
AUTOSALON_ENVOY_ADMIN_PORT,
AUTOSALON_EDGE_STRICT_REQUESTS / AUTOSALON_EDGE_STRICT_SECONDS (login and register, per client
address), AUTOSALON_EDGE_DEFAULT_REQUESTS / AUTOSALON_EDGE_DEFAULT_SECONDS (everything else),
AUTOSALON_EDGE_CORS_ORIGINS (the browser origins allowed to call the API, comma-separated),
AUTOSALON_EDGE_CORS_LOCALHOST (true: any http://localhost:<port> origin too, for development).
"""
import argparse
import json
import os
import pathlib
import shutil

import yaml
from google.api import resource_pb2
from google.protobuf import descriptor_pb2

from services.kit import settings as mesh_settings
from services.kit.stats import declared_version

from . import openapi

from .envoy.access_log import access_log_path
from .envoy.bootstrap import bootstrap
from .envoy.clusters import endpoints


def mesh_services(descriptors: pathlib.Path) -> dict[str, list[str]]:
    """Consul name -> full gRPC service names, for every autosalon.<name>.v1 package."""
    found: dict[str, list[str]] = {}
    file_set = descriptor_pb2.FileDescriptorSet.FromString(descriptors.read_bytes())
    for file in file_set.file:
        parts = file.package.split(".")
        if len(parts) == 3 and parts[0] == "autosalon" and parts[2] == "v1":
            for service in file.service:
                found.setdefault(parts[1], []).append(f"{file.package}.{service.name}")
    return found


def resource_patterns(descriptors: pathlib.Path) -> list[str]:
    """The google.api.resource patterns of the API's messages ("models/{model}/trims/{trim}")."""
    file_set = descriptor_pb2.FileDescriptorSet.FromString(descriptors.read_bytes())
    return [pattern for file in file_set.file if file.package.startswith("autosalon.")
            for message in file.message_type if message.options.HasExtension(resource_pb2.resource)
            for pattern in message.options.Extensions[resource_pb2.resource].pattern]


def _settings(path: pathlib.Path) -> dict:
    settings = yaml.safe_load(path.read_text())
    env = os.environ.get
    settings["listener"]["address"] = env("AUTOSALON_EDGE_ADDRESS", settings["listener"]["address"])
    settings["listener"]["port"] = int(env("AUTOSALON_EDGE_PORT", settings["listener"]["port"]))
    settings["admin"]["address"] = env("AUTOSALON_ENVOY_ADMIN_ADDRESS", settings["admin"]["address"])
    settings["admin"]["port"] = int(env("AUTOSALON_ENVOY_ADMIN_PORT", settings["admin"]["port"]))
    for bucket in ("strict", "default"):
        limits = settings["rate_limits"][bucket]
        limits["requests"] = int(env(f"AUTOSALON_EDGE_{bucket.upper()}_REQUESTS", limits["requests"]))
        limits["per_seconds"] = int(env(f"AUTOSALON_EDGE_{bucket.upper()}_SECONDS", limits["per_seconds"]))
    origins = env("AUTOSALON_EDGE_CORS_ORIGINS", ",".join(settings["cors_origins"]))
    settings["cors_origins"] = [origin.strip() for origin in origins.split(",") if origin.strip()]
    settings["cors_localhost"] = mesh_settings.truth(env("AUTOSALON_EDGE_CORS_LOCALHOST", str(settings["cors_localhost"])))
    # The mesh's own setting, so that the edge samples the traces the services sample.
    settings["trace_percent"] = mesh_settings.load().trace_percent
    return settings


def write_atomically(path: pathlib.Path, content: str | bytes) -> None:
    """Envoy watches the folder: it must only ever see whole files."""
    partial = path.with_name(f".{path.name}.partial")
    if isinstance(content, bytes):
        partial.write_bytes(content)
    else:
        partial.write_text(content)
    os.rename(partial, path)


def openapi_document(descriptors: pathlib.Path, services: dict[str, list[str]], public_methods: list[str]) -> dict:
    """The OpenAPI document the edge serves: protoc-gen-openapiv2's, made beside the descriptor
    set, completed by openapi.py. The declared version: a commit that changes no proto leaves
    the document as it was."""
    generated = json.loads((descriptors.parent / "openapi" / "autosalon.swagger.json").read_text())
    return openapi.completed(generated, declared_version(), public_methods,
                             [name for names in services.values() for name in names], resource_patterns(descriptors))


# The docs page's own files; Swagger UI's come from the npm registry (scripts/mesh/tools.py).
DOCS_PAGE = pathlib.Path(__file__).parent / "docs"


def _copy_docs_page(swagger_ui: pathlib.Path, docs_dir: pathlib.Path) -> None:
    docs_dir.mkdir(exist_ok=True)
    for source in [*DOCS_PAGE.iterdir(), *swagger_ui.iterdir()]:
        write_atomically(docs_dir / source.name, source.read_bytes())


def render(descriptors: pathlib.Path, settings_file: pathlib.Path, run_dir: pathlib.Path,
           swagger_ui: pathlib.Path) -> pathlib.Path:
    services = mesh_services(descriptors)
    settings = _settings(settings_file)
    envoy_dir = run_dir / "envoy"
    (envoy_dir / "eds").mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    (envoy_dir / "cache").mkdir(exist_ok=True)
    # Envoy reads its own copy, so regenerating code never changes a running edge underneath it.
    shutil.copyfile(descriptors, envoy_dir / "descriptors.binpb")
    for cluster in services:
        eds_file = envoy_dir / "eds" / f"{cluster}.yaml"
        if not eds_file.exists():
            write_atomically(eds_file, yaml.safe_dump(endpoints(cluster, [])))
    write_atomically(envoy_dir / "clusters.json", json.dumps(sorted(services)))
    write_atomically(envoy_dir / "limits.json", json.dumps(settings["rate_limits"], indent=2))
    settings["openapi_file"] = str(envoy_dir / "openapi.json")
    write_atomically(envoy_dir / "openapi.json", json.dumps(
        openapi_document(descriptors, services, settings["public_methods"]), indent=1, sort_keys=True))
    settings["docs_dir"] = str(envoy_dir / "docs")
    _copy_docs_page(swagger_ui, envoy_dir / "docs")
    rotation = {
        "path": str(access_log_path(run_dir)),
        "max_bytes": settings["access_log"]["max_megabytes"] * 1024 * 1024,
        "backups": settings["access_log"]["backups"],
        "admin_url": f"http://{settings['admin']['address']}:{settings['admin']['port']}",
    }
    write_atomically(envoy_dir / "access_log.json", json.dumps(rotation, indent=2))
    output = envoy_dir / "envoy.yaml"
    write_atomically(output, yaml.safe_dump(bootstrap(services, settings, run_dir), sort_keys=False))
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descriptors", type=pathlib.Path, required=True)
    parser.add_argument("--settings", type=pathlib.Path, required=True)
    parser.add_argument("--run-dir", type=pathlib.Path, required=True)
    parser.add_argument("--swagger-ui", type=pathlib.Path, required=True,
                        help="the folder of Swagger UI's files for the docs page")
    args = parser.parse_args()
    print(render(args.descriptors, args.settings, args.run_dir.resolve(), args.swagger_ui))


if __name__ == "__main__":
    main()
