"""Every RPC of every service, as each kind of caller, through the edge over REST and native
gRPC: the outcome its declared access rule promises (the ACCESS table of the service's api.py).

Generated from the descriptor set and the rules, so a new RPC is in the matrix the day it is
written. The requests are empty (or name a resource that does not exist): what is checked is
who gets past the door, not what happens inside.
"""
import importlib
import re
import uuid

import grpc
import pytest
import yaml

from scripts.mesh.layout import SERVICES
from scripts.mesh.tools import DESCRIPTORS
from services.edge.api import Api
from services.kit.identity import PUBLIC
from services.kit.settings import REPO_ROOT

from .conftest import EDGE, STRONG_PASSWORD, bearer, login, register

NOBODY = str(uuid.UUID(int=7))
# How the per-call policy words a refusal by the access rule (kit.identity.check_access); a 403
# worded otherwise is a use case's own (a client reading another's account) and means "let in".
BY_THE_RULE = "may not call"


def _rules() -> dict[str, object]:
    """Full method name ("autosalon.auth.v1.AuthService/Login") -> its access rule."""
    found = {}
    for name in SERVICES:
        rules = importlib.import_module(f"services.{name}.api").ACCESS
        package = f"autosalon.{name}.v1."
        for method in METHODS:
            if method.full_name.startswith(package):
                found[method.full_name] = rules.get(method.full_name.rpartition("/")[2])
    return found


METHODS = [method for method in Api.load(DESCRIPTORS.read_bytes()).methods
           if method.full_name.split(".")[1] in SERVICES]
RULES = _rules()
CALLERS = ("anonymous", "client", "manager", "admin")


def _expected(rule, caller: str) -> str:
    if rule is PUBLIC:
        return "let in"
    if caller == "anonymous":
        return "unauthenticated"
    return "let in" if caller in rule else "denied"


def _outcome(unauthenticated: bool, denied_by_the_rule: bool) -> str:
    return "unauthenticated" if unauthenticated else "denied" if denied_by_the_rule else "let in"


def _path(template: str) -> str:
    """A REST path of the template, naming resources that do not exist."""
    def fill(match: re.Match) -> str:
        _, _, pattern = match.group(1).partition("=")
        return pattern.replace("**", NOBODY).replace("*", NOBODY) if pattern else NOBODY
    return re.sub(r"\{([^}]*)\}", fill, template)


@pytest.fixture(scope="module")
def tokens(edge, manager_session, admin_session) -> dict:
    client = register(edge)
    return {"anonymous": None, "client": login(edge, client["email"], STRONG_PASSWORD),
            "manager": manager_session, "admin": admin_session}


def test_every_rpc_has_a_rule_and_the_edge_opens_exactly_the_public_ones():
    assert METHODS and all(RULES[method.full_name] is not None for method in METHODS), \
        [method.full_name for method in METHODS if RULES[method.full_name] is None]
    settings = yaml.safe_load((REPO_ROOT / "envoy" / "edge.yaml").read_text())
    assert set(settings["public_methods"]) == {name for name, rule in RULES.items() if rule is PUBLIC}


@pytest.mark.parametrize("caller", CALLERS)
def test_over_rest_every_rpc_answers_each_caller_as_its_rule_says(edge, tokens, caller):
    wrong = []
    headers = bearer(tokens[caller]) if tokens[caller] else {}
    for method in METHODS:
        path = _path(method.template)
        body = {} if method.verb in ("POST", "PATCH", "PUT") else None
        answer = edge.request(method.verb, path, json=body, headers=headers)
        outcome = _outcome(answer.status_code == 401, answer.status_code == 403 and BY_THE_RULE in answer.text)
        if answer.status_code >= 500 or outcome != _expected(RULES[method.full_name], caller):
            wrong.append(f"{method.verb} {path}: {answer.status_code} {answer.text[:120]}")
    assert wrong == []


@pytest.mark.parametrize("caller", CALLERS)
def test_over_native_grpc_every_rpc_answers_each_caller_as_its_rule_says(tokens, caller):
    wrong = []
    metadata = (("authorization", f"Bearer {tokens[caller]['access_token']}"),) if tokens[caller] else ()
    with grpc.insecure_channel(EDGE) as channel:
        for method in METHODS:
            call = channel.unary_unary(f"/{method.full_name}", request_serializer=lambda _: b"",
                                       response_deserializer=lambda data: data)
            try:
                call(None, metadata=metadata, timeout=15)
                code, details = grpc.StatusCode.OK, ""
            except grpc.RpcError as error:
                code, details = error.code(), error.details() or ""
            outcome = _outcome(code == grpc.StatusCode.UNAUTHENTICATED,
                               code == grpc.StatusCode.PERMISSION_DENIED and BY_THE_RULE in details)
            if code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNAVAILABLE) \
                    or outcome != _expected(RULES[method.full_name], caller):
                wrong.append(f"{method.full_name}: {code.name}")
    assert wrong == []
