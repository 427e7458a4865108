"""The error reasons: every one the code gives is documented where partners read them
(proto/autosalon/ERRORS.md) and every documented one is given; the edge's own refusals carry
them in the same envelope as the services'."""
import ast
import base64
import pathlib
import re

import pytest
from google.rpc import error_details_pb2, status_pb2

from services.edge.envoy import local_replies, rate_limit
from services.kit import errors

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
REASONS_DOC = REPO_ROOT / "proto" / "autosalon" / "ERRORS.md"
REASON = re.compile(r"[A-Z][A-Z0-9_]+")
# The modules where reasons are defined: the kit's generic ones, each service's own.
REASON_MODULES = [REPO_ROOT / "services" / "kit" / "errors.py", *sorted((REPO_ROOT / "services").glob("*/domain.py"))]


def _defined_reasons(path: pathlib.Path) -> set[str]:
    """Module constants spelt as their value, `NAME = "NAME"`: the reasons."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Constant) and value.value == node.targets[0].id and REASON.fullmatch(value.value):
                found.add(value.value)
    return found


def _edge_reasons() -> set[str]:
    return ({*local_replies.REASON_FOR_HTTP.values(), *local_replies.TOKEN_PROBLEM_REASONS.values()}
            | set(re.findall(r'"reason":"([A-Z_]+)"', (REPO_ROOT / "services/edge/strict_json.lua").read_text())))


def _documented_reasons() -> set[str]:
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", REASONS_DOC.read_text(), re.MULTILINE))


def test_every_reason_given_is_documented_and_every_documented_one_given():
    given = set().union(*map(_defined_reasons, REASON_MODULES)) | _edge_reasons()
    assert given - _documented_reasons() == set(), "undocumented reasons"
    assert _documented_reasons() - given == set(), "documented reasons nothing gives"


def test_the_services_define_their_reasons():
    for service in ("auth", "inventory", "pricing", "sales", "payment", "booking"):
        assert _defined_reasons(REPO_ROOT / "services" / service / "domain.py"), service


def _replies() -> list[dict]:
    return local_replies.local_replies()["mappers"]


@pytest.mark.parametrize("http_code", sorted(local_replies.GRPC_CODE_FOR_HTTP))
def test_every_refusal_of_the_edge_carries_error_info(http_code):
    mappers = [mapper for mapper in _replies() if "body_format_override" in mapper]
    body = next(mapper["body_format_override"]["json_format"] for mapper in mappers
                if _status_of(mapper["filter"]) == http_code)
    assert body["code"] == local_replies.GRPC_CODE_FOR_HTTP[http_code]
    [info] = body["details"]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert (info["reason"], info["domain"]) == (local_replies.REASON_FOR_HTTP[http_code], errors.ERROR_DOMAIN)


def _status_of(filter_: dict) -> int | None:
    """The HTTP status a (REST-only) mapper filter matches alone, None for a narrower one."""
    first = filter_.get("and_filter", {}).get("filters", [{}])[0]
    return first.get("status_code_filter", {}).get("comparison", {}).get("value", {}).get("default_value")


def _grpc_status(mapper: dict) -> status_pb2.Status:
    [header] = mapper["headers_to_add"]
    assert header["header"]["key"] == "grpc-status-details-bin"
    encoded = header["header"]["value"]
    return status_pb2.Status.FromString(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))


def _reason(mapper: dict) -> tuple[str, str]:
    """("rest" or "grpc", the ErrorInfo reason) a mapper answers with."""
    if "headers_to_add" in mapper:
        info = error_details_pb2.ErrorInfo()
        assert _grpc_status(mapper).details[0].Unpack(info)
        return "grpc", info.reason
    return "rest", mapper["body_format_override"]["json_format"]["details"][0]["reason"]


def test_a_missing_or_expired_token_is_told_from_a_bad_one_by_jwt_authns_details():
    told = set()
    for mapper in _replies():
        conditions = mapper["filter"].get("and_filter", {}).get("filters", [{}])[0].get("and_filter")
        if conditions:
            expression = conditions["filters"][1]["extension_filter"]["typed_config"]["expression"]
            told.add((expression, *_reason(mapper)))
    assert told == {(f"response.code_details.contains('{details}')", kind, reason)
                    for details, reason in (("Jwt_is_missing", "UNAUTHENTICATED"), ("Jwt_is_expired", "TOKEN_EXPIRED"))
                    for kind in ("rest", "grpc")}


def test_a_grpc_callers_refusals_carry_the_code_and_message_it_is_sent_with():
    """A gRPC client refuses details whose code or message differ from the call's own."""
    for mapper in _replies():
        if "headers_to_add" in mapper:
            status = _grpc_status(mapper)
            assert status.message == mapper["body_format_override"]["text_format_source"]["inline_string"]
            assert status.code in local_replies.GRPC_CODE_OF_REFUSAL.values()
            assert status.message in local_replies.GRPC_MESSAGES.values()


def test_a_rate_limited_answer_says_when_to_retry():
    limit = rate_limit.per_address_limit("strict", 20, 10)[rate_limit.RATE_LIMIT_FILTER]
    assert limit["response_headers_to_add"] == [
        {"header": {"key": "retry-after", "value": "10"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}]
    body = next(mapper["body_format_override"]["json_format"] for mapper in _replies()
                if _status_of(mapper["filter"]) == 429)
    assert body["details"][0]["metadata"] == {"retry_after_seconds": "%RESP(RETRY-AFTER)%"}
