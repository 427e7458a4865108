"""Asking a running mesh how it is: the checks `up` waits on, and the benches that stop and
start parts of the mesh wait on too."""
import socket
import sys
import time
import urllib.request

from . import access
from .layout import ENVOY_ADMIN_PORT, LOGS, SETTINGS


def get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def wait(what: str, ready, timeout: float = 90.0) -> None:
    """Until `ready()` is true (a refused connection counts as not yet), or exits naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}; logs are in {LOGS}")
        time.sleep(0.1)


def passing(service: str) -> int:
    """How many of `service`'s instances pass their checks in Consul."""
    return len(access.consul("GET", f"/v1/health/service/{service}?passing=true", SETTINGS.consul_acl_token,
                             timeout=2))


def listening(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=1):
        return True


def edge_endpoints(service: str) -> int:
    """How many of `service`'s instances the edge holds healthy."""
    clusters = get(f"http://127.0.0.1:{ENVOY_ADMIN_PORT}/clusters").decode()
    return sum(
        1 for line in clusters.splitlines()
        if line.startswith(f"{service}::") and line.endswith("::health_flags::healthy")
    )
