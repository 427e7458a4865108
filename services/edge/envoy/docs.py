"""The edge's /docs page: Swagger UI over the edge's own /openapi.json. Each of its files is a
direct response of Envoy's, read from the run's envoy/docs folder (render.py copies them there),
so the page works with nothing fetched from anywhere but the edge."""
from .cache import CACHE_OFF

# Path under the edge -> (file in envoy/docs, content type).
PAGE_FILES = {
    "/docs": ("index.html", "text/html; charset=utf-8"),
    "/docs/docs.js": ("docs.js", "text/javascript; charset=utf-8"),
    "/docs/swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "/docs/swagger-ui.css": ("swagger-ui.css", "text/css; charset=utf-8"),
    "/docs/favicon-32x32.png": ("favicon-32x32.png", "image/png"),
    "/docs/LICENSE": ("LICENSE", "text/plain; charset=utf-8"),
}
# The page runs the edge's scripts only and talks to the edge only. Swagger UI sets inline styles.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def docs_routes(docs_dir: str, per_filter: dict) -> list[dict]:
    routes = [{"match": {"path": "/docs/"}, "redirect": {"path_redirect": "/docs"},
               "typed_per_filter_config": {**per_filter, **CACHE_OFF}}]
    for path, (name, content_type) in PAGE_FILES.items():
        routes.append({
            "match": {"path": path},
            "direct_response": {"status": 200, "body": {"filename": f"{docs_dir}/{name}"}},
            "response_headers_to_add": [
                {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
                for key, value in (("content-type", content_type),
                                   ("content-security-policy", CONTENT_SECURITY_POLICY),
                                   ("x-content-type-options", "nosniff"),
                                   # The files change with a release: a browser asks again.
                                   ("cache-control", "no-cache"))
            ],
            "typed_per_filter_config": {**per_filter, **CACHE_OFF},
        })
    return routes
