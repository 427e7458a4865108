"""CORS: the answers to the browser origins allowed (settings' cors_origins) carry their
permission. The preflights themselves are answered by the Lua filter (strict_json), as no route
serves OPTIONS."""
from .. import strict_json
from . import FILTERS

CORS_FILTER = "envoy.filters.http.cors"


def cors_filter() -> dict:
    """The filter, acting by the virtual host's policy (cors_policy)."""
    return {"name": CORS_FILTER, "typed_config": {"@type": f"{FILTERS}.http.cors.v3.Cors"}}


def cors_policy(settings: dict) -> dict:
    """The virtual host's policy; none when no origin is allowed."""
    if not settings["cors_origins"]:
        return {}
    return {CORS_FILTER: {
        "@type": f"{FILTERS}.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": [{"exact": origin} for origin in settings["cors_origins"]],
        "allow_methods": strict_json.CORS_METHODS,
        "allow_headers": strict_json.CORS_HEADERS,
        "expose_headers": "x-request-id",
        "max_age": strict_json.CORS_MAX_AGE,
    }}
