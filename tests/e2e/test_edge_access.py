"""Every API method the edge does not list as public refuses a caller without a token, over
REST at the path its google.api.http annotation gives (derived from the descriptors, so a new
method is covered the day it is added)."""
import re
import uuid

import pytest
import yaml

from scripts.mesh.tools import DESCRIPTORS
from services.edge.api import Api
from services.kit.settings import REPO_ROOT

PUBLIC = set(yaml.safe_load((REPO_ROOT / "envoy" / "edge.yaml").read_text())["public_methods"])


def _concrete(template: str) -> str:
    """/sales/{name=orders/*}:confirm -> /sales/orders/<uuid>:confirm"""
    def fill(match: re.Match) -> str:
        pattern = match.group(1).partition("=")[2] or "*"
        return pattern.replace("**", str(uuid.uuid4())).replace("*", str(uuid.uuid4()))
    return re.sub(r"\{([^}]*)\}", fill, template)


def _signed_in_routes() -> list[tuple[str, str, str]]:
    return [(method.full_name, method.verb, _concrete(method.template))
            for method in Api.load(DESCRIPTORS.read_bytes()).methods if method.full_name not in PUBLIC]


ROUTES = _signed_in_routes()


def test_the_sweep_covers_the_api():
    assert len(ROUTES) > 40
    assert ("autosalon.payment.v1.PaymentService/CreatePayment", "POST", "/payments") in ROUTES


@pytest.mark.parametrize("full_name, verb, path", ROUTES, ids=[route[0] for route in ROUTES])
def test_no_token_is_401(edge, full_name, verb, path):
    body = {} if verb in ("POST", "PATCH", "PUT") else None
    response = edge.request(verb, path, json=body)
    assert response.status_code == 401, f"{verb} {path}: {response.status_code} {response.text}"
    assert response.json()["code"] == 16
