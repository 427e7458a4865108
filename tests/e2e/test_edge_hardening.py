"""The edge's checks hold for every spelling of a request: unknown JSON fields are refused
whatever the path's spelling or the content type, oversized headers are refused at the edge
without internal detail, and cookies never travel past it."""
import json

import pytest

from .conftest import STRONG_PASSWORD, json_detail, json_reason, new_email


def _registration(**extra) -> dict:
    return {"email": new_email(), "password": STRONG_PASSWORD, "confirm_password": STRONG_PASSWORD,
            "full_name": "Ivan Petrov", **extra}


@pytest.mark.parametrize("path, content_type", [
    ("/auth/register/", "application/json"),
    ("/auth//register", "application/json"),
    ("/auth/register", "application/json; x=grpc"),
    ("/auth/register", "text/plain"),
])
def test_an_unknown_field_is_refused_whatever_the_spelling(edge, path, content_type):
    answer = edge.post(path, content=json.dumps(_registration(role="ROLE_ADMIN")),
                       headers={"content-type": content_type})
    assert answer.status_code == 400, answer.text
    violations = json_detail(answer, "BadRequest")["field_violations"]
    assert [(violation["field"], violation["reason"]) for violation in violations] == [("role", "UNKNOWN_FIELD")]
    assert json_reason(answer) == "UNKNOWN_FIELD"


def test_a_path_with_a_trailing_slash_reaches_the_same_method(edge):
    answer = edge.post("/auth/register/", json=_registration())
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "ROLE_CLIENT"


@pytest.mark.parametrize("where", ["query", "cookie", "header"])
def test_a_request_with_too_much_header_is_431_from_the_edge_naming_nothing_inside(edge, where):
    big = "x" * 20_000
    params, headers = {}, {}
    if where == "query":
        params["page_token"] = big
    elif where == "cookie":
        headers["cookie"] = f"session={big}"
    else:
        headers["x-padding"] = big
    answer = edge.get("/catalog/models", params=params, headers=headers)
    assert answer.status_code == 431, answer.text
    assert "grpc" not in answer.text.lower() and "metadata" not in answer.text.lower()


def test_a_page_token_the_edge_lets_through_is_judged_by_the_service(edge):
    answer = edge.get("/catalog/models", params={"page_token": "x" * 12_000})
    assert answer.status_code == 400, answer.text
    [violation] = json_detail(answer, "BadRequest")["field_violations"]
    assert (violation["field"], violation["reason"]) == ("page_token", "INVALID_PAGE_TOKEN")


def test_a_request_with_a_browsers_cookies_is_served(edge):
    """Cookies are dropped at the edge (the config's test checks that); a large one costs nothing."""
    answer = edge.get("/catalog/models", params={"page_size": 1}, headers={"cookie": "a=" + "y" * 9000})
    assert answer.status_code == 200, answer.text
