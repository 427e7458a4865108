"""The edge's clusters: one per mesh service, named as Consul names it, its endpoints read from
the EDS file eds_sync keeps current (endpoints()); and the internal API listener's."""
import pathlib

from .routes import API_LISTENER


def _service_cluster(cluster: str, envoy_dir: pathlib.Path) -> dict:
    return {
        "name": cluster,
        "type": "EDS",
        "connect_timeout": "1s",
        "lb_policy": "ROUND_ROBIN",
        # An instance that refuses connections (killed a moment ago) is set aside at once for a
        # few seconds, rather than until Consul's next check; never more than half of them.
        "outlier_detection": {
            "split_external_local_origin_errors": True, "consecutive_local_origin_failure": 1,
            "interval": "1s", "base_ejection_time": "5s", "max_ejection_percent": 50,
        },
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "eds_cluster_config": {
            "eds_config": {
                "path_config_source": {
                    "path": str(envoy_dir / "eds" / f"{cluster}.yaml"),
                    "watched_directory": {"path": str(envoy_dir / "eds")},
                },
                "resource_api_version": "V3",
            }
        },
    }


def clusters(services: dict[str, list[str]], envoy_dir: pathlib.Path) -> list[dict]:
    api_listener = {
        "name": API_LISTENER,
        "connect_timeout": "1s",
        "load_assignment": {"cluster_name": API_LISTENER, "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": {"envoy_internal_address": {"server_listener_name": API_LISTENER}}}}
        ]}]},
    }
    return [_service_cluster(cluster, envoy_dir) for cluster in sorted(services)] + [api_listener]


def endpoints(cluster: str, targets: list[tuple[str, int]]) -> dict:
    """An EDS resource (ClusterLoadAssignment) for the file eds_sync keeps current."""
    return {
        "resources": [{
            "@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
            "cluster_name": cluster,
            "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {"address": host, "port_value": port}}}}
                for host, port in targets
            ]}],
        }]
    }
