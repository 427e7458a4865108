"""Envoy's bootstrap for the edge: its admin interface, its two listeners, its clusters, and a
cap on client connections."""
import pathlib

from .clusters import clusters
from .listeners import api_listener, edge_listener


def bootstrap(services: dict[str, list[str]], settings: dict, run_dir: pathlib.Path) -> dict:
    return {
        "node": {"id": "autosalon-edge", "cluster": "autosalon-edge"},
        "admin": {"address": {"socket_address": {
            "address": settings["admin"]["address"], "port_value": settings["admin"]["port"]}}},
        "static_resources": {
            "listeners": [edge_listener(services, settings, run_dir), api_listener(services, settings, run_dir)],
            "clusters": clusters(services, run_dir / "envoy"),
        },
        "bootstrap_extensions": [{
            "name": "envoy.bootstrap.internal_listener",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.bootstrap."
                                      "internal_listener.v3.InternalListener"},
        }],
        # A flood of idle connections must not take Envoy's file descriptors and memory.
        "overload_manager": {"resource_monitors": [{
            "name": "envoy.resource_monitors.global_downstream_max_connections",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.resource_monitors."
                         "downstream_connections.v3.DownstreamConnectionsConfig",
                "max_active_downstream_connections": settings["max_downstream_connections"],
            },
        }]},
    }
