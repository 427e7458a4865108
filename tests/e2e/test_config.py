"""config end to end through the edge: the settings staff read and admins change (typed,
bounded, their history kept), a hot setting's new value reaching every instance of its service
within a second with no restart (and still applied after one), the dealership's own settings
with a JSON schema, branches with their time zone and opening hours, salespeople, and who may
do what, over REST and native gRPC."""
import time
import uuid

import grpc
import httpx
import pytest

from autosalon.config.v1 import config_pb2, config_pb2_grpc
from scripts.mesh import supervisor
from scripts.mesh.layout import instances

from .conftest import STRONG_PASSWORD, bearer, grpc_fields, login, new_email, register
from .test_auth_rest import violations
from .test_financing import APPLICATION
from .test_mesh_operations import _consul

INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION, ABORTED, UNAUTHENTICATED = (
    3, 5, 6, 7, 9, 10, 16)
# How the per-call policy words a refusal by the access rule (kit.identity.check_access).
BY_THE_RULE = "may not call"
BASE_RATE = "financing.base_rate"
# An int setting of inventory's: 1800 by default, at least 60.
SAGA_HOLD = "inventory.saga_hold_seconds"
SEEDED_BRANCH = "branches/moscow-central"
# The promise: a value set reaches every instance within a second.
WITHIN = 1.0


# Helpers.

def _fresh(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def _refused(response: httpx.Response, status: int, code: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return body


def _denied_by_the_rule(response: httpx.Response) -> None:
    body = _refused(response, 403, PERMISSION_DENIED)
    assert BY_THE_RULE in body["message"], body


def _named(response: httpx.Response, *fields: str) -> dict:
    """A 400 INVALID_ARGUMENT whose violations name at least `fields`."""
    _refused(response, 400, INVALID_ARGUMENT)
    found = violations(response)
    assert set(fields) <= set(found), response.text
    return found


def _setting(edge, session: dict, key: str) -> dict:
    return _ok(edge.get(f"/admin/settings/{key}", headers=bearer(session)))


def _set(edge, session: dict, key: str, value: str, **fields) -> httpx.Response:
    return edge.patch(f"/admin/settings/{key}", headers=bearer(session), json={"value": value, **fields})


def _all_pages(edge, path: str, field: str, headers: dict, **params) -> list[dict]:
    """Every item of a list, following its page tokens (no token seen twice)."""
    found, tokens, token = [], set(), ""
    while True:
        page = _ok(edge.get(path, headers=headers, params={**params, **({"page_token": token} if token else {})}))
        found.extend(page.get(field, []))
        token = page.get("next_page_token", "")
        if not token:
            return found
        assert token not in tokens, f"{path}: the page token {token} came twice"
        tokens.add(token)


def _new_manager(edge, admin_session: dict) -> dict:
    """A new user promoted to manager by the admin, signed in (as conftest's manager_session)."""
    user = register(edge, new_email("seller"))
    _ok(edge.patch(f"/auth/{user['name']}", params={"update_mask": "role"}, json={"role": "ROLE_MANAGER"},
                   headers=bearer(admin_session)))
    return login(edge, user["email"], STRONG_PASSWORD)


def _application_rate(edge, client: dict) -> str:
    """The annual rate a new loan application gets now: the base rate, until the bank decides."""
    return _ok(edge.post("/financing/applications", headers=bearer(client), json=APPLICATION))["annual_rate"]


def _rate_from_now_on(edge, client: dict, expected: str, seconds: float = 3.0) -> list[tuple[float, str]]:
    """New applications, one after another for up to `seconds` after the change was answered:
    (when each was sent, its rate). Stops once `expected` was seen and four applications sent
    at or after WITHIN all carried it too (the edge spreads them over the instances)."""
    start, seen = time.monotonic(), []
    while (elapsed := time.monotonic() - start) < seconds:
        seen.append((round(elapsed, 3), _application_rate(edge, client)))
        late = [rate for at, rate in seen if at >= WITHIN]
        if expected in (rate for _, rate in seen) and len(late) >= 4:
            break
        time.sleep(0.05)
    return seen


def _applies_within_a_second(edge, client: dict, expected: str) -> None:
    seen = _rate_from_now_on(edge, client, expected)
    assert expected in [rate for _, rate in seen], f"the rate never became {expected}: {seen}"
    late = [(at, rate) for at, rate in seen if at >= WITHIN]
    assert late and all(rate == expected for _, rate in late), (
        f"applications made {WITHIN} s after the change or later must all carry {expected}: {seen}")


def _until_rate(edge, client: dict, expected: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while (rate := _application_rate(edge, client)) != expected:
        assert time.monotonic() < deadline, f"applications still carry {rate}, not {expected}"
        time.sleep(0.1)


@pytest.fixture
def base_rate_restored(edge, admin_session, client_session):
    """financing.base_rate as it was, and applied, after the test (other tests expect 12)."""
    before = _setting(edge, admin_session, BASE_RATE)
    yield before
    now = _setting(edge, admin_session, BASE_RATE)
    if now["value"] != before["value"]:
        _ok(_set(edge, admin_session, BASE_RATE, before["value"]))
    _until_rate(edge, client_session, before["value"] or before["default_value"])


def _json_setting(key: str, value: str = '{"text": "Winter sale", "until": "2027-03-01"}') -> dict:
    return {"value_type": "VALUE_TYPE_JSON", "value": value, "description": "the showroom's banner",
            "json_schema": '{"type": "object", "required": ["text"], "additionalProperties": false, '
                           '"properties": {"text": {"type": "string", "minLength": 1}, '
                           '"until": {"type": "string", "format": "date"}}}'}


def _create_setting(edge, session: dict, key: str, body: dict) -> httpx.Response:
    return edge.post("/admin/settings", params={"setting_id": key}, headers=bearer(session), json=body)


def _int_setting(edge, admin_session: dict) -> dict:
    """A new setting of the dealership's own: an int from 10 to 120, set to 30."""
    key = _fresh("dealership.test_drive_minutes_")
    return _ok(_create_setting(edge, admin_session, key, {
        "value_type": "VALUE_TYPE_INT", "value": "30", "default_value": "20", "minimum": "10", "maximum": "120",
        "category": "booking", "description": "how long a test drive lasts"}))


MONDAY_TO_FRIDAY = [{"weekday": f"WEEKDAY_{day}", "opens": "10:00", "closes": "19:00"}
                    for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")]


def _branch_body(**changes) -> dict:
    return {"display_name": "Autosalon Yekaterinburg", "address": "Yekaterinburg, Malysheva 1",
            "time_zone": "Asia/Yekaterinburg", "hours": MONDAY_TO_FRIDAY, "days_off": ["2027-01-01"], **changes}


def _create_branch(edge, session: dict | None, branch_id: str, body: dict) -> httpx.Response:
    return edge.post("/admin/branches", params={"branch_id": branch_id},
                     headers=bearer(session) if session else {}, json=body)


def _new_branch(edge, admin_session: dict, **changes) -> dict:
    return _ok(_create_branch(edge, admin_session, _fresh("e2e-"), _branch_body(**changes)))


# Settings: reading them.

def test_staff_page_through_every_setting_in_key_order(edge, manager_session, admin_session):
    paged = _all_pages(edge, "/admin/settings", "settings", bearer(manager_session), page_size=2)
    keys = [setting["name"] for setting in paged]
    assert len(keys) == len(set(keys)), "a page repeated a setting"
    assert keys == sorted(keys)
    assert {f"settings/{key}" for key in (BASE_RATE, SAGA_HOLD, "financing.average_market_full_cost",
                                          "inventory.reservation_sweep_seconds", "payment.queue_seconds",
                                          "insurance.osago_base_rate")} <= set(keys)
    first = _ok(edge.get("/admin/settings", params={"page_size": 2}, headers=bearer(admin_session)))
    assert len(first["settings"]) == 2 and first["next_page_token"]
    at_once = _ok(edge.get("/admin/settings", params={"page_size": 500}, headers=bearer(admin_session)))
    assert [setting["name"] for setting in at_once["settings"]] == keys and at_once["next_page_token"] == ""


def test_a_page_token_is_for_its_own_query_only(edge, admin_session):
    token = _ok(edge.get("/admin/settings", params={"page_size": 1, "category": "tariffs"},
                         headers=bearer(admin_session)))["next_page_token"]
    assert token
    other = edge.get("/admin/settings", params={"page_size": 1, "service": "inventory", "page_token": token},
                     headers=bearer(admin_session))
    _named(other, "page_token")


def test_settings_filtered_by_category_and_by_service(edge, manager_session):
    tariffs = _all_pages(edge, "/admin/settings", "settings", bearer(manager_session), category="tariffs",
                         page_size=2)
    assert tariffs and all(setting["category"] == "tariffs" for setting in tariffs), tariffs
    assert {f"settings/{BASE_RATE}", f"settings/{SAGA_HOLD}", "settings/financing.average_market_full_cost",
            "settings/insurance.osago_base_rate"} <= {setting["name"] for setting in tariffs}
    assert "settings/inventory.reservation_sweep_seconds" not in {setting["name"] for setting in tariffs}
    inventory = _all_pages(edge, "/admin/settings", "settings", bearer(manager_session), service="inventory")
    assert {setting["name"] for setting in inventory} == {
        f"settings/{SAGA_HOLD}", "settings/inventory.reservation_sweep_seconds"}
    assert all(setting["service"] == "inventory" for setting in inventory)
    both = _all_pages(edge, "/admin/settings", "settings", bearer(manager_session), service="inventory",
                      category="tariffs")
    assert [setting["name"] for setting in both] == [f"settings/{SAGA_HOLD}"]


def test_one_setting_shows_its_type_default_bounds_and_service(edge, manager_session):
    rate = _setting(edge, manager_session, BASE_RATE)
    assert rate["name"] == f"settings/{BASE_RATE}"
    assert (rate["value_type"], rate["default_value"], rate["minimum"], rate["maximum"]) == (
        "VALUE_TYPE_DECIMAL", "12", "0", "100")
    assert (rate["service"], rate["category"]) == ("financing", "tariffs")
    assert rate["description"] and rate["etag"] == str(rate["revision"])
    hold = _setting(edge, manager_session, SAGA_HOLD)
    assert (hold["value_type"], hold["default_value"], hold["minimum"], hold["maximum"]) == (
        "VALUE_TYPE_INT", "1800", "60", "")
    assert (hold["service"], hold["category"]) == ("inventory", "tariffs")
    sweep = _setting(edge, manager_session, "inventory.reservation_sweep_seconds")
    assert (sweep["value_type"], sweep["category"], sweep["minimum"]) == ("VALUE_TYPE_DECIMAL", "inventory", "0.1")


def test_a_setting_that_does_not_exist_is_404_and_a_malformed_name_400(edge, manager_session):
    missing = edge.get("/admin/settings/dealership.no_such_setting", headers=bearer(manager_session))
    _refused(missing, 404, NOT_FOUND)
    _named(edge.get("/admin/settings/Not-A-Key", headers=bearer(manager_session)), "name")


def test_a_manager_reads_settings_but_cannot_change_or_add_them(edge, manager_session):
    before = _setting(edge, manager_session, SAGA_HOLD)
    _ok(edge.get(f"/admin/settings/{SAGA_HOLD}/history", headers=bearer(manager_session)))
    _denied_by_the_rule(_set(edge, manager_session, SAGA_HOLD, "900"))
    _denied_by_the_rule(_create_setting(edge, manager_session, _fresh("dealership.manager_"), {
        "value_type": "VALUE_TYPE_STRING", "value": "x"}))
    assert _setting(edge, manager_session, SAGA_HOLD) == before


def test_a_client_may_not_list_read_or_change_settings(edge, client_session, admin_session):
    headers = bearer(client_session)
    _denied_by_the_rule(edge.get("/admin/settings", headers=headers))
    _denied_by_the_rule(edge.get(f"/admin/settings/{BASE_RATE}", headers=headers))
    _denied_by_the_rule(edge.get(f"/admin/settings/{BASE_RATE}/history", headers=headers))
    before = _setting(edge, admin_session, BASE_RATE)
    _denied_by_the_rule(_set(edge, client_session, BASE_RATE, "1"))
    assert _setting(edge, admin_session, BASE_RATE) == before


def test_an_anonymous_caller_is_401_on_settings(edge):
    for response in (edge.get("/admin/settings"), edge.get(f"/admin/settings/{BASE_RATE}"),
                     edge.get(f"/admin/settings/{BASE_RATE}/history"),
                     edge.patch(f"/admin/settings/{BASE_RATE}", json={"value": "1"}),
                     edge.post("/admin/settings", params={"setting_id": "dealership.anonymous"},
                               json={"value_type": "VALUE_TYPE_STRING"})):
        _refused(response, 401, UNAUTHENTICATED)


# Settings: changing them.

@pytest.mark.parametrize("key, value", [
    (SAGA_HOLD, "abc"), (SAGA_HOLD, "59"), (SAGA_HOLD, "-1800"), (SAGA_HOLD, "90.5"), (SAGA_HOLD, "1e3"),
    (SAGA_HOLD, "900s"), (BASE_RATE, "abc"), (BASE_RATE, "100.01"), (BASE_RATE, "-0.5"), (BASE_RATE, "1e1"),
    (BASE_RATE, "12,5"), (BASE_RATE, "NaN"),
], ids=["int-abc", "int-below-minimum", "int-negative", "int-decimal", "int-exponent", "int-duration",
        "decimal-abc", "decimal-above-maximum", "decimal-below-minimum", "decimal-exponent", "decimal-comma",
        "decimal-nan"])
def test_a_value_that_does_not_fit_is_400_naming_setting_value_and_changes_nothing(edge, admin_session, key, value):
    before = _setting(edge, admin_session, key)
    _named(_set(edge, admin_session, key, value), "setting.value")
    after = _setting(edge, admin_session, key)
    assert (after["value"], after["revision"], after["etag"]) == (before["value"], before["revision"], before["etag"])


def test_only_the_value_of_a_services_setting_may_change(edge, admin_session):
    before = _setting(edge, admin_session, SAGA_HOLD)
    response = edge.patch(f"/admin/settings/{SAGA_HOLD}", params={"update_mask": "description"},
                          headers=bearer(admin_session), json={"description": "rewritten"})
    _named(response, "update_mask")
    assert _setting(edge, admin_session, SAGA_HOLD) == before


def test_a_stale_etag_is_409_and_changes_nothing(edge, admin_session):
    own = _int_setting(edge, admin_session)
    key = own["name"].removeprefix("settings/")
    assert (own["value"], own["revision"], own["etag"]) == ("30", "1", "1")
    stale = _set(edge, admin_session, key, "45", etag="7")
    _refused(stale, 409, ABORTED)
    assert _setting(edge, admin_session, key)["value"] == "30"
    changed = _ok(_set(edge, admin_session, key, "45", etag="1"))
    assert (changed["value"], changed["revision"], changed["etag"]) == ("45", "2", "2")
    # The etag it was read with is stale now.
    _refused(_set(edge, admin_session, key, "60", etag="1"), 409, ABORTED)
    assert _setting(edge, admin_session, key)["value"] == "45"
    _named(_set(edge, admin_session, key, "121", etag="2"), "setting.value")
    _named(_set(edge, admin_session, key, "45", etag="abc"), "setting.etag")


# Hot settings: a change reaches every instance within a second, no restart.

def test_the_base_rate_set_by_an_admin_applies_to_new_applications_within_a_second(
        edge, admin_session, client_session, base_rate_restored):
    default = base_rate_restored["default_value"]
    assert default == "12"
    if base_rate_restored["value"] not in ("", default):  # left set by someone: from the default on
        _ok(_set(edge, admin_session, BASE_RATE, ""))
        _until_rate(edge, client_session, default)
    assert _application_rate(edge, client_session) == default
    revision = int(_setting(edge, admin_session, BASE_RATE)["revision"])

    changed = _ok(_set(edge, admin_session, BASE_RATE, "14.5"))
    assert (changed["value"], int(changed["revision"])) == ("14.5", revision + 1)
    _applies_within_a_second(edge, client_session, "14.5")

    cleared = _ok(_set(edge, admin_session, BASE_RATE, ""))
    assert (cleared["value"], int(cleared["revision"])) == ("", revision + 2)
    _applies_within_a_second(edge, client_session, default)

    admin = admin_session["user"]["name"]
    assert admin.startswith("users/")
    history = _ok(edge.get(f"/admin/settings/{BASE_RATE}/history", headers=bearer(admin_session)))["changes"]
    newest = [(int(change["revision"]), change["value_before"], change["value_after"], change["changed_by"])
              for change in history[:2]]
    assert newest == [(revision + 2, "14.5", "", admin), (revision + 1, "", "14.5", admin)], history
    revisions = [int(change["revision"]) for change in history]
    assert revisions == sorted(revisions, reverse=True)
    # One change a page, newest first, each once.
    paged = _all_pages(edge, f"/admin/settings/{BASE_RATE}/history", "changes", bearer(admin_session), page_size=1)
    assert [change["revision"] for change in paged] == [change["revision"] for change in history]


def test_the_same_value_again_is_no_new_revision(edge, admin_session, base_rate_restored):
    first = _ok(_set(edge, admin_session, BASE_RATE, "13.25"))
    again = _ok(_set(edge, admin_session, BASE_RATE, "13.25"))
    assert again["revision"] == first["revision"] and again["value"] == "13.25"
    history = _ok(edge.get(f"/admin/settings/{BASE_RATE}/history", params={"page_size": 2},
                           headers=bearer(admin_session)))["changes"]
    assert history[0]["revision"] == first["revision"] and history[0]["value_after"] == "13.25"


@pytest.mark.disruptive
def test_a_value_set_while_financing_ran_applies_after_its_instances_restart(
        edge, admin_session, client_session, base_rate_restored):
    _ok(_set(edge, admin_session, BASE_RATE, "15.75"))
    _applies_within_a_second(edge, client_session, "15.75")
    supervisor.ctl("restart", "financing:*")
    deadline = time.monotonic() + 60
    while len(_consul("/v1/health/service/financing?passing=true")) != instances("financing"):
        assert time.monotonic() < deadline, "financing did not come back healthy"
        time.sleep(0.2)
    # The edge may not have heard of the new instances yet: it answers 503 until it has.
    while (response := edge.post("/financing/applications", headers=bearer(client_session),
                                 json=APPLICATION)).status_code == 503:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.2)
    assert _ok(response)["annual_rate"] == "15.75", "the restarted instance did not read the stored value first"
    assert {_application_rate(edge, client_session) for _ in range(6)} == {"15.75"}


# The dealership's own settings.

def _osago_version(edge) -> str:
    return _ok(edge.post("/insurance/quotes", json={"product": "PRODUCT_OSAGO", "osago": {
        "vehicle_category": "B", "territory": "moscow", "power_hp": "150",
        "drivers": [{"age": 45, "experience_years": 20, "kbm_class": "10"}]}}))["tariff_version"]


def test_holding_back_an_osago_tariff_version_applies_to_quotes_at_once(edge, admin_session):
    """insurance's hot setting: today's quotes leave the newest version for the one named, and
    take it again once the setting is cleared."""
    key = "insurance.osago_latest_version"
    newest = _osago_version(edge)
    assert newest == "osago-2025-12-09"
    try:
        _ok(_set(edge, admin_session, key, "osago-2022-09-13"))
        deadline = time.monotonic() + 5
        while _osago_version(edge) != "osago-2022-09-13":
            assert time.monotonic() < deadline, "insurance never took the held-back version"
            time.sleep(0.1)
        _named(_set(edge, admin_session, key, "osago-1999-01-01"), "setting.value")
    finally:
        _ok(_set(edge, admin_session, key, ""))
    deadline = time.monotonic() + 5
    while _osago_version(edge) != newest:
        assert time.monotonic() < deadline, "insurance never went back to the newest version"
        time.sleep(0.1)


def test_an_admin_adds_a_json_setting_checked_against_its_schema(edge, admin_session, manager_session):
    key = _fresh("dealership.showroom_banner_")
    created = _ok(_create_setting(edge, admin_session, key, _json_setting(key)))
    assert created["name"] == f"settings/{key}"
    assert (created["value_type"], created["value"], created["service"], created["category"]) == (
        "VALUE_TYPE_JSON", '{"text": "Winter sale", "until": "2027-03-01"}', "", "dealership")
    assert created["revision"] == "1" and created["audit"]["created_by"] == admin_session["user"]["name"]
    assert _setting(edge, manager_session, key) == created
    own = _all_pages(edge, "/admin/settings", "settings", bearer(manager_session), category="dealership")
    assert f"settings/{key}" in {setting["name"] for setting in own}

    for bad in ('{"text": "unclosed"', "not json", '{"until": "2027-03-01"}', '{"text": ""}',
                '{"text": "Sale", "colour": "red"}', '["Sale"]'):
        _named(_set(edge, admin_session, key, bad), "setting.value")
    assert _setting(edge, admin_session, key) == created

    changed = _ok(_set(edge, admin_session, key, '{"text": "Spring sale"}'))
    assert (changed["value"], changed["revision"]) == ('{"text": "Spring sale"}', "2")
    history = _ok(edge.get(f"/admin/settings/{key}/history", headers=bearer(manager_session)))["changes"]
    assert [(change["revision"], change["value_before"], change["value_after"]) for change in history] == [
        ("2", created["value"], '{"text": "Spring sale"}'), ("1", "", created["value"])]


def test_the_dealerships_own_setting_may_change_its_description_and_category(edge, admin_session):
    own = _int_setting(edge, admin_session)
    key = own["name"].removeprefix("settings/")
    changed = _ok(edge.patch(f"/admin/settings/{key}", params={"update_mask": "description,category"},
                             headers=bearer(admin_session),
                             json={"description": "a test drive's length", "category": "showroom", "value": "99"}))
    assert (changed["description"], changed["category"], changed["value"], changed["revision"]) == (
        "a test drive's length", "showroom", "30", "1")


def test_a_json_setting_refuses_an_invalid_value_or_schema_when_created(edge, admin_session):
    bad_value = _create_setting(edge, admin_session, _fresh("dealership.banner_"),
                                _json_setting("", value='{"until": "2027-03-01"}'))
    _named(bad_value, "setting.value")
    not_json = _create_setting(edge, admin_session, _fresh("dealership.banner_"), _json_setting("", value="{oops"))
    _named(not_json, "setting.value")
    no_schema = _create_setting(edge, admin_session, _fresh("dealership.banner_"),
                                {"value_type": "VALUE_TYPE_JSON", "value": "{}"})
    _named(no_schema, "setting.json_schema")
    bad_schema = _create_setting(edge, admin_session, _fresh("dealership.banner_"),
                                 {"value_type": "VALUE_TYPE_JSON", "value": "{}", "json_schema": '{"type": 5}'})
    _named(bad_schema, "setting.json_schema")


def test_a_key_taken_is_409_and_a_services_prefix_or_a_bad_key_400(edge, admin_session):
    key = _fresh("dealership.showroom_banner_")
    first = _ok(_create_setting(edge, admin_session, key, _json_setting(key)))
    again = _create_setting(edge, admin_session, key, _json_setting(key, value='{"text": "Other"}'))
    _refused(again, 409, ALREADY_EXISTS)
    assert _setting(edge, admin_session, key) == first
    for taken in ("inventory.something", "financing.base_rate", "payment.my_own"):
        _named(_create_setting(edge, admin_session, taken, {"value_type": "VALUE_TYPE_STRING", "value": "x"}),
               "setting_id")
    _named(_create_setting(edge, admin_session, "Dealership.Banner", {"value_type": "VALUE_TYPE_STRING"}),
           "setting_id")
    _named(_create_setting(edge, admin_session, "banner", {"value_type": "VALUE_TYPE_STRING"}), "setting_id")
    _named(_create_setting(edge, admin_session, _fresh("dealership.typeless_"), {"value": "x"}),
           "setting.value_type")
    assert _setting(edge, admin_session, BASE_RATE)["service"] == "financing"


# Branches.

def test_the_seeded_branch_is_listed_publicly_with_its_time_zone_and_hours(edge):
    branches = _all_pages(edge, "/admin/branches", "branches", {})
    seeded = next((branch for branch in branches if branch["name"] == SEEDED_BRANCH), None)
    assert seeded is not None, [branch["name"] for branch in branches]
    assert seeded["time_zone"] == "Europe/Moscow" and seeded["active"] is True
    assert seeded["display_name"] and seeded["address"]
    hours = {(opening["weekday"], opening["opens"], opening["closes"]) for opening in seeded["hours"]}
    assert ("WEEKDAY_MONDAY", "09:00", "20:00") in hours and ("WEEKDAY_SATURDAY", "10:00", "18:00") in hours
    assert not any(opening["weekday"] == "WEEKDAY_SUNDAY" for opening in seeded["hours"])
    assert "2027-01-01" in seeded["days_off"]
    assert all(branch["active"] for branch in branches)
    names = [branch["name"] for branch in branches]
    assert names == sorted(names) and len(names) == len(set(names))
    assert _ok(edge.get(f"/admin/{SEEDED_BRANCH}")) == seeded


def test_an_admin_opens_a_branch_with_hours_and_days_off(edge, admin_session, client_session):
    branch_id = _fresh("e2e-")
    hours = [{"weekday": "WEEKDAY_SATURDAY", "opens": "10:00", "closes": "16:00"},
             {"weekday": "WEEKDAY_MONDAY", "opens": "14:00", "closes": "19:00"},
             {"weekday": "WEEKDAY_MONDAY", "opens": "09:00", "closes": "13:00"}]
    created = _ok(_create_branch(edge, admin_session, branch_id, _branch_body(
        hours=hours, days_off=["2027-03-08", "2027-01-01"], active=False)))
    assert created["name"] == f"branches/{branch_id}"
    assert (created["time_zone"], created["active"], created["etag"]) == ("Asia/Yekaterinburg", True, "1")
    assert [(opening["weekday"], opening["opens"], opening["closes"]) for opening in created["hours"]] == [
        ("WEEKDAY_MONDAY", "09:00", "13:00"), ("WEEKDAY_MONDAY", "14:00", "19:00"),
        ("WEEKDAY_SATURDAY", "10:00", "16:00")]
    assert created["days_off"] == ["2027-01-01", "2027-03-08"]
    assert created["audit"]["created_by"] == admin_session["user"]["name"]
    # Public, for booking pages.
    assert _ok(edge.get(f"/admin/branches/{branch_id}")) == created
    assert _ok(edge.get(f"/admin/branches/{branch_id}", headers=bearer(client_session))) == created
    assert created in _all_pages(edge, "/admin/branches", "branches", {})
    _refused(_create_branch(edge, admin_session, branch_id, _branch_body()), 409, ALREADY_EXISTS)


def test_a_branch_that_does_not_exist_is_404(edge):
    _refused(edge.get("/admin/branches/no-such-branch"), 404, NOT_FOUND)


def test_bad_branches_are_400_naming_every_field(edge, admin_session):
    response = _create_branch(edge, admin_session, _fresh("e2e-"), _branch_body(
        time_zone="Mars/Olympus_Mons", display_name=" ",
        hours=[{"weekday": "WEEKDAY_MONDAY", "opens": "25:00", "closes": "18:00"},
               {"weekday": "WEEKDAY_TUESDAY", "opens": "9:00", "closes": "18:00"},
               {"weekday": "WEEKDAY_WEDNESDAY", "opens": "18:00", "closes": "09:00"}],
        days_off=["2027-02-30"]))
    _named(response, "branch.time_zone", "branch.display_name", "branch.hours[0].opens", "branch.hours[1].opens",
           "branch.days_off[0]")
    no_day = _create_branch(edge, admin_session, _fresh("e2e-"), _branch_body(
        hours=[{"opens": "09:00", "closes": "18:00"}]))
    _named(no_day, "branch.hours[0].weekday")
    backwards = _create_branch(edge, admin_session, _fresh("e2e-"), _branch_body(
        hours=[{"weekday": "WEEKDAY_MONDAY", "opens": "18:00", "closes": "09:00"}]))
    _named(backwards, "branch.hours[0].closes")
    overlapping = _create_branch(edge, admin_session, _fresh("e2e-"), _branch_body(
        hours=[{"weekday": "WEEKDAY_MONDAY", "opens": "09:00", "closes": "13:00"},
               {"weekday": "WEEKDAY_MONDAY", "opens": "12:00", "closes": "18:00"}]))
    assert "monday" in _named(overlapping, "branch.hours")["branch.hours"]
    for bad_id in ("X", "-e2e", "e2e-", "a" * 41, "e2e_branch"):
        _named(_create_branch(edge, admin_session, bad_id, _branch_body()), "branch_id")
    nameless = [branch["name"] for branch in _all_pages(edge, "/admin/branches", "branches", {})
                if branch["time_zone"] == "Mars/Olympus_Mons"]
    assert nameless == []


def test_a_branch_changes_with_an_update_mask_and_its_etag(edge, admin_session):
    branch = _new_branch(edge, admin_session)
    path = f"/admin/{branch['name']}"
    new_hours = [{"weekday": "WEEKDAY_SUNDAY", "opens": "11:00", "closes": "17:00"}]
    changed = _ok(edge.patch(path, params={"update_mask": "display_name,hours"}, headers=bearer(admin_session),
                             json={"display_name": "Autosalon Ekb", "hours": new_hours, "address": "ignored",
                                   "etag": branch["etag"]}))
    assert changed["display_name"] == "Autosalon Ekb" and changed["address"] == branch["address"]
    assert changed["hours"] == new_hours and changed["days_off"] == branch["days_off"]
    assert changed["etag"] == "2" and changed["time_zone"] == branch["time_zone"]
    stale = edge.patch(path, params={"update_mask": "address"}, headers=bearer(admin_session),
                       json={"address": "Yekaterinburg, Lenina 5", "etag": branch["etag"]})
    _refused(stale, 409, ABORTED)
    bad = edge.patch(path, params={"update_mask": "time_zone,days_off"}, headers=bearer(admin_session),
                     json={"time_zone": "Europe/Atlantis", "days_off": ["tomorrow"]})
    _named(bad, "branch.time_zone", "branch.days_off[0]")
    _named(edge.patch(path, params={"update_mask": "etag"}, headers=bearer(admin_session), json={}), "update_mask")
    assert _ok(edge.get(path)) == changed


def test_a_closed_branch_is_hidden_from_the_public_but_not_from_staff(edge, admin_session, manager_session):
    branch = _new_branch(edge, admin_session)
    closed = _ok(edge.patch(f"/admin/{branch['name']}", params={"update_mask": "active"},
                            headers=bearer(admin_session), json={"active": False}))
    assert closed["active"] is False
    assert branch["name"] not in {found["name"] for found in _all_pages(edge, "/admin/branches", "branches", {})}
    staff = _all_pages(edge, "/admin/branches", "branches", bearer(manager_session), show_inactive="true")
    assert branch["name"] in {found["name"] for found in staff}
    _named(edge.get("/admin/branches", params={"show_inactive": "true"}), "show_inactive")


def test_only_an_admin_opens_or_changes_a_branch(edge, admin_session, manager_session, client_session):
    branch_id = _fresh("e2e-")
    _denied_by_the_rule(_create_branch(edge, client_session, branch_id, _branch_body()))
    _denied_by_the_rule(_create_branch(edge, manager_session, branch_id, _branch_body()))
    _refused(_create_branch(edge, None, branch_id, _branch_body()), 401, UNAUTHENTICATED)
    _refused(edge.get(f"/admin/branches/{branch_id}"), 404, NOT_FOUND)
    _denied_by_the_rule(edge.patch(f"/admin/{SEEDED_BRANCH}", params={"update_mask": "display_name"},
                                   headers=bearer(client_session), json={"display_name": "Mine"}))
    _refused(edge.patch(f"/admin/{SEEDED_BRANCH}", params={"update_mask": "display_name"},
                        json={"display_name": "Mine"}), 401, UNAUTHENTICATED)
    assert _ok(edge.get(f"/admin/{SEEDED_BRANCH}"))["display_name"] != "Mine"


# Salespeople.

def _make_salesperson(edge, session: dict, user: str, branch: str, display_name: str = "Anna Sidorova"):
    return edge.post("/admin/salespeople", headers=bearer(session),
                     json={"user": user, "display_name": display_name, "branch": branch})


def test_an_admin_makes_a_manager_a_salesperson_at_a_branch(edge, admin_session, manager_session):
    branch, other = _new_branch(edge, admin_session), _new_branch(edge, admin_session)
    seller = _new_manager(edge, admin_session)
    user = seller["user"]["name"]
    made = _ok(_make_salesperson(edge, admin_session, user, branch["name"]))
    assert made["name"] == f"salespeople/{user.removeprefix('users/')}"
    assert (made["user"], made["branch"], made["display_name"], made["active"], made["etag"]) == (
        user, branch["name"], "Anna Sidorova", True, "1")
    _refused(_make_salesperson(edge, admin_session, user, other["name"]), 409, ALREADY_EXISTS)
    # Staff read them, by branch when asked.
    assert _ok(edge.get(f"/admin/{made['name']}", headers=bearer(manager_session))) == made
    at_branch = _all_pages(edge, "/admin/salespeople", "salespeople", bearer(manager_session), branch=branch["name"])
    assert at_branch == [made]
    assert _all_pages(edge, "/admin/salespeople", "salespeople", bearer(admin_session), branch=other["name"]) == []
    everyone = _all_pages(edge, "/admin/salespeople", "salespeople", bearer(admin_session), page_size=1)
    assert made in everyone and len({person["name"] for person in everyone}) == len(everyone)
    # Moved to another branch.
    moved = _ok(edge.patch(f"/admin/{made['name']}", params={"update_mask": "branch"}, headers=bearer(admin_session),
                           json={"branch": other["name"], "display_name": "ignored", "etag": "1"}))
    assert (moved["branch"], moved["display_name"], moved["etag"]) == (other["name"], "Anna Sidorova", "2")
    assert _all_pages(edge, "/admin/salespeople", "salespeople", bearer(admin_session), branch=branch["name"]) == []
    assert _all_pages(edge, "/admin/salespeople", "salespeople", bearer(admin_session),
                      branch=other["name"]) == [moved]
    stale = edge.patch(f"/admin/{made['name']}", params={"update_mask": "active"}, headers=bearer(admin_session),
                       json={"active": False, "etag": "1"})
    _refused(stale, 409, ABORTED)
    retired = _ok(edge.patch(f"/admin/{made['name']}", params={"update_mask": "active"},
                             headers=bearer(admin_session), json={"active": False}))
    assert retired["active"] is False and retired["branch"] == other["name"]


def test_a_client_or_an_admin_is_no_salesperson(edge, admin_session, client_session):
    for user in (client_session["user"]["name"], admin_session["user"]["name"]):
        refused = _refused(_make_salesperson(edge, admin_session, user, SEEDED_BRANCH), 400, FAILED_PRECONDITION)
        assert user in refused["message"], refused
    _refused(edge.get(f"/admin/salespeople/{client_session['user']['name'].removeprefix('users/')}",
                      headers=bearer(admin_session)), 404, NOT_FOUND)


def test_a_salesperson_needs_an_open_branch_and_a_known_user(edge, admin_session):
    seller = _new_manager(edge, admin_session)
    closed = _new_branch(edge, admin_session)
    _ok(edge.patch(f"/admin/{closed['name']}", params={"update_mask": "active"}, headers=bearer(admin_session),
                   json={"active": False}))
    _refused(_make_salesperson(edge, admin_session, seller["user"]["name"], closed["name"]), 400, FAILED_PRECONDITION)
    _refused(_make_salesperson(edge, admin_session, seller["user"]["name"], "branches/no-such-branch"), 400,
             FAILED_PRECONDITION)
    stranger = uuid.uuid4()
    # The contract names no code for a user who does not exist; auth's NOT_FOUND comes through.
    _refused(_make_salesperson(edge, admin_session, f"users/{stranger}", SEEDED_BRANCH), 404, NOT_FOUND)
    _refused(edge.get(f"/admin/salespeople/{stranger}", headers=bearer(admin_session)), 404, NOT_FOUND)
    _named(edge.post("/admin/salespeople", headers=bearer(admin_session),
                     json={"user": "someone", "display_name": " ", "branch": "moscow"}),
           "salesperson.user")
    _named(_make_salesperson(edge, admin_session, seller["user"]["name"], "moscow"), "salesperson.branch")
    _named(_make_salesperson(edge, admin_session, seller["user"]["name"], SEEDED_BRANCH, display_name=" "),
           "salesperson.display_name")


def test_only_staff_see_salespeople_and_only_admins_make_them(edge, manager_session, client_session):
    _denied_by_the_rule(edge.get("/admin/salespeople", headers=bearer(client_session)))
    _denied_by_the_rule(edge.get(f"/admin/salespeople/{uuid.uuid4()}", headers=bearer(client_session)))
    _refused(edge.get("/admin/salespeople"), 401, UNAUTHENTICATED)
    _denied_by_the_rule(_make_salesperson(edge, manager_session, manager_session["user"]["name"], SEEDED_BRANCH))
    _denied_by_the_rule(_make_salesperson(edge, client_session, manager_session["user"]["name"], SEEDED_BRANCH))


# Native gRPC through the edge.

def _authorized(session: dict) -> tuple:
    return (("authorization", f"Bearer {session['access_token']}"),)


async def test_settings_over_native_grpc(edge_channel, admin_session, manager_session, client_session):
    stub = config_pb2_grpc.ConfigServiceStub(edge_channel)
    hold = await stub.GetSetting(config_pb2.GetSettingRequest(name=f"settings/{SAGA_HOLD}"),
                                 metadata=_authorized(manager_session))
    assert (hold.value_type, hold.default_value, hold.minimum, hold.service) == (
        config_pb2.VALUE_TYPE_INT, "1800", "60", "inventory")
    first = await stub.ListSettings(config_pb2.ListSettingsRequest(service="financing", page_size=1),
                                    metadata=_authorized(manager_session))
    assert len(first.settings) == 1 and first.next_page_token
    rest = await stub.ListSettings(
        config_pb2.ListSettingsRequest(service="financing", page_token=first.next_page_token),
        metadata=_authorized(manager_session))
    assert {setting.name for setting in [*first.settings, *rest.settings]} == {
        f"settings/{BASE_RATE}", "settings/financing.average_market_full_cost"}

    change = config_pb2.UpdateSettingRequest(setting=config_pb2.Setting(name=f"settings/{SAGA_HOLD}", value="abc"))
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await stub.UpdateSetting(change, metadata=_authorized(admin_session))
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_fields(invalid.value) == {"setting.value"}
    with pytest.raises(grpc.aio.AioRpcError) as manager:
        await stub.UpdateSetting(change, metadata=_authorized(manager_session))
    assert manager.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as client:
        await stub.GetSetting(config_pb2.GetSettingRequest(name=f"settings/{SAGA_HOLD}"),
                              metadata=_authorized(client_session))
    assert client.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub.ListSettings(config_pb2.ListSettingsRequest())
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    after = await stub.GetSetting(config_pb2.GetSettingRequest(name=f"settings/{SAGA_HOLD}"),
                                  metadata=_authorized(admin_session))
    assert (after.value, after.revision) == (hold.value, hold.revision)


async def test_the_dealerships_own_setting_changes_over_native_grpc(edge_channel, admin_session):
    stub = config_pb2_grpc.ConfigServiceStub(edge_channel)
    key = _fresh("dealership.grpc_greeting_")
    created = await stub.CreateSetting(config_pb2.CreateSettingRequest(setting_id=key, setting=config_pb2.Setting(
        value_type=config_pb2.VALUE_TYPE_STRING, value="hello", choices=["hello", "welcome"])),
        metadata=_authorized(admin_session))
    assert (created.value, created.revision, created.service) == ("hello", 1, "")
    changed = await stub.UpdateSetting(config_pb2.UpdateSettingRequest(
        setting=config_pb2.Setting(name=created.name, value="welcome", etag=created.etag)),
        metadata=_authorized(admin_session))
    assert (changed.value, changed.revision) == ("welcome", 2)
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.UpdateSetting(config_pb2.UpdateSettingRequest(
            setting=config_pb2.Setting(name=created.name, value="hello", etag=created.etag)),
            metadata=_authorized(admin_session))
    assert stale.value.code() == grpc.StatusCode.ABORTED
    with pytest.raises(grpc.aio.AioRpcError) as not_a_choice:
        await stub.UpdateSetting(config_pb2.UpdateSettingRequest(
            setting=config_pb2.Setting(name=created.name, value="hi")), metadata=_authorized(admin_session))
    assert not_a_choice.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_fields(not_a_choice.value) == {"setting.value"}
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await stub.CreateSetting(config_pb2.CreateSettingRequest(setting_id=key, setting=config_pb2.Setting(
            value_type=config_pb2.VALUE_TYPE_STRING)), metadata=_authorized(admin_session))
    assert again.value.code() == grpc.StatusCode.ALREADY_EXISTS
    history = await stub.ListSettingChanges(config_pb2.ListSettingChangesRequest(name=created.name),
                                            metadata=_authorized(admin_session))
    assert [(change.revision, change.value_before, change.value_after) for change in history.changes] == [
        (2, "hello", "welcome"), (1, "", "hello")]
    assert {change.changed_by for change in history.changes} == {admin_session["user"]["name"]}


async def test_branches_over_native_grpc(edge_channel, admin_session, client_session):
    stub = config_pb2_grpc.ConfigServiceStub(edge_channel)
    seeded = await stub.GetBranch(config_pb2.GetBranchRequest(name=SEEDED_BRANCH))  # no token: public
    assert seeded.time_zone == "Europe/Moscow" and seeded.active
    assert config_pb2.OpeningHours(weekday=config_pb2.WEEKDAY_MONDAY, opens="09:00", closes="20:00") in seeded.hours
    branch = config_pb2.Branch(display_name="Autosalon Kazan", address="Kazan, Baumana 1", time_zone="Europe/Moscow",
                               hours=[config_pb2.OpeningHours(weekday=config_pb2.WEEKDAY_FRIDAY, opens="09:00",
                                                              closes="18:00")])
    branch_id = _fresh("e2e-grpc-")
    with pytest.raises(grpc.aio.AioRpcError) as client:
        await stub.CreateBranch(config_pb2.CreateBranchRequest(branch_id=branch_id, branch=branch),
                                metadata=_authorized(client_session))
    assert client.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub.CreateBranch(config_pb2.CreateBranchRequest(branch_id=branch_id, branch=branch))
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    bad = config_pb2.Branch()
    bad.CopyFrom(branch)
    bad.time_zone = "Europe/Atlantis"
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await stub.CreateBranch(config_pb2.CreateBranchRequest(branch_id=branch_id, branch=bad),
                                metadata=_authorized(admin_session))
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_fields(invalid.value) == {"branch.time_zone"}
    created = await stub.CreateBranch(config_pb2.CreateBranchRequest(branch_id=branch_id, branch=branch),
                                      metadata=_authorized(admin_session))
    assert created.name == f"branches/{branch_id}" and created.active and list(created.hours) == list(branch.hours)
    assert await stub.GetBranch(config_pb2.GetBranchRequest(name=created.name)) == created
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetBranch(config_pb2.GetBranchRequest(name="branches/no-such-branch"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
