"""The local rate limit: a token bucket per client address, sized by each route (routes.py):
the strict budget for the methods settings' rate_limits.strict names and their REST paths, the
default one for every other call."""
from ..api import Api
from . import FILTERS

RATE_LIMIT = f"{FILTERS}.http.local_ratelimit.v3.LocalRateLimit"
RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit"
ALWAYS = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}


def rate_limit_filter() -> dict:
    """The filter, with no budget of its own: it counts by the route's (per_address_limit)."""
    return {"name": RATE_LIMIT_FILTER, "typed_config": {"@type": RATE_LIMIT, "stat_prefix": "rate_limit"}}


def per_address_limit(name: str, requests: int, seconds: int) -> dict:
    """A route's token bucket per client address (Envoy's dynamic descriptors, one bucket per value)."""
    bucket = {"max_tokens": requests, "tokens_per_fill": requests, "fill_interval": f"{seconds}s"}
    return {
        RATE_LIMIT_FILTER: {
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
        }
    }


def strict_rest_paths(api: Api, methods: list[str]) -> list[str]:
    """The REST paths of the strictly limited methods (fixed paths: register, login)."""
    paths = []
    for method in api.methods:
        if method.full_name in methods:
            if method.bound:
                raise ValueError(f"{method.full_name}: a strictly limited method needs a fixed REST path, "
                                 f"not {method.template}")
            paths.append(method.template)
    return sorted(paths)
