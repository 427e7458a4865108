"""The Python client (the wheel autosalon-client, built by ./scripts/sdk python) installed in a
fresh venv, as a partner installs it, and run there against the live mesh through the edge:
the wheel ships the partner API alone; its smoke program's purchase and refusal (the same
checks as the other clients'); and a partner's script meeting typed refusals (field violations,
a call without sign-in), retrying a creation with its own idempotency key and getting the first
order back, and staying signed in while its token is refreshed before every call."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from scripts.clients import python as python_client
from services.kit.settings import REPO_ROOT

from .conftest import bearer
from .purchase import new_vehicle
from .smoke_programs import check_purchase, check_refusal

SMOKE = REPO_ROOT / "sdk" / "python" / "examples" / "smoke.py"

# What a partner writes: argv[1] is a vehicle in stock; prints what it met as JSON.
PARTNER_SCRIPT = """
import json, os, sys, uuid
from autosalon.auth.v1 import auth_pb2
from autosalon.sales.v1 import sales_pb2
from autosalon_client import Client, errors

edge = f"127.0.0.1:{os.environ.get('AUTOSALON_EDGE_PORT', '8080')}"
met = {}
with Client(edge) as client:
    try:
        client.sales.ListOrders(sales_pb2.ListOrdersRequest())
    except errors.Unauthenticated as refusal:
        met["anonymous"] = {"class": type(refusal).__name__, "code": refusal.code.name}
    try:
        client.auth.Register(auth_pb2.RegisterRequest(email="not-an-email", password="short"))
    except errors.InvalidArgument as refusal:
        met["invalid"] = {"class": type(refusal).__name__,
                          "fields": sorted({violation.field for violation in refusal.violations})}

email, password = f"python.partner.{uuid.uuid4().hex[:12]}@example.ru", "Correct-Horse-42"
# Refreshing whenever less than a day is left: before every call.
with Client(edge, refresh_before=86400) as client:
    client.auth.Register(auth_pb2.RegisterRequest(
        email=email, password=password, confirm_password=password, full_name="Ivan Petrov"))
    met["user"] = client.sign_in(email, password).name
    refresh_tokens = [client.tokens.refresh_token]
    for _ in range(2):
        met["me"] = client.auth.GetCurrentUser(auth_pb2.GetCurrentUserRequest()).name
        refresh_tokens.append(client.tokens.refresh_token)
    met["refresh_tokens_used"] = len(set(refresh_tokens))
    key = uuid.uuid4().hex
    request = sales_pb2.CreateOrderRequest(vehicle_id=sys.argv[1])
    met["orders"] = [client.sales.CreateOrder(request, metadata=[("idempotency-key", key)]).name
                     for _ in range(2)]
print(json.dumps(met))
"""


@pytest.fixture(scope="session")
def wheel(mesh):
    return python_client.build()


@pytest.fixture(scope="session")
def partner_python(wheel, tmp_path_factory) -> str:
    """A fresh venv's python with the wheel installed (its dependencies from PyPI)."""
    venv = tmp_path_factory.mktemp("partner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", str(wheel)], check=True, env=_partner_env())
    return python


def _partner_env() -> dict:
    """The test's environment without what would let the repository's own code be imported."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def test_the_wheel_ships_the_partner_api_alone_with_type_stubs(wheel, partner_python, tmp_path):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names if ".dist-info/" not in name} == {"autosalon", "autosalon_client"}
    assert {"autosalon/sales/v1/sales_pb2.pyi", "autosalon/sales/v1/sales_pb2_grpc.pyi", "autosalon/py.typed",
            "autosalon_client/py.typed"} <= set(names)
    where = subprocess.run(
        [partner_python, "-c", "import autosalon.sales.v1.sales_pb2 as m, autosalon_client as c; "
                               "print(m.__file__); print(c.__file__); print(c.__version__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path, env=_partner_env()).stdout.split()
    venv = partner_python.removesuffix("/bin/python")
    assert where[0].startswith(venv) and where[1].startswith(venv)
    assert wheel.name.startswith(f"autosalon_client-{where[2]}-")
    checked = subprocess.run([partner_python, "-m", "pip", "check"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


def test_smoke_program_signs_in_lists_the_catalogue_and_orders_a_car(partner_python, edge, manager_session):
    check_purchase([partner_python, str(SMOKE)], edge, manager_session)


def test_a_refused_call_exits_with_its_grpc_code(partner_python):
    check_refusal([partner_python, str(SMOKE)])


def test_a_partners_script_meets_typed_refusals_and_retries_a_creation_safely(
        partner_python, edge, manager_session, tmp_path):
    vehicle = new_vehicle(edge, manager_session)
    ran = subprocess.run([partner_python, "-c", PARTNER_SCRIPT, vehicle["name"]], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=_partner_env())
    assert ran.returncode == 0, ran.stderr
    met = json.loads(ran.stdout)
    assert met["anonymous"] == {"class": "Unauthenticated", "code": "UNAUTHENTICATED"}
    assert met["invalid"]["class"] == "InvalidArgument"
    assert {"email", "password", "confirm_password", "full_name"} <= set(met["invalid"]["fields"])
    # Signed in all along: the same user, with a new refresh token for each of the two calls.
    assert met["me"] == met["user"] and met["refresh_tokens_used"] == 3
    first, retried = met["orders"]
    assert first == retried
    order = edge.get(f"/sales/{first}", headers=bearer(manager_session)).json()
    assert order["customer"] == met["user"] and order["vehicle"] == vehicle["name"]
    assert order["status"] == "ORDER_STATUS_DRAFT"
