"""The test session's mesh: integration and end-to-end tests run against the real one.

The first test that needs it starts the whole mesh with ./scripts/up's own code; the session
stops it again at the end, unless it was already running before the tests began.
"""
import os
import subprocess
import sys

import pytest

from scripts.mesh import supervisor
from services.kit.settings import REPO_ROOT, load


# The suite registers and signs in far more often than one person would; the burst test
# reads this limit back and goes past it.
TEST_STRICT_LIMIT = "300"
# An access token's life in the test mesh: an hour, past the suite's length.
TEST_ACCESS_TOKEN_SECONDS = 3600
# A web front end on another origin, for the CORS tests.
TEST_WEB_ORIGIN = "http://shop.autosalon.test"


@pytest.fixture(scope="session")
def mesh():
    os.environ.setdefault("AUTOSALON_EDGE_STRICT_REQUESTS", TEST_STRICT_LIMIT)
    os.environ.setdefault("AUTOSALON_EDGE_CORS_ORIGINS", TEST_WEB_ORIGIN)
    os.environ.setdefault("AUTOSALON_EDGE_CORS_LOCALHOST", "true")
    # The session's sign-ins (a client, a manager) serve the whole suite, which runs longer than
    # the default 15 minutes an access token lives; the expiry tests sign expired tokens themselves.
    os.environ.setdefault("AUTOSALON_ACCESS_TOKEN_TTL", str(TEST_ACCESS_TOKEN_SECONDS))
    was_running = supervisor.running()
    try:
        subprocess.run([sys.executable, "-m", "scripts.mesh", "up"], cwd=REPO_ROOT, check=True)
        yield load()
    finally:
        # Also when it failed to come up: a half-started mesh must not hold the ports.
        if not was_running and not os.environ.get("AUTOSALON_KEEP_MESH"):
            # CI's checkout is thrown away afterwards: take its database cluster along.
            purge = ["--purge"] if os.environ.get("CI") else []
            subprocess.run(
                [sys.executable, "-m", "scripts.mesh", "down", *purge], cwd=REPO_ROOT, check=True
            )


def pytest_collection_modifyitems(items):
    """Disruptive tests last, so no other test meets a stopped service; the one that empties
    the login budget after them, since they sign users up too; those that stop the tests' mesh
    for a mesh of their own after all."""
    items.sort(key=lambda item: (item.get_closest_marker("own_mesh") is not None,
                                 item.get_closest_marker("spends_login_budget") is not None,
                                 item.get_closest_marker("disruptive") is not None))


# Figures a test measured on the way (never asserted: speed is the benches' to judge), shown
# in the session's summary.
FIGURES = pytest.StashKey[list]()


@pytest.fixture()
def show_figure(request):
    """`show_figure(line)`: a line for the session's summary."""
    return lambda line: request.config.stash.setdefault(FIGURES, []).append(line)


def pytest_terminal_summary(terminalreporter, config):
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.section("figures measured by the tests")
        for line in figures:
            terminalreporter.write_line(line)
