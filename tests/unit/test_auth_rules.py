"""auth's domain rules: registration, password policy, profile updates, refresh families."""
import dataclasses
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.auth import domain, tokens
from services.kit import errors, identity

GOOD = "Correct-Horse-42"


def _violations(call) -> list[tuple[str, str]]:
    with pytest.raises(errors.InvalidArgument) as raised:
        call()
    return raised.value.violations


@pytest.mark.parametrize(
    "password, broken",
    [
        ("Short-1a", "at least 10"),
        ("lowercase-only-42", "upper-case"),
        ("UPPERCASE-ONLY-42", "lower-case"),
        ("No-Digits-Here-At-All", "digit"),
        ("Aa1" + "x" * 130, "at most 128"),
    ],
)
def test_each_password_rule_alone(password, broken):
    problems = domain.password_problems(password, "someone@example.ru")
    assert len(problems) == 1
    assert problems[0][0] == "password" and broken in problems[0][1]


def test_password_must_not_contain_the_email():
    problems = domain.password_problems("Ivanov-2026-Pass", "ivanov@example.ru")
    assert problems == [("password", "must not contain your email address")]


def test_good_password_passes():
    assert domain.password_problems(GOOD, "someone@example.ru") == []


@given(st.text(max_size=domain.MIN_PASSWORD - 1))
def test_any_short_password_is_rejected(password):
    problems = domain.password_problems(password, "x@example.ru")
    assert any("at least" in text for _, text in problems)


@pytest.mark.parametrize(
    "email",
    ["plain", "a@b", "a@@example.ru", "a b@example.ru", "@example.ru", "a@-example.ru",
     "a..b@example.ru", ".a@example.ru", "a@example.123", "x" * 65 + "@example.ru"],
)
def test_bad_emails(email):
    assert domain.email_problem(email) is not None


@pytest.mark.parametrize("email", ["ivan@example.ru", "Ivan.Petrov+cars@mail.example.com"])
def test_good_emails(email):
    assert domain.email_problem(email) is None


@given(st.emails())
def test_normalize_email_is_idempotent(email):
    once = domain.normalize_email(email)
    assert domain.normalize_email(once) == once


def test_registration_reports_every_bad_field_at_once():
    violations = _violations(
        lambda: domain.validate_registration("nope", "weak", "other", " ", "123"))
    fields = {field for field, _ in violations}
    assert fields == {"email", "password", "confirm_password", "full_name", "phone"}


def test_registration_cleans_up_fields():
    registration = domain.validate_registration(
        "  Ivan@Example.ru ", GOOD, GOOD, "  Ivan Petrov ", " +79161234567 ")
    assert registration == domain.Registration("Ivan@Example.ru", "Ivan Petrov", "+79161234567")


PROFILE = domain.UserProfile("u1", "c@example.ru", "Client", "", domain.Role.CLIENT, True)
ADMIN = domain.UserProfile("a1", "a@example.ru", "Admin", "", domain.Role.ADMIN, True)


def test_client_changes_own_name_and_phone():
    updated = domain.apply_profile_update(
        "u1", domain.Role.CLIENT, PROFILE,
        {"full_name": " New Name ", "phone": "+79990001122", "role": None, "active": True},
        ["full_name", "phone"])
    assert (updated.full_name, updated.phone, updated.role) == ("New Name", "+79990001122", domain.Role.CLIENT)


def test_fields_outside_the_mask_stay():
    updated = domain.apply_profile_update(
        "u1", domain.Role.CLIENT, PROFILE, {"full_name": "X Y", "phone": "+79990001122"}, ["full_name"])
    assert updated.phone == PROFILE.phone


@pytest.mark.parametrize("mask", [["role"], ["active"]])
def test_only_an_admin_changes_role_or_active(mask):
    with pytest.raises(errors.PermissionDenied):
        domain.apply_profile_update(
            "u1", domain.Role.CLIENT, PROFILE, {"role": domain.Role.ADMIN, "active": False}, mask)


def test_a_manager_corrects_a_clients_name_and_phone_but_nothing_else():
    updated = domain.apply_profile_update(
        "m1", domain.Role.MANAGER, PROFILE, {"full_name": "Ivan Petrov", "phone": "+79990001122"},
        ["full_name", "phone"])
    assert (updated.full_name, updated.phone) == ("Ivan Petrov", "+79990001122")
    with pytest.raises(errors.PermissionDenied):
        domain.apply_profile_update("m1", domain.Role.MANAGER, PROFILE, {"active": False}, ["active"])


@pytest.mark.parametrize("target", [ADMIN, dataclasses.replace(PROFILE, id="m2", role=domain.Role.MANAGER)])
def test_only_an_admin_changes_a_staff_members_profile(target):
    with pytest.raises(errors.PermissionDenied):
        domain.apply_profile_update("m1", domain.Role.MANAGER, target, {"full_name": "X Y"}, ["full_name"])


def test_a_client_changes_nobody_elses_profile():
    other = dataclasses.replace(PROFILE, id="u2")
    with pytest.raises(errors.PermissionDenied):
        domain.apply_profile_update("u1", domain.Role.CLIENT, other, {"full_name": "X Y"}, ["full_name"])


def test_admin_promotes_another_user():
    updated = domain.apply_profile_update(
        "a1", domain.Role.ADMIN, PROFILE, {"role": domain.Role.MANAGER}, ["role"])
    assert updated.role is domain.Role.MANAGER


@pytest.mark.parametrize("changes, mask", [({"role": domain.Role.CLIENT}, ["role"]),
                                           ({"active": False}, ["active"])])
def test_admin_cannot_lock_themselves_out(changes, mask):
    with pytest.raises(errors.FailedPrecondition):
        domain.apply_profile_update("a1", domain.Role.ADMIN, ADMIN, changes, mask)


@pytest.mark.parametrize("mask, field", [([], "update_mask"), (["email"], "update_mask"),
                                         (["password_hash"], "update_mask")])
def test_mask_must_name_known_writable_fields(mask, field):
    violations = _violations(
        lambda: domain.apply_profile_update("u1", domain.Role.CLIENT, PROFILE, {}, mask))
    assert violations[0][0] == field


def test_unspecified_role_is_rejected():
    violations = _violations(lambda: domain.apply_profile_update(
        "a1", domain.Role.ADMIN, PROFILE, {"role": None}, ["role"]))
    assert violations == [("user.role", "must be ROLE_CLIENT, ROLE_MANAGER or ROLE_ADMIN")]


def test_who_reads_whom():
    assert domain.can_read_user("u1", domain.Role.CLIENT, "u1")
    assert not domain.can_read_user("u1", domain.Role.CLIENT, "u2")
    assert domain.can_read_user("m1", domain.Role.MANAGER, "u2")


def test_password_hash_round_trip():
    hashed = domain.hash_password(GOOD)
    assert hashed != GOOD
    assert domain.verify_password(hashed, GOOD)
    assert not domain.verify_password(hashed, "Wrong-Horse-42")
    assert not domain.verify_password("not a hash", GOOD)


NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def _record(**changes) -> tokens.RefreshToken:
    _, record = tokens.new_refresh_token("u1", "f1", NOW, timedelta(days=30))
    return tokens.RefreshToken(**{**record.__dict__, **changes})


@pytest.mark.parametrize(
    "record, decision",
    [
        (None, tokens.RefreshDecision.REJECT),
        (_record(), tokens.RefreshDecision.ROTATE),
        (_record(used_at=NOW), tokens.RefreshDecision.REUSE_DETECTED),
        (_record(revoked_at=NOW), tokens.RefreshDecision.REJECT),
        (_record(used_at=NOW, revoked_at=NOW), tokens.RefreshDecision.REJECT),
        (_record(expires_at=NOW - timedelta(seconds=1)), tokens.RefreshDecision.REJECT),
    ],
)
def test_refresh_decisions(record, decision):
    assert tokens.decide_refresh(record, NOW) is decision


def test_refresh_tokens_are_stored_only_as_hashes():
    plain, record = tokens.new_refresh_token("u1", "f1", NOW, timedelta(days=1))
    assert plain not in record.token_hash
    assert record.token_hash == tokens.token_digest(plain)
    assert record.expires_at == NOW + timedelta(days=1)


async def test_issued_tokens_verify_against_the_published_jwks():
    pem, kid = tokens.generate_signing_key()
    signer = tokens.TokenSigner(pem, kid)
    token = signer.issue_access_token(
        "u1", "manager", "m@example.ru", datetime.now(timezone.utc), timedelta(minutes=5))
    assert jwt.get_unverified_header(token)["kid"] == kid

    async def jwks():
        return signer.jwks()

    who = await identity.TokenVerifier(jwks).verify(token)
    assert (who.user_id, who.role, who.email) == ("u1", "manager", "m@example.ru")


def test_key_id_is_stable_for_a_key(tmp_path):
    pem, kid = tokens.generate_signing_key()
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem)
    assert tokens.TokenSigner.from_file(key_file).kid == kid


def test_a_new_password_names_each_fault_under_its_own_field():
    assert _violations(lambda: domain.check_new_password("weak", "weak", "olga@example.ru")) == [
        ("new_password", "must be at least 10 characters long"), ("new_password", "must contain an upper-case letter"),
        ("new_password", "must contain a digit")]
    assert _violations(lambda: domain.check_new_password(GOOD, "Other-Horse-43", "olga@example.ru")) == [
        ("confirm_password", "must match new_password")]
    assert _violations(lambda: domain.check_new_password(GOOD, GOOD, "olga@example.ru", current_password=GOOD)) == [
        ("new_password", "must differ from the current password")]
    domain.check_new_password(GOOD, GOOD, "olga@example.ru", current_password="Old-Horse-41")


@given(st.sampled_from(["Olga@Example.ru", "OLGA@EXAMPLE.RU", " olga@example.ru "]))
def test_a_new_email_must_be_an_address_and_not_the_current_one_in_any_case(spelling):
    assert _violations(lambda: domain.check_new_email(spelling, "olga@example.ru")) == [
        ("new_email", "is your current email")]
    assert domain.check_new_email(" new@example.ru ", "olga@example.ru") == "new@example.ru"
    assert [field for field, _ in _violations(lambda: domain.check_new_email("not an address", "a@b.ru"))] == [
        "new_email"]


def test_a_links_token_is_random_and_only_its_digest_is_kept():
    (first, first_digest), (second, _) = tokens.new_link_token(), tokens.new_link_token()
    assert first != second and len(first) >= 43
    assert first_digest == tokens.token_digest(first) and first not in first_digest
