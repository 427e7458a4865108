"""Contract fuzzing: schemathesis makes calls of every operation in the edge's OpenAPI document
(its examples, the boundaries of every parameter, random values, and chains of calls that feed
one answer into the next) against the live edge, anonymously, as a customer and as the admin,
and checks every answer: no server error (5xx), and every answer matches its schema in the
document (the operation's message on success, google.rpc.Status otherwise).

A bounded number of random examples per operation, from a fixed seed, so a run is repeatable;
the coverage phase's boundary values are all made every time. It runs after the other tests
(marked disruptive): the admin's calls create and change whatever the API lets an admin."""
import pathlib
import subprocess

import pytest

from scripts.mesh.layout import VENV_BIN

from .conftest import EDGE, STRONG_PASSWORD, bearer, login, new_email, register

EXAMPLES_PER_OPERATION = 10
SEED = 2026


def _fuzzed(headers: dict, workdir: pathlib.Path) -> subprocess.CompletedProcess:
    """schemathesis's run, in `workdir` (where it keeps its cache), with these headers on every call."""
    command = [
        VENV_BIN / "st", "run", f"http://{EDGE}/openapi.json",
        "--checks", "not_a_server_error,response_schema_conformance",
        "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", str(SEED),
        # Path ids are plain strings the API reads as ids: a value schemathesis throws away as
        # unfit for a URL is not a finding.
        "--suppress-health-check", "filter_too_much",
        "--no-color",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=workdir)


def _clean(result: subprocess.CompletedProcess, signed_in: bool) -> None:
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert " passed" in report and "Tested: " in report, report
    if signed_in:
        # A token the edge refused would leave every call at the door.
        assert "401 Unauthorized" not in report, report


@pytest.mark.disruptive
def test_anonymous_calls_meet_the_contract(mesh, tmp_path):
    _clean(_fuzzed({}, tmp_path), signed_in=False)


@pytest.mark.disruptive
def test_a_customers_calls_meet_the_contract(edge, tmp_path):
    email = new_email("fuzz")
    register(edge, email)
    _clean(_fuzzed(bearer(login(edge, email, STRONG_PASSWORD)), tmp_path), signed_in=True)


@pytest.mark.disruptive
def test_the_admins_calls_meet_the_contract(edge, mesh, tmp_path):
    # A sign-in of its own: the session's may have expired by the end of the suite.
    _clean(_fuzzed(bearer(login(edge, mesh.admin_email, mesh.admin_password)), tmp_path), signed_in=True)
