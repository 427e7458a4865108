"""The JWT filter: every API method needs a token auth signed for this API, but the public
methods (settings' public_methods) and /health."""
import pathlib

from . import FILTERS


def jwt_filter(settings: dict, run_dir: pathlib.Path) -> dict:
    jwt = settings["jwt"]
    rules = [{"match": {"path": f"/{method}"}} for method in settings["public_methods"]]
    rules.append({"match": {"path": "/health"}})
    # Every API method is routed under its gRPC path (REST paths are rewritten to it first), so a
    # path outside the API is answered 404 whether or not a token came with it.
    rules.append({"match": {"prefix": "/autosalon."}, "requires": {"provider_name": "autosalon"}})
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": f"{FILTERS}.http.jwt_authn.v3.JwtAuthentication",
            "providers": {
                "autosalon": {
                    "issuer": jwt["issuer"],
                    "audiences": [jwt["audience"]],
                    "local_jwks": {"filename": str(run_dir / jwt["jwks_file"])},
                    # The services verify the token again and read the identity from it.
                    "forward": True,
                    "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}],
                    # A token verified once is not verified again until it expires.
                    "jwt_cache_config": {"jwt_cache_size": 10000},
                }
            },
            "rules": rules,
        },
    }
