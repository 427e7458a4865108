"""Envoy's bootstrap for the edge, one module per part: bootstrap.py assembles the listeners
(listeners.py, with their routes and HTTP filters) and the clusters (clusters.py)."""

# The type URL of every filter's typed config (network and HTTP) starts with this.
FILTERS = "type.googleapis.com/envoy.extensions.filters"
