"""The edge's cache of public catalogue reads: anonymous visitors may get an answer a few
seconds old from the edge itself; signed-in callers always get the service's current answer."""
import json
import re
import time
import uuid

import httpx
import pytest

from scripts.mesh.layout import ENVOY_ADMIN_PORT, LOGS

from ..conftest import TEST_WEB_ORIGIN
from .conftest import bearer
from .test_catalog import new_model

PUBLIC = re.compile(r"public, max-age=(\d+)")


@pytest.fixture
def model(edge, manager_session) -> dict:
    response = edge.post("/catalog/models", json=new_model(), headers=bearer(manager_session))
    assert response.status_code == 200, response.text
    return response.json()


def _search(marker: str) -> str:
    """A search no other test makes, so that it starts out of the cache."""
    return f"/catalog/models?model={marker}&page_size=5"


def _kept(edge, path: str, headers: dict | None = None):
    """The edge's answer from its cache. Envoy writes an entry after answering the request that
    filled it, so the next request may still find none."""
    deadline = time.monotonic() + 3
    while "age" not in (answer := edge.get(path, headers=headers)).headers:
        assert time.monotonic() < deadline, "the edge kept no copy"
        time.sleep(0.05)
    return answer


def test_a_repeated_anonymous_search_is_answered_by_the_edge(edge):
    path = _search(uuid.uuid4().hex)
    first = edge.get(path)
    assert first.status_code == 200, first.text
    max_age = int(PUBLIC.fullmatch(first.headers["cache-control"]).group(1))
    # Kept between the configured 5 s and twice that, so that entries cached together expire apart.
    assert 5 <= max_age <= 10
    assert "age" not in first.headers
    second = _kept(edge, path)
    assert second.status_code == 200
    assert int(second.headers["age"]) <= max_age
    assert second.json() == first.json()
    # Each answer is still its own request, with its own trace id.
    assert second.headers["x-request-id"] != first.headers["x-request-id"]


def test_signed_in_reads_are_never_kept(edge, client_session):
    path = _search(uuid.uuid4().hex)
    for _ in range(2):
        answer = edge.get(path, headers=bearer(client_session))
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "private, no-cache"
        assert "age" not in answer.headers


def test_staff_see_a_price_change_at_once_and_visitors_within_the_max_age(edge, manager_session, model):
    path = f"/catalog/{model['name']}"
    before = edge.get(path)
    assert before.status_code == 200, before.text
    max_age = int(PUBLIC.fullmatch(before.headers["cache-control"]).group(1))
    _kept(edge, path)
    changed = edge.patch(path, params={"update_mask": "base_price"}, headers=bearer(manager_session),
                         json={"base_price": {"currency_code": "RUB", "amount": "2600000.00"}})
    assert changed.status_code == 200, changed.text
    assert edge.get(path, headers=bearer(manager_session)).json()["base_price"]["amount"] == "2600000.00"
    # A visitor may still get the kept answer, and a browser that asks gets a fresh one.
    kept = edge.get(path)
    assert "age" in kept.headers and kept.json()["base_price"]["amount"] == "2500000.00"
    fresh = edge.get(path, headers={"cache-control": "no-cache"})
    assert fresh.json()["base_price"]["amount"] == "2600000.00"
    deadline = time.monotonic() + max_age + 2
    while edge.get(path).json()["base_price"]["amount"] != "2600000.00":
        assert time.monotonic() < deadline, "the edge kept the old price past its max-age"
        time.sleep(0.5)


def test_errors_are_not_kept(edge):
    path = f"/catalog/models/{uuid.uuid4()}"
    for _ in range(2):
        missing = edge.get(path)
        assert missing.status_code == 404
        assert "public" not in missing.headers.get("cache-control", "")
        assert "age" not in missing.headers


def test_only_catalogue_paths_are_kept(edge):
    """Inventory's stock changes by the minute; its public reads always reach the service."""
    for _ in range(2):
        answer = edge.get("/inventory/vehicles", params={"page_size": 3})
        assert answer.status_code == 200, answer.text
        assert "age" not in answer.headers


def test_protected_catalogue_reads_still_need_a_token(edge, model):
    history = f"/catalog/{model['name']}/price-history"
    for _ in range(2):
        refused = edge.get(history)
        assert refused.status_code == 401
        assert refused.json()["code"] == 16  # UNAUTHENTICATED


def test_kept_answers_carry_each_origin_its_own_permission(edge):
    path = _search(uuid.uuid4().hex)
    allowed = edge.get(path, headers={"origin": TEST_WEB_ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == TEST_WEB_ORIGIN
    stranger = _kept(edge, path, {"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers
    again = _kept(edge, path, {"origin": TEST_WEB_ORIGIN})
    assert again.headers["access-control-allow-origin"] == TEST_WEB_ORIGIN


def test_the_access_log_tells_kept_answers_apart(edge):
    path = _search(uuid.uuid4().hex)
    marker = f"kept-{uuid.uuid4()}"
    _kept(edge, path)
    assert "age" in edge.get(path, headers={"x-request-id": marker}).headers

    def logged() -> dict | None:
        lines = (LOGS / "edge-access.log").read_text(encoding="utf-8").splitlines()
        found = [json.loads(line) for line in lines if marker in line]
        return found[0] if found else None

    deadline = time.monotonic() + 15  # Envoy flushes its access log about once a second
    while logged() is None:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    entry = logged()
    assert entry["status"] == 200 and entry["cache_age"] is not None and entry["path"] == path


def _default_budget_checks() -> int:
    stats = httpx.get(f"http://127.0.0.1:{ENVOY_ADMIN_PORT}/stats", params={"filter": "rate_limit_default"}).text
    return int(re.search(r"rate_limit_default\.http_local_rate_limit\.enabled: (\d+)", stats).group(1))


def test_answers_from_the_cache_still_count_against_the_clients_budget(edge):
    """The rate limit comes before the cache: a flood of kept answers is still refused past it."""
    path = _search(uuid.uuid4().hex)
    _kept(edge, path)
    before = _default_budget_checks()
    for _ in range(5):
        assert "age" in edge.get(path).headers
    assert _default_budget_checks() >= before + 5
