"""The account's emails through the edge, auth and notification together, read in the mesh's
mail server: an address verified by its link; a password reset by a link that works once and
ends every session, asked for with the same answer whether or not the address has an account;
a signed-in password change; a changed address, told to the old one and verified at the new;
each refusal naming its field, over REST and native gRPC."""
import re
import time

import grpc
import pytest
from google.protobuf import empty_pb2

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc

from .conftest import STRONG_PASSWORD, bearer, grpc_fields, login, new_email, register
from .mail import mail_to, subjects_to, text_of
from .test_auth_rest import violations

VERIFY_RU = "Подтвердите адрес электронной почты"
RESET_RU = "Восстановление пароля"
CHANGED_RU = "Пароль изменён"
NEW_PASSWORD = "Another-Horse-43"


def _token(address: str, subject: str, expected: int) -> str:
    subjects_to(address, expected)
    return re.search(r"token=([A-Za-z0-9_-]+)", text_of(address, subject)).group(1)


def _refused_field(answer, field: str) -> None:
    assert answer.status_code == 400, answer.text
    assert field in violations(answer), answer.text


def test_a_new_account_is_unverified_until_its_emailed_link_is_followed_once(edge):
    user = register(edge)
    session = login(edge, user["email"], STRONG_PASSWORD)
    assert not user.get("email_verified") and not edge.get("/auth/me", headers=bearer(session)).json().get(
        "email_verified")
    token = _token(user["email"], VERIFY_RU, 2)
    verified = edge.post("/auth/email:verify", json={"token": token})
    assert verified.status_code == 200 and verified.json()["email_verified"] is True, verified.text
    assert edge.get("/auth/me", headers=bearer(session)).json()["email_verified"] is True
    _refused_field(edge.post("/auth/email:verify", json={"token": token}), "token")
    again = edge.post("/auth/me:sendVerificationEmail", headers=bearer(session), json={})
    assert again.status_code == 400 and "verified already" in again.text, again.text


def test_a_verification_link_refuses_a_made_up_or_missing_token(edge):
    _refused_field(edge.post("/auth/email:verify", json={"token": "made-up"}), "token")
    _refused_field(edge.post("/auth/email:verify", json={}), "token")


def test_a_new_verification_link_voids_the_one_before(edge, client_session):
    email = client_session["user"]["email"]
    first = _token(email, VERIFY_RU, 2)
    assert edge.post("/auth/me:sendVerificationEmail", headers=bearer(client_session), json={}).status_code == 200
    second = _token(email, VERIFY_RU, 3)
    assert first != second
    _refused_field(edge.post("/auth/email:verify", json={"token": first}), "token")
    assert edge.post("/auth/email:verify", json={"token": second}).status_code == 200


def test_sending_a_verification_link_needs_a_sign_in(edge):
    assert edge.post("/auth/me:sendVerificationEmail", json={}).status_code == 401


def test_a_reset_is_answered_alike_for_any_address_and_emails_only_an_account(edge):
    user = register(edge)
    unknown = new_email("nobody")
    for address in (user["email"], unknown):
        answer = edge.post("/auth/password:requestReset", json={"email": address})
        assert (answer.status_code, answer.json()) == (200, {}), answer.text
    assert RESET_RU in subjects_to(user["email"], 3)
    assert mail_to(unknown) == []
    _refused_field(edge.post("/auth/password:requestReset", json={"email": "not an address"}), "email")


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(edge):
    user = register(edge)
    session = login(edge, user["email"], STRONG_PASSWORD)
    assert edge.post("/auth/password:requestReset", json={"email": user["email"]}).status_code == 200
    token = _token(user["email"], RESET_RU, 3)
    weak = edge.post("/auth/password:reset", json={"token": token, "new_password": "weak", "confirm_password": "weak"})
    _refused_field(weak, "new_password")
    reset = edge.post("/auth/password:reset", json={
        "token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.text
    _refused_field(edge.post("/auth/password:reset", json={
        "token": token, "new_password": "Third-Horse-44", "confirm_password": "Third-Horse-44"}), "token")
    assert edge.post("/auth/refresh", json={"refresh_token": session["refresh_token"]}).status_code == 401
    _until_refused(edge, session)
    assert edge.post("/auth/login", json={"email": user["email"], "password": STRONG_PASSWORD}).status_code == 401
    assert login(edge, user["email"], NEW_PASSWORD)["user"]["email_verified"] is True
    assert CHANGED_RU in subjects_to(user["email"], 4)


def _until_refused(edge, session: dict, seconds: float = 5) -> None:
    """The old access token is refused once the services heard of the new password."""
    deadline = time.monotonic() + seconds
    while edge.get("/auth/me", headers=bearer(session)).status_code != 401:
        assert time.monotonic() < deadline, "the access token from before the new password still works"
        time.sleep(0.1)


def test_a_signed_in_password_change_needs_the_current_one_and_keeps_only_the_new_sign_in(edge):
    user = register(edge)
    other_device = login(edge, user["email"], STRONG_PASSWORD)
    session = login(edge, user["email"], STRONG_PASSWORD)
    wrong = edge.post("/auth/me:changePassword", headers=bearer(session), json={
        "current_password": "Not-The-One-1", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    _refused_field(wrong, "current_password")
    mismatched = edge.post("/auth/me:changePassword", headers=bearer(session), json={
        "current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": "Other-Horse-45"})
    _refused_field(mismatched, "confirm_password")
    same = edge.post("/auth/me:changePassword", headers=bearer(session), json={
        "current_password": STRONG_PASSWORD, "new_password": STRONG_PASSWORD, "confirm_password": STRONG_PASSWORD})
    _refused_field(same, "new_password")
    changed = edge.post("/auth/me:changePassword", headers=bearer(session), json={
        "current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    fresh = changed.json()
    assert edge.post("/auth/refresh", json={"refresh_token": other_device["refresh_token"]}).status_code == 401
    _until_refused(edge, other_device)
    assert edge.get("/auth/me", headers=bearer(fresh)).status_code == 200, "the new sign-in works"
    assert CHANGED_RU in subjects_to(user["email"], 3)


def test_a_changed_address_is_told_to_the_old_one_and_verified_at_the_new(edge):
    user = register(edge)
    session = login(edge, user["email"], STRONG_PASSWORD)
    taken = register(edge)
    _refused_field(edge.post("/auth/me:changeEmail", headers=bearer(session), json={
        "new_email": new_email(), "password": "Not-The-One-1"}), "password")
    _refused_field(edge.post("/auth/me:changeEmail", headers=bearer(session), json={
        "new_email": "not an address", "password": STRONG_PASSWORD}), "new_email")
    assert edge.post("/auth/me:changeEmail", headers=bearer(session), json={
        "new_email": taken["email"].upper(), "password": STRONG_PASSWORD}).status_code == 409
    address = new_email("moved")
    moved = edge.post("/auth/me:changeEmail", headers=bearer(session), json={
        "new_email": address, "password": STRONG_PASSWORD})
    assert moved.status_code == 200, moved.text
    assert moved.json()["email"] == address and not moved.json().get("email_verified")
    notice = "Адрес почты учётной записи изменён"
    assert notice in subjects_to(user["email"], 3)
    assert address in text_of(user["email"], notice)
    token = _token(address, VERIFY_RU, 1)
    assert edge.post("/auth/email:verify", json={"token": token}).json()["email_verified"] is True
    assert login(edge, address, STRONG_PASSWORD)["user"]["email"] == address


async def test_native_grpc_refuses_as_rest_does(edge_channel, client_session):
    stub = auth_pb2_grpc.AuthServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as unusable:
        await stub.VerifyEmail(auth_pb2.VerifyEmailRequest(token="made-up"))
    assert unusable.value.code() == grpc.StatusCode.INVALID_ARGUMENT and grpc_fields(unusable.value) == {"token"}
    with pytest.raises(grpc.aio.AioRpcError) as wrong:
        await stub.ChangePassword(auth_pb2.ChangePasswordRequest(
            current_password="Not-The-One-1", new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD),
            metadata=(("authorization", f"Bearer {client_session['access_token']}"),))
    assert wrong.value.code() == grpc.StatusCode.INVALID_ARGUMENT and grpc_fields(wrong.value) == {"current_password"}
    answer = await stub.RequestPasswordReset(auth_pb2.RequestPasswordResetRequest(email=new_email("nobody")))
    assert answer == empty_pb2.Empty()
