"""auth end to end through the Envoy edge over REST/JSON."""
import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from scripts.mesh.layout import LOGS
from services.kit.settings import load

from .conftest import STRONG_PASSWORD, bearer, login, new_email, register


def violations(response) -> dict:
    """Field -> description from a google.rpc.BadRequest in a JSON error body."""
    found = {}
    for detail in response.json().get("details", []):
        for violation in detail.get("field_violations", detail.get("fieldViolations", [])):
            found[violation["field"]] = violation["description"]
    return found


def offending_fields(response) -> set[str]:
    """The fields a JSON 400 names: its BadRequest violations or, for a value the edge's
    transcoder could not read into the request, the field its message starts with."""
    found = set(violations(response))
    field, separator, _ = response.json()["message"].partition(": ")
    return found or ({field} if separator else set())


# Ways an access token can be unfit to sign in with; bad_authorization makes each one.
BAD_TOKENS = ["garbage", "without-bearer", "tampered", "wrongly-signed", "unknown-key", "unsigned",
              "expired", "other-issuer", "other-audience", "unknown-role", "refresh-token"]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def bad_authorization(session: dict, kind: str) -> dict:
    """An authorization header, made from `session`'s own tokens, that must be refused with 401."""
    token = session["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    header, _, signature = token.split(".")
    now = int(time.time())

    def signed(key=None, key_id: str = kid, **changes) -> str:
        key = key or load().signing_key_path.read_bytes()
        return jwt.encode({**claims, **changes}, key, algorithm="ES256", headers={"kid": key_id})

    forged = {
        "garbage": lambda: "not.a.jwt",
        "tampered": lambda: ".".join([header, _b64({**claims, "role": "admin"}), signature]),
        "wrongly-signed": lambda: signed(ec.generate_private_key(ec.SECP256R1())),
        "unknown-key": lambda: signed(key_id="retired-key"),
        "unsigned": lambda: jwt.encode(claims, None, algorithm="none"),
        "expired": lambda: signed(iat=now - 4500, exp=now - 3600),
        "other-issuer": lambda: signed(iss="someone-else"),
        "other-audience": lambda: signed(aud="someone-else"),
        "unknown-role": lambda: signed(role="root"),
        "refresh-token": lambda: session["refresh_token"],
    }
    if kind == "without-bearer":
        return {"authorization": token}
    return {"authorization": f"Bearer {forged[kind]()}"}


def test_register_login_me_refresh_reuse_logout(edge):
    email = new_email()
    user = register(edge, email)
    assert user["email"] == email
    assert user["role"] == "ROLE_CLIENT"
    assert user["name"].startswith("users/")
    assert not {"password", "password_hash", "confirm_password"} & set(user)

    tokens = login(edge, email.upper(), STRONG_PASSWORD)
    assert tokens["token_type"] == "Bearer"
    me = edge.get("/auth/me", headers=bearer(tokens))
    assert me.status_code == 200, me.text
    assert me.json()["name"] == user["name"]

    rotated = edge.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store", "an answer with tokens is never stored"
    rotated = rotated.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert edge.get("/auth/me", headers=bearer(rotated)).status_code == 200

    # The spent token comes back: the whole family is revoked, the fresh token included.
    replay = edge.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert replay.status_code == 401
    assert "already used" in replay.json()["message"]
    after_reuse = edge.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after_reuse.status_code == 401

    # A new sign-in works, and logging out ends it.
    second = login(edge, email, STRONG_PASSWORD)
    out = edge.post("/auth/logout", json={"refresh_token": second["refresh_token"]},
                    headers=bearer(second))
    assert out.status_code == 200, out.text
    after_logout = edge.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after_logout.status_code == 401


@pytest.mark.parametrize(
    "change, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short1A", "confirm_password": "short1A"}, "password"),
        ({"password": "alllowercase-no-digits", "confirm_password": "alllowercase-no-digits"},
         "password"),
        ({"confirm_password": "Something-Else-42"}, "confirm_password"),
        ({"full_name": "   "}, "full_name"),
        ({"phone": "12345"}, "phone"),
    ],
)
def test_register_rejects_bad_fields_with_field_errors(edge, change, field):
    body = {"email": new_email(), "password": STRONG_PASSWORD,
            "confirm_password": STRONG_PASSWORD, "full_name": "Anna Smirnova", **change}
    response = edge.post("/auth/register", json=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert field in violations(response)
    # Nothing half-written: the email is still free.
    if field != "email":
        fixed = {**body, "password": STRONG_PASSWORD, "confirm_password": STRONG_PASSWORD,
                 "full_name": "Anna Smirnova", "phone": ""}
        assert edge.post("/auth/register", json=fixed).status_code == 200


def test_register_reports_every_bad_field_at_once(edge):
    response = edge.post("/auth/register", json={
        "email": "nope", "password": "weak", "confirm_password": "other", "full_name": ""})
    assert response.status_code == 400
    assert {"email", "password", "confirm_password", "full_name"} <= set(violations(response))


def test_unknown_json_shape_is_a_400(edge):
    email = new_email()
    response = edge.post("/auth/register", json={
        "email": email, "password": STRONG_PASSWORD, "confirm_password": STRONG_PASSWORD,
        "full_name": "Anna", "favourite_colour": "red"})
    assert response.status_code == 400
    assert set(violations(response)) == {"favourite_colour"}
    # Nothing was registered.
    assert edge.post("/auth/login", json={"email": email, "password": STRONG_PASSWORD}).status_code == 401
    assert edge.get("/auth/jwks.json", params={"bogus": "1"}).status_code == 400
    response = edge.post("/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_duplicate_email_in_another_case_is_409(edge):
    email = new_email("Dup")
    register(edge, email)
    again = edge.post("/auth/register", json={
        "email": email.upper(), "password": STRONG_PASSWORD,
        "confirm_password": STRONG_PASSWORD, "full_name": "Someone Else"})
    assert again.status_code == 409, again.text


def test_a_sign_in_answer_is_never_stored(edge):
    email = new_email()
    register(edge, email)
    signed_in = edge.post("/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    assert signed_in.status_code == 200 and signed_in.headers["cache-control"] == "no-store"


def test_wrong_password_is_401(edge):
    user = register(edge)
    response = edge.post("/auth/login", json={"email": user["email"], "password": "Wrong-Pass-99"})
    assert response.status_code == 401
    unknown = edge.post("/auth/login", json={"email": new_email(), "password": "Wrong-Pass-99"})
    assert unknown.status_code == 401
    assert unknown.json()["message"] == response.json()["message"]


def test_me_needs_a_valid_token(edge):
    missing = edge.get("/auth/me")
    assert missing.status_code == 401
    assert missing.json()["code"] == 16  # UNAUTHENTICATED, as a google.rpc.Status
    garbage = edge.get("/auth/me", headers={"authorization": "Bearer not.a.jwt"})
    assert garbage.status_code == 401
    assert garbage.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("method, path", [
    ("GET", "/no/such/resource"), ("DELETE", "/auth/me"), ("PUT", "/catalog/models"),
])
def test_a_path_no_method_answers_is_404_naming_it(edge, client_session, method, path):
    """With or without a token: a typo is not reported as a missing sign-in."""
    for headers in ({}, bearer(client_session)):
        response = edge.request(method, path, headers=headers)
        assert response.status_code == 404, response.text
        assert response.json() == {"code": 5, "message": f"no API method answers {method} {path}", "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "NOT_FOUND", "domain": "autosalon"}]}


def test_expired_token_is_401(edge, client_session):
    settings = load()
    claims = jwt.decode(client_session["access_token"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(client_session["access_token"])["kid"]
    past = int(time.time()) - 3600
    expired = jwt.encode(
        {**claims, "iat": past - 900, "exp": past},
        settings.signing_key_path.read_bytes(), algorithm="ES256", headers={"kid": kid},
    )
    response = edge.get("/auth/me", headers={"authorization": f"Bearer {expired}"})
    assert response.status_code == 401


@pytest.mark.parametrize("kind", [None, *BAD_TOKENS], ids=["no-token", *BAD_TOKENS])
def test_logout_without_a_valid_access_token_is_401_and_ends_nothing(edge, client_session, kind):
    headers = {} if kind is None else bad_authorization(client_session, kind)
    response = edge.post("/auth/logout", json={"refresh_token": client_session["refresh_token"]},
                         headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == 16  # UNAUTHENTICATED
    # The sign-in goes on: its refresh token still works.
    assert edge.post("/auth/refresh", json={"refresh_token": client_session["refresh_token"]}).status_code == 200


def test_logout_of_an_unknown_or_ended_sign_in_is_a_harmless_200(edge, client_session):
    """Logout is idempotent: a refresh token auth never issued, or one already logged out,
    ends nothing and is not an error; the caller's own sign-in is untouched."""
    headers = bearer(client_session)
    for unknown in ("not-a-refresh-token", uuid.uuid4().hex):
        response = edge.post("/auth/logout", json={"refresh_token": unknown}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {}
    assert edge.get("/auth/me", headers=headers).status_code == 200
    rotated = edge.post("/auth/refresh", json={"refresh_token": client_session["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    refresh_token = rotated.json()["refresh_token"]
    for _ in range(2):
        out = edge.post("/auth/logout", json={"refresh_token": refresh_token}, headers=headers)
        assert out.status_code == 200, out.text
    assert edge.post("/auth/refresh", json={"refresh_token": refresh_token}).status_code == 401


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page_token": "garbage"}, "page_token"),
        ({"page_size": -1}, "page_size"),
        ({"role": "ROLE_NOPE"}, "role"),
    ],
    ids=["garbage-token", "negative-size", "unknown-role"],
)
def test_bad_user_list_queries_are_400_with_the_field(edge, admin_session, params, field):
    response = edge.get("/auth/users", params=params, headers=bearer(admin_session))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    assert field in offending_fields(response)


def test_client_may_not_list_users_or_raise_own_role(edge, client_session):
    headers = bearer(client_session)
    assert edge.get("/auth/users", headers=headers).status_code == 403
    name = client_session["user"]["name"]
    promote = edge.patch(f"/auth/{name}", params={"update_mask": "role"},
                         json={"role": "ROLE_ADMIN"}, headers=headers)
    assert promote.status_code == 403, promote.text
    me = edge.get("/auth/me", headers=headers).json()
    assert me["role"] == "ROLE_CLIENT"


def test_client_updates_own_profile_with_a_field_mask(edge, client_session):
    name = client_session["user"]["name"]
    response = edge.patch(f"/auth/{name}", params={"update_mask": "full_name"},
                          json={"full_name": "Ivan I. Petrov", "phone": "+70000000000"},
                          headers=bearer(client_session))
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Ivan I. Petrov"
    # phone was not in the mask: unchanged.
    assert response.json()["phone"] == "+79161234567"


def test_client_reads_only_itself(edge, client_session):
    other = register(edge)
    response = edge.get(f"/auth/{other['name']}", headers=bearer(client_session))
    assert response.status_code == 403
    own = edge.get(f"/auth/{client_session['user']['name']}", headers=bearer(client_session))
    assert own.status_code == 200


def test_admin_lists_pages_promotes_and_deactivates(edge, admin_session):
    headers = bearer(admin_session)
    users = [register(edge) for _ in range(3)]
    first = edge.get("/auth/users", params={"page_size": 2, "role": "ROLE_CLIENT"}, headers=headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["users"]) == 2 and page["next_page_token"]
    assert page["total_size"] >= 3
    second = edge.get("/auth/users", params={"page_size": 2, "role": "ROLE_CLIENT",
                                             "page_token": page["next_page_token"]}, headers=headers)
    assert second.status_code == 200
    assert {u["name"] for u in page["users"]}.isdisjoint({u["name"] for u in second.json()["users"]})
    wrong_query = edge.get("/auth/users", params={"page_size": 2, "role": "ROLE_ADMIN",
                                                  "page_token": page["next_page_token"]},
                           headers=headers)
    assert wrong_query.status_code == 400

    target = users[0]
    promoted = edge.patch(f"/auth/{target['name']}", params={"update_mask": "role"},
                          json={"role": "ROLE_MANAGER"}, headers=headers)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "ROLE_MANAGER"

    deleted = edge.delete(f"/auth/{target['name']}", headers=headers)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["active"] is False
    refused = edge.post("/auth/login", json={"email": target["email"], "password": STRONG_PASSWORD})
    assert refused.status_code == 401


def test_an_account_change_ends_its_old_tokens_everywhere_at_once(edge, admin_session):
    """Access tokens live 15 minutes, but every service hears auth's account events: a token
    with a role its account no longer has, or of a deactivated account, is refused at once."""
    admin = bearer(admin_session)
    user = register(edge)
    session = login(edge, user["email"], STRONG_PASSWORD)
    reads = ("/auth/me", "/customers/me", "/sales/orders", "/payments")

    def refused_everywhere(tokens: dict, message: str) -> bool:
        answers = [edge.get(path, headers=bearer(tokens)) for path in reads]
        return all(a.status_code == 401 and message in a.json()["message"] for a in answers)

    assert all(edge.get(path, headers=bearer(session)).status_code == 200 for path in reads)
    promoted = edge.patch(f"/auth/{user['name']}", params={"update_mask": "role"},
                          json={"role": "ROLE_MANAGER"}, headers=admin)
    assert promoted.status_code == 200, promoted.text
    assert _eventually(lambda: refused_everywhere(session, "role is now manager"))
    as_manager = login(edge, user["email"], STRONG_PASSWORD)
    assert all(edge.get(path, headers=bearer(as_manager)).status_code == 200 for path in reads)
    assert edge.delete(f"/auth/{user['name']}", headers=admin).status_code == 200
    assert _eventually(lambda: refused_everywhere(as_manager, "deactivated"))
    # Back in service: the tokens from before the deactivation stay refused.
    reactivated = edge.patch(f"/auth/{user['name']}", params={"update_mask": "active"}, json={"active": True},
                             headers=admin)
    assert reactivated.status_code == 200, reactivated.text
    assert _eventually(lambda: refused_everywhere(as_manager, "access changed after the token was issued"))
    again = login(edge, user["email"], STRONG_PASSWORD)
    assert all(edge.get(path, headers=bearer(again)).status_code == 200 for path in reads)


def _eventually(check, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_unknown_user_is_404_and_bad_name_is_400(edge, admin_session):
    headers = bearer(admin_session)
    missing = edge.get("/auth/users/00000000-0000-0000-0000-000000000000", headers=headers)
    assert missing.status_code == 404
    assert edge.get("/auth/users/not-a-uuid", headers=headers).status_code == 400
    assert edge.get("/auth/users", params={"page_size": -1}, headers=headers).status_code == 400


def test_jwks_is_public(edge):
    response = edge.get("/auth/jwks.json")
    assert response.status_code == 200
    key = response.json()["keys"][0]
    assert key["kty"] == "EC" and key["alg"] == "ES256" and key["kid"]


def test_edge_health_and_trace_id(edge):
    response = edge.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "SERVING"}
    trace_id = f"trace-e2e-{uuid.uuid4().hex[:8]}"
    # A call auth refuses (its failures are logged; successes only at debug level).
    traced = edge.post("/auth/login", json={}, headers={"x-request-id": trace_id})
    assert traced.status_code == 400 and traced.headers["x-request-id"] == trace_id

    # The service that answered logged the call under the client's trace id.
    def logged() -> bool:
        return any(trace_id in path.read_text() for path in LOGS.glob("auth-*.log"))
    assert _eventually(logged)


def test_a_client_changes_and_signs_out_no_one_else(edge, client_session, manager_session):
    other = register(edge)
    other_tokens = login(edge, other["email"], STRONG_PASSWORD)
    mine = bearer(client_session)
    renamed = edge.patch(f"/auth/{other['name']}", params={"update_mask": "full_name"},
                         json={"full_name": "Someone Else"}, headers=mine)
    assert renamed.status_code == 403, renamed.text
    assert edge.delete(f"/auth/{other['name']}", headers=mine).status_code == 403
    assert edge.delete(f"/auth/{other['name']}", headers=bearer(manager_session)).status_code == 403
    foreign_logout = edge.post("/auth/logout", json={"refresh_token": other_tokens["refresh_token"]},
                               headers=mine)
    assert foreign_logout.status_code == 403, foreign_logout.text
    empty_logout = edge.post("/auth/logout", json={}, headers=mine)
    assert empty_logout.status_code == 400 and "refresh_token" in violations(empty_logout)
    # The other user is untouched: same name, still active, still able to refresh.
    assert edge.post("/auth/refresh", json={"refresh_token": other_tokens["refresh_token"]}).status_code == 200
    assert edge.get("/auth/me", headers=bearer(other_tokens)).json()["full_name"] == other["full_name"]


def test_an_admin_cannot_lock_themselves_out(edge, admin_session):
    # A freshly promoted admin: a wrong answer must not disable the session's own admin.
    user = register(edge)
    promoted = edge.patch(f"/auth/{user['name']}", params={"update_mask": "role"},
                          json={"role": "ROLE_ADMIN"}, headers=bearer(admin_session))
    assert promoted.status_code == 200, promoted.text
    admin = bearer(login(edge, user["email"], STRONG_PASSWORD))
    for refused in (edge.delete(f"/auth/{user['name']}", headers=admin),
                    edge.patch(f"/auth/{user['name']}", params={"update_mask": "role"},
                               json={"role": "ROLE_CLIENT"}, headers=admin)):
        assert refused.status_code == 400 and refused.json()["code"] == 9, refused.text
    me = edge.get("/auth/me", headers=admin).json()
    assert me["role"] == "ROLE_ADMIN" and me["active"] is True


def test_admin_changes_to_unknown_or_malformed_users_are_404_and_400(edge, admin_session):
    headers, ghost = bearer(admin_session), f"users/{uuid.uuid4()}"
    assert edge.patch(f"/auth/{ghost}", params={"update_mask": "full_name"},
                      json={"full_name": "Nobody"}, headers=headers).status_code == 404
    assert edge.delete(f"/auth/{ghost}", headers=headers).status_code == 404
    malformed = edge.delete("/auth/users/not-a-uuid", headers=headers)
    assert malformed.status_code == 400 and "name" in violations(malformed)
