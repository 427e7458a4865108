"""CORS: the answers to the browser origins allowed (settings' cors_origins, and with
cors_localhost any http://localhost:<port> or http://127.0.0.1:<port>, for development) carry
their permission. The preflights themselves are answered by the Lua filter (strict_json), as no
route serves OPTIONS."""
from .. import strict_json
from . import FILTERS
from .grpc_web import STATUS_HEADERS

CORS_FILTER = "envoy.filters.http.cors"
# RE2, matched against the whole origin: a front end's dev server on this machine.
LOCALHOST_ORIGIN = r"http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?"


def cors_filter() -> dict:
    """The filter, acting by the virtual host's policy (cors_policy)."""
    return {"name": CORS_FILTER, "typed_config": {"@type": f"{FILTERS}.http.cors.v3.Cors"}}


def cors_policy(settings: dict) -> dict:
    """The virtual host's policy; none when no origin is allowed."""
    allowed = [{"exact": origin} for origin in settings["cors_origins"]]
    if settings["cors_localhost"]:
        allowed.append({"safe_regex": {"regex": LOCALHOST_ORIGIN}})
    if not allowed:
        return {}
    return {CORS_FILTER: {
        "@type": f"{FILTERS}.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": allowed,
        "allow_methods": strict_json.CORS_METHODS,
        "allow_headers": strict_json.CORS_HEADERS,
        "expose_headers": f"x-request-id, {STATUS_HEADERS}",
        "max_age": strict_json.CORS_MAX_AGE,
    }}
