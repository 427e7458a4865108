"""The edge's cache: keeps the answers to anonymous GETs that the service marked public, for as
long as it said (Cache-Control), on disk and bounded in size and count. Only the routes of the
public paths leave it on; every other route turns it off (CACHE_OFF, see routes.py)."""
import pathlib

from . import FILTERS

CACHE_FILTER = "envoy.filters.http.cache"
CACHE_OFF = {CACHE_FILTER: {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "disabled": True}}


def cache_filter(settings: dict, envoy_dir: pathlib.Path) -> dict:
    cache = settings["public_cache"]
    return {
        "name": CACHE_FILTER,
        "typed_config": {
            "@type": f"{FILTERS}.http.cache.v3.CacheConfig",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.http.cache."
                         "file_system_http_cache.v3.FileSystemHttpCacheConfig",
                "manager_config": {"thread_pool": {"thread_count": 1}},
                "cache_path": str(envoy_dir / "cache"),
                "max_cache_size_bytes": cache["max_megabytes"] * 1024 * 1024,
                "max_cache_entry_count": cache["max_entries"],
                "max_individual_cache_entry_size_bytes": cache["max_entry_kilobytes"] * 1024,
            },
        },
    }
