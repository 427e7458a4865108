"""The local rate limits: token buckets per client address, sized by each route (routes.py).

Two filters count. The first, before any other work, holds every call to the default budget by
the route the client asked for. The second, after the transcoder, holds the methods settings'
rate_limits.strict names (register, login) to the strict budget by their gRPC route: a REST call
is counted there once it is transcoded, so every spelling of its path (a trailing slash, doubled
slashes) and native gRPC spend the one bucket of that method and address.
"""
from . import FILTERS

RATE_LIMIT = f"{FILTERS}.http.local_ratelimit.v3.LocalRateLimit"
RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit"
STRICT_LIMIT_FILTER = "autosalon.strict_rate_limit"
ALWAYS = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}


def rate_limit_filter(name: str = RATE_LIMIT_FILTER, stat_prefix: str = "rate_limit") -> dict:
    """A filter with no budget of its own: it counts by the route's (per_address_limit)."""
    return {"name": name, "typed_config": {"@type": RATE_LIMIT, "stat_prefix": stat_prefix}}


def per_address_limit(name: str, requests: int, seconds: int, limit_filter: str = RATE_LIMIT_FILTER) -> dict:
    """A route's token bucket per client address (Envoy's dynamic descriptors, one bucket per
    value), for the filter `limit_filter`. A refusal carries Retry-After: the fill interval."""
    bucket = {"max_tokens": requests, "tokens_per_fill": requests, "fill_interval": f"{seconds}s"}
    return {
        limit_filter: {
            "@type": RATE_LIMIT,
            "stat_prefix": f"rate_limit_{name}",
            # The route-wide bucket only guards Envoy itself; the per-address one is the limit.
            "token_bucket": {"max_tokens": 1_000_000, "tokens_per_fill": 1_000_000, "fill_interval": "1s"},
            "filter_enabled": ALWAYS,
            "filter_enforced": ALWAYS,
            "max_dynamic_descriptors": 10_000,
            "rate_limits": [{"actions": [{"remote_address": {}}]}],
            "descriptors": [{"entries": [{"key": "remote_address"}], "token_bucket": bucket}],
            "rate_limited_as_resource_exhausted": True,
            # A refused client may try again once the bucket refills, at most this long after.
            "response_headers_to_add": [{"header": {"key": "retry-after", "value": str(seconds)},
                                         "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}],
        }
    }
