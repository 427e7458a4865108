"""insurance's policies and claims end to end: a policy made from a saved quote, paid through
payment, issued by the insurer and activated on its start date; claims on it decided by staff
within the cover; cancellations and their refunds; who sees and does what; retries; and the
insurer away."""
import datetime
import re
import time
import uuid

import grpc
import pytest

from autosalon.insurance.v1 import insurance_pb2, insurance_pb2_grpc
from scripts.mesh import supervisor

from .conftest import STRONG_PASSWORD, bearer, listed, login, register, within_deadline
from .test_auth_rest import offending_fields, violations

GOOD_CARD = "4111 1111 1111 1111"
# K1: a new 3,000,000 car in Moscow with a GPS tracker, a 30,000 deductible, one experienced driver.
K1 = {"product": "PRODUCT_KASKO", "kasko": {
    "vehicle_value": {"amount": "3000000"}, "anti_theft": "gps_tracker", "region": "moscow",
    "drivers": [{"age": 40, "experience_years": 20}], "deductible": {"amount": "30000"}}}
K1_PREMIUM, K1_COVER, K1_DEDUCTIBLE = "113578.20", "3000000.00", "30000.00"
# The most one K1 claim may be approved for: the cover less the deductible.
K1_MOST = "2970000.00"
# OSAGO priced today (the tariff in force): Moscow, one driver of 45 with 20 years in class 10, 150 hp.
OSAGO = {"product": "PRODUCT_OSAGO", "osago": {
    "vehicle_category": "B", "territory": "moscow", "power_hp": "150",
    "drivers": [{"age": 45, "experience_years": 20, "kbm_class": "10"}]}}
KASKO_NUMBER = re.compile(r"KASKO-([0-9]{4})-[0-9]{8}")
OSAGO_NUMBER = re.compile(r"ХХХ[0-9]{10}")
CLAIM_NUMBER = re.compile(r"CLM-[0-9]{4}-[0-9]{8}")
QUOTED, PURCHASED, ACTIVE, CANCELLED, CLAIMED = (
    f"POLICY_STATUS_{status}" for status in ("QUOTED", "PURCHASED", "ACTIVE", "CANCELLED", "CLAIMED"))
SUBMITTED, UNDER_REVIEW, APPROVED, REJECTED, PAID = (
    f"CLAIM_STATUS_{status}" for status in ("SUBMITTED", "UNDER_REVIEW", "APPROVED", "REJECTED", "PAID"))
INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION, UNAVAILABLE, UNAUTHENTICATED = 3, 5, 7, 9, 14, 16
DAY = datetime.timedelta(days=1)


def _another_client(edge) -> dict:
    user = register(edge)
    return {"user": user, **login(edge, user["email"], STRONG_PASSWORD)}


def _year_less_a_day(starts_on: datetime.date) -> datetime.date:
    """The last day of a year's cover from `starts_on` (none of the tests starts on 29 February)."""
    return starts_on.replace(year=starts_on.year + 1) - DAY


def _quote(edge, session: dict, body: dict = K1) -> dict:
    response = edge.post("/insurance/quotes", json=body, headers=bearer(session))
    assert response.status_code == 200, response.text
    quote = response.json()
    assert quote["name"].startswith("quotes/"), quote
    return quote


def _create(edge, session: dict, quote: dict, key: str | None = None, **fields):
    headers = {**bearer(session), **({"Idempotency-Key": key} if key else {})}
    return edge.post("/insurance/policies", headers=headers, json={"quote": quote["name"], **fields})


def _quoted(edge, session: dict, body: dict = K1, **fields) -> dict:
    """A new policy made from a new quote of `body`."""
    response = _create(edge, session, _quote(edge, session, body), **fields)
    assert response.status_code == 200, response.text
    policy = response.json()
    assert policy["status"] == QUOTED, policy
    return policy


def _pay(edge, session: dict, policy: dict, key: str | None = None, **fields):
    return edge.post("/payments", headers={**bearer(session), "Idempotency-Key": key or uuid.uuid4().hex},
                     json={"policy": policy["name"], "method": "PAYMENT_METHOD_CARD", "card_number": GOOD_CARD,
                           **fields})


def _paid(edge, session: dict, policy: dict) -> dict:
    response = _pay(edge, session, policy)
    assert response.status_code == 200, response.text
    payment = response.json()
    assert payment["status"] == "PAYMENT_STATUS_COMPLETED", payment
    return payment


def _get(edge, session: dict, policy: dict) -> dict:
    response = edge.get(f"/insurance/{policy['name']}", headers=bearer(session))
    assert response.status_code == 200, response.text
    return response.json()


def _until(edge, session: dict, policy: dict, done, what: str, seconds: float = 30) -> dict:
    """The policy once `done(policy)` holds, read every 0.2 s for up to `seconds`."""
    for _ in range(int(seconds / 0.2)):
        found = _get(edge, session, policy)
        if done(found):
            return found
        time.sleep(0.2)
    pytest.fail(f"{policy['name']} never became {what}: {found}")


def _active(edge, session: dict, body: dict = K1) -> dict:
    """A policy starting today, paid, issued by the insurer and active."""
    policy = _quoted(edge, session, body)
    _paid(edge, session, policy)
    active = _until(edge, session, policy, lambda found: found["status"] == ACTIVE, "active")
    assert active["policy_number"], active
    return active


def _moves(thing: dict) -> list[tuple[str, str]]:
    return [(change["from_status"], change["to_status"]) for change in thing["status_log"]]


def _claim(edge, session: dict, policy: dict, key: str | None = None, **changes):
    body = {"incident_date": datetime.date.today().isoformat(), "description": "hail dented the roof and bonnet",
            "claimed_amount": {"amount": "5000000"}, **changes}
    headers = {**bearer(session), **({"Idempotency-Key": key} if key else {})}
    return edge.post(f"/insurance/{policy['name']}/claims", headers=headers, json=body)


def _submitted(edge, session: dict, policy: dict, **changes) -> dict:
    response = _claim(edge, session, policy, **changes)
    assert response.status_code == 200, response.text
    claim = response.json()
    assert claim["status"] == SUBMITTED, claim
    return claim


def _decide(edge, session: dict, claim: dict, verb: str, body: dict | None = None):
    return edge.post(f"/insurance/{claim['name']}:{verb}", headers=bearer(session), json=body or {})


def _decided(edge, session: dict, claim: dict, verb: str, body: dict | None = None) -> dict:
    response = _decide(edge, session, claim, verb, body)
    assert response.status_code == 200, response.text
    return response.json()


def _under_review(edge, client: dict, manager: dict, policy: dict, **changes) -> dict:
    claim = _decided(edge, manager, _submitted(edge, client, policy, **changes), "review")
    assert claim["status"] == UNDER_REVIEW, claim
    return claim


def _claims(edge, session: dict, policy: dict) -> list[dict]:
    return listed(edge, f"/insurance/{policy['name']}/claims", "claims", bearer(session))


def _cancel(edge, session: dict, policy: dict, reason: str = "sold the car"):
    return edge.post(f"/insurance/{policy['name']}:cancel", headers=bearer(session), json={"reason": reason})


def _failed_precondition(response, *words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == FAILED_PRECONDITION, body
    for word in words:
        assert word in body["message"], body


def _invalid(response, field: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["code"] == INVALID_ARGUMENT, response.text
    assert field in violations(response), response.text


def _not_found(response) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["code"] == NOT_FOUND, response.text


def _names(policies: list[dict]) -> list[str]:
    return [policy["name"] for policy in policies]


# Policies from quotes.

def test_a_policy_from_a_saved_quote_is_quoted_at_its_premium_for_a_year_less_a_day(edge, client_session):
    quote = _quote(edge, client_session)
    before = datetime.date.today()
    response = _create(edge, client_session, quote)
    after = datetime.date.today()
    assert response.status_code == 200, response.text
    policy = response.json()
    assert policy["name"].startswith("policies/")
    uuid.UUID(policy["name"].removeprefix("policies/"))
    assert (policy["status"], policy["quote"], policy["product"]) == (QUOTED, quote["name"], "PRODUCT_KASKO")
    assert policy["customer"] == client_session["user"]["name"]
    starts_on = datetime.date.fromisoformat(policy["starts_on"])
    assert before <= starts_on <= after  # today when empty
    assert policy["ends_on"] == _year_less_a_day(starts_on).isoformat()
    assert policy["premium"] == {"currency_code": "RUB", "amount": K1_PREMIUM}
    assert policy["sum_insured"]["amount"] == K1_COVER
    assert policy["deductible"]["amount"] == K1_DEDUCTIBLE
    assert policy["approved_claims"]["amount"] == "0.00"
    assert (policy["policy_number"], policy["payment"], policy["purchased_on"]) == ("", "", "")
    assert "refund" not in policy
    assert _moves(policy) == [("", "draft"), ("draft", "quoted")]
    assert {change["actor"] for change in policy["status_log"]} == {client_session["user"]["name"]}
    assert _get(edge, client_session, policy) == policy


def test_an_osago_policy_covers_the_quotes_property_limit_with_no_deductible(edge, client_session):
    quote = _quote(edge, client_session, OSAGO)
    response = _create(edge, client_session, quote)
    assert response.status_code == 200, response.text
    policy = response.json()
    assert (policy["status"], policy["product"]) == (QUOTED, "PRODUCT_OSAGO")
    assert policy["premium"] == quote["premium"]
    assert policy["sum_insured"]["amount"] == "400000.00"
    assert policy["deductible"]["amount"] == "0.00"


def test_a_policy_may_start_up_to_sixty_days_ahead(edge, client_session):
    starts_on = datetime.date.today() + datetime.timedelta(days=60)
    policy = _quoted(edge, client_session, starts_on=starts_on.isoformat())
    assert policy["starts_on"] == starts_on.isoformat()
    assert policy["ends_on"] == _year_less_a_day(starts_on).isoformat()


@pytest.mark.parametrize("offset", [-1, 61], ids=["yesterday", "sixty-one-days-ahead"])
def test_a_start_in_the_past_or_over_sixty_days_ahead_is_400_naming_policy_starts_on(edge, client_session, offset):
    quote = _quote(edge, client_session)
    starts_on = datetime.date.today() + datetime.timedelta(days=offset)
    _invalid(_create(edge, client_session, quote, starts_on=starts_on.isoformat()), "policy.starts_on")
    assert listed(edge, "/insurance/policies", "policies", bearer(client_session)) == []


def test_an_unreadable_start_date_is_400_naming_policy_starts_on(edge, client_session):
    quote = _quote(edge, client_session)
    _invalid(_create(edge, client_session, quote, starts_on="01.02.2027"), "policy.starts_on")


def test_a_policy_from_another_clients_quote_or_an_unknown_one_is_not_found(edge, client_session):
    theirs = _quote(edge, _another_client(edge))
    _not_found(_create(edge, client_session, theirs))
    _not_found(_create(edge, client_session, {"name": f"quotes/{uuid.uuid4()}"}))
    _invalid(_create(edge, client_session, {"name": "quotes/not-a-uuid"}), "policy.quote")
    assert listed(edge, "/insurance/policies", "policies", bearer(client_session)) == []


def test_staff_make_a_policy_for_the_quotes_customer(edge, client_session, manager_session):
    quote = _quote(edge, client_session)
    response = _create(edge, manager_session, quote)
    assert response.status_code == 200, response.text
    policy = response.json()
    assert policy["customer"] == client_session["user"]["name"]
    assert _names(listed(edge, "/insurance/policies", "policies", bearer(client_session))) == [policy["name"]]


# Paid through payment, issued by the insurer, active from its start.

def test_paying_a_quoted_kasko_policy_purchases_it_and_the_insurer_issues_and_activates_it(edge, client_session):
    policy = _quoted(edge, client_session)
    before = datetime.date.today()
    payment = _paid(edge, client_session, policy)
    assert payment["amount"] == {"currency_code": "RUB", "amount": K1_PREMIUM}
    assert (payment["policy"], payment["order"]) == (policy["name"], "")
    assert payment["customer"] == client_session["user"]["name"]
    active = _until(edge, client_session, policy, lambda found: found["status"] == ACTIVE, "active")
    after = datetime.date.today()
    assert active["payment"] == payment["name"]
    assert before.isoformat() <= active["purchased_on"] <= after.isoformat()
    number = KASKO_NUMBER.fullmatch(active["policy_number"])
    assert number, active["policy_number"]
    assert before.year <= int(number.group(1)) <= after.year
    assert _moves(active) == [("", "draft"), ("draft", "quoted"), ("quoted", "purchased"), ("purchased", "active")]
    purchased, activated = active["status_log"][2:]
    assert purchased["actor"] == "payment" and payment["name"] in purchased["reason"]
    assert activated["actor"] == "insurance"
    assert active["premium"]["amount"] == K1_PREMIUM and active["approved_claims"]["amount"] == "0.00"


def test_an_osago_policy_is_issued_an_e_policy_number(edge, client_session):
    active = _active(edge, client_session, OSAGO)
    assert OSAGO_NUMBER.fullmatch(active["policy_number"]), active["policy_number"]
    assert active["product"] == "PRODUCT_OSAGO"


def test_paying_a_policy_again_after_it_was_paid_is_failed_precondition(edge, client_session):
    policy = _quoted(edge, client_session)
    payment = _paid(edge, client_session, policy)
    _until(edge, client_session, policy, lambda found: found["status"] != QUOTED, "purchased")
    again = _pay(edge, client_session, policy)  # a new key: a new payment, not a retry
    _failed_precondition(again, "only a quoted policy can be paid")
    assert _get(edge, client_session, policy)["payment"] == payment["name"]


def test_a_retried_payment_with_the_same_key_returns_the_first_payment(edge, client_session):
    policy = _quoted(edge, client_session)
    key = uuid.uuid4().hex
    first = _pay(edge, client_session, policy, key)
    assert first.status_code == 200, first.text
    again = _pay(edge, client_session, policy, key)
    assert again.status_code == 200, again.text
    assert again.json()["name"] == first.json()["name"]


def test_paying_a_cancelled_policy_is_failed_precondition(edge, client_session):
    policy = _quoted(edge, client_session)
    cancelled = _cancel(edge, client_session, policy)
    assert cancelled.status_code == 200, cancelled.text
    _failed_precondition(_pay(edge, client_session, policy), "only a quoted policy can be paid")


def test_a_payment_naming_both_an_order_and_a_policy_is_400_naming_policy(edge, client_session):
    policy = _quoted(edge, client_session)
    both = _pay(edge, client_session, policy, order_id=f"orders/{uuid.uuid4()}")
    _invalid(both, "policy")
    assert _get(edge, client_session, policy)["status"] == QUOTED


def test_another_clients_policy_cannot_be_paid(edge, client_session):
    policy = _quoted(edge, client_session)
    _not_found(_pay(edge, _another_client(edge), policy))
    assert _get(edge, client_session, policy)["status"] == QUOTED


# Claims.

def test_a_claim_above_the_cover_is_approved_for_the_cover_less_the_deductible_and_uses_it_up(
        edge, client_session, manager_session):
    policy = _active(edge, client_session)
    claim = _submitted(edge, client_session, policy)
    assert CLAIM_NUMBER.fullmatch(claim["claim_number"]), claim
    assert claim["name"].startswith(f"{policy['name']}/claims/")
    assert claim["claimed_amount"]["amount"] == "5000000.00"
    assert claim["incident_date"] == policy["starts_on"]
    assert "approved_amount" not in claim
    assert _moves(claim) == [("", "submitted")]
    reviewed = _decided(edge, manager_session, claim, "review")
    assert reviewed["status"] == UNDER_REVIEW
    too_much = _decide(edge, manager_session, claim, "approve", {"approved_amount": {"amount": "2970000.01"}})
    _failed_precondition(too_much, f"at most {K1_MOST}")
    assert _get(edge, client_session, policy)["approved_claims"]["amount"] == "0.00"
    approved = _decided(edge, manager_session, claim, "approve", {"note": "total loss"})
    assert approved["status"] == APPROVED
    assert approved["approved_amount"]["amount"] == K1_MOST
    assert approved["decision_note"] == "total loss"
    claimed = _get(edge, client_session, policy)
    assert claimed["status"] == CLAIMED
    assert claimed["approved_claims"]["amount"] == K1_MOST
    assert _moves(claimed)[-1] == ("active", "claimed")
    paid = _decided(edge, manager_session, claim, "pay")
    assert paid["status"] == PAID
    assert _moves(paid) == [("", "submitted"), ("submitted", "under_review"), ("under_review", "approved"),
                            ("approved", "paid")]
    found = edge.get(f"/insurance/{claim['name']}", headers=bearer(client_session))
    assert found.status_code == 200 and found.json() == paid, found.text
    # Its cover used up, the policy takes no more claims and cannot be cancelled.
    _failed_precondition(_claim(edge, client_session, policy, claimed_amount={"amount": "1000"}), "claimed")
    _failed_precondition(_cancel(edge, client_session, policy), "claimed")
    assert [found["name"] for found in _claims(edge, client_session, policy)] == [claim["name"]]


def test_a_smaller_claim_leaves_the_policy_active(edge, client_session, manager_session):
    policy = _active(edge, client_session)
    claim = _under_review(edge, client_session, manager_session, policy, claimed_amount={"amount": "100000"})
    approved = _decided(edge, manager_session, claim, "approve")
    assert approved["approved_amount"]["amount"] == "70000.00"  # the loss less the deductible
    after = _get(edge, client_session, policy)
    assert after["status"] == ACTIVE
    assert after["approved_claims"]["amount"] == "70000.00"
    smaller = _under_review(edge, client_session, manager_session, policy, claimed_amount={"amount": "50000"})
    partly = _decided(edge, manager_session, smaller, "approve", {"approved_amount": {"amount": "15000"}})
    assert partly["approved_amount"]["amount"] == "15000.00"
    after = _get(edge, client_session, policy)
    assert (after["status"], after["approved_claims"]["amount"]) == (ACTIVE, "85000.00")
    names = [claim["name"] for claim in _claims(edge, client_session, policy)]
    assert names == [smaller["name"], claim["name"]]  # newest first


def test_an_approval_of_nothing_or_less_is_400(edge, client_session, manager_session):
    policy = _active(edge, client_session)
    claim = _under_review(edge, client_session, manager_session, policy, claimed_amount={"amount": "100000"})
    for amount in ("0", "-5"):
        _invalid(_decide(edge, manager_session, claim, "approve", {"approved_amount": {"amount": amount}}),
                 "approved_amount.amount")
    assert _get(edge, manager_session, policy)["approved_claims"]["amount"] == "0.00"


def test_a_loss_within_the_deductible_cannot_be_approved_and_is_no_server_error(
        edge, client_session, manager_session):
    """The most a 20,000 loss under a 30,000 deductible allows is nothing: an approval with no
    amount must be refused (FAILED_PRECONDITION naming the limit), not stored as 0."""
    policy = _active(edge, client_session)
    claim = _under_review(edge, client_session, manager_session, policy, claimed_amount={"amount": "20000"})
    _failed_precondition(_decide(edge, manager_session, claim, "approve"))
    assert _get(edge, manager_session, policy)["approved_claims"]["amount"] == "0.00"
    rejected = _decided(edge, manager_session, claim, "reject", {"reason": "within the deductible"})
    assert rejected["status"] == REJECTED


def test_a_claim_is_rejected_only_with_a_reason(edge, client_session, manager_session):
    policy = _active(edge, client_session)
    claim = _under_review(edge, client_session, manager_session, policy)
    _invalid(_decide(edge, manager_session, claim, "reject"), "reason")
    _invalid(_decide(edge, manager_session, claim, "reject", {"reason": "   "}), "reason")
    rejected = _decided(edge, manager_session, claim, "reject", {"reason": "not an insured event"})
    assert rejected["status"] == REJECTED
    assert rejected["decision_note"] == "not an insured event"
    assert rejected["status_log"][-1]["reason"] == "not an insured event"
    assert "approved_amount" not in rejected
    _failed_precondition(_decide(edge, manager_session, claim, "pay"), "rejected", "paid")
    assert _get(edge, client_session, policy)["status"] == ACTIVE


def test_claim_steps_out_of_order_are_failed_precondition_naming_both_statuses(edge, client_session, manager_session):
    policy = _active(edge, client_session)
    claim = _submitted(edge, client_session, policy, claimed_amount={"amount": "100000"})
    _failed_precondition(_decide(edge, manager_session, claim, "approve"), "submitted", "approved")
    _failed_precondition(_decide(edge, manager_session, claim, "reject", {"reason": "no"}), "submitted", "rejected")
    _failed_precondition(_decide(edge, manager_session, claim, "pay"), "submitted", "paid")
    _decided(edge, manager_session, claim, "review")
    _failed_precondition(_decide(edge, manager_session, claim, "review"), "under_review")
    _failed_precondition(_decide(edge, manager_session, claim, "pay"), "under_review", "paid")
    assert _get(edge, manager_session, policy)["approved_claims"]["amount"] == "0.00"


def test_an_incident_outside_the_period_or_in_the_future_is_400_naming_the_incident_date(edge, client_session):
    policy = _active(edge, client_session)
    starts_on = datetime.date.fromisoformat(policy["starts_on"])
    for incident in (starts_on - DAY, datetime.date.today() + DAY, datetime.date.today() + 400 * DAY):
        _invalid(_claim(edge, client_session, policy, incident_date=incident.isoformat()), "claim.incident_date")
    _invalid(_claim(edge, client_session, policy, incident_date="02.12.2026"), "claim.incident_date")
    assert _claims(edge, client_session, policy) == []


def test_a_claim_missing_its_fields_is_400_naming_each(edge, client_session):
    policy = _active(edge, client_session)
    response = edge.post(f"/insurance/{policy['name']}/claims", headers=bearer(client_session), json={})
    assert response.status_code == 400, response.text
    assert {"claim.incident_date", "claim.description", "claim.claimed_amount.amount"} <= set(violations(response))
    _invalid(_claim(edge, client_session, policy, claimed_amount={"amount": "0"}), "claim.claimed_amount.amount")
    _invalid(_claim(edge, client_session, policy, description="x" * 2001), "claim.description")
    assert _claims(edge, client_session, policy) == []


def test_claims_are_made_only_on_an_active_policy(edge, client_session):
    policy = _quoted(edge, client_session)
    _failed_precondition(_claim(edge, client_session, policy), "quoted", "active")
    assert _claims(edge, client_session, policy) == []


# Cancellation and refunds.

def test_cancelling_a_quoted_policy_refunds_nothing_and_twice_is_failed_precondition(edge, client_session):
    policy = _quoted(edge, client_session)
    response = _cancel(edge, client_session, policy, "changed my mind")
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == CANCELLED
    assert cancelled["cancel_reason"] == "changed my mind"
    assert "refund" not in cancelled
    assert _moves(cancelled)[-1] == ("quoted", "cancelled")
    assert cancelled["status_log"][-1]["actor"] == client_session["user"]["name"]
    _failed_precondition(_cancel(edge, client_session, policy), "cancelled")
    assert _get(edge, client_session, policy) == cancelled


def test_a_cancellation_needs_a_reason(edge, client_session):
    policy = _quoted(edge, client_session)
    for body in ({}, {"reason": "  "}, {"reason": "x" * 501}):
        response = edge.post(f"/insurance/{policy['name']}:cancel", headers=bearer(client_session), json=body)
        _invalid(response, "reason")
    assert _get(edge, client_session, policy)["status"] == QUOTED


def test_cancelling_an_active_kasko_policy_bought_today_refunds_the_whole_premium(edge, client_session):
    policy = _active(edge, client_session)
    response = _cancel(edge, client_session, policy, "cooling off")
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == CANCELLED
    assert cancelled["refund"] == {"currency_code": "RUB", "amount": K1_PREMIUM}
    assert _moves(cancelled)[-1] == ("active", "cancelled")
    _failed_precondition(_cancel(edge, client_session, policy), "cancelled")


def test_cancelling_an_active_osago_policy_on_its_first_day_refunds_the_whole_premium(edge, client_session):
    policy = _active(edge, client_session, OSAGO)
    response = _cancel(edge, client_session, policy, "the car was sold")
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == CANCELLED
    assert cancelled["refund"]["amount"] == policy["premium"]["amount"]  # every day of it unexpired


def test_cancelling_a_paid_policy_starting_in_ten_days_refunds_the_premium(edge, client_session):
    starts_on = datetime.date.today() + datetime.timedelta(days=10)
    policy = _quoted(edge, client_session, starts_on=starts_on.isoformat())
    _paid(edge, client_session, policy)
    issued = _until(edge, client_session, policy, lambda found: bool(found["policy_number"]), "issued")
    assert issued["status"] == PURCHASED  # not active before its start date
    response = _cancel(edge, client_session, policy)
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["refund"]["amount"] == K1_PREMIUM
    assert _moves(cancelled)[-1] == ("purchased", "cancelled")


def test_staff_cancel_a_clients_policy(edge, client_session, manager_session):
    policy = _quoted(edge, client_session)
    response = _cancel(edge, manager_session, policy, "duplicate")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == CANCELLED
    assert response.json()["status_log"][-1]["actor"] != client_session["user"]["name"]


# Who sees and does what.

def test_another_clients_policy_and_claims_are_not_found(edge, client_session, manager_session):
    policy = _active(edge, client_session)
    claim = _submitted(edge, client_session, policy)
    stranger = _another_client(edge)
    headers = bearer(stranger)
    for response in (edge.get(f"/insurance/{policy['name']}", headers=headers),
                     _cancel(edge, stranger, policy),
                     _claim(edge, stranger, policy),
                     edge.get(f"/insurance/{policy['name']}/claims", headers=headers),
                     edge.get(f"/insurance/{claim['name']}", headers=headers)):
        _not_found(response)
    untouched = _get(edge, client_session, policy)
    assert untouched["status"] == ACTIVE
    assert [found["name"] for found in _claims(edge, client_session, policy)] == [claim["name"]]
    assert _get(edge, manager_session, policy)["name"] == policy["name"]
    _not_found(edge.get(f"/insurance/policies/{uuid.uuid4()}", headers=bearer(client_session)))
    # A claim named under another policy is not found either.
    other = _quoted(edge, client_session)
    _not_found(edge.get(f"/insurance/{other['name']}/claims/{claim['name'].rsplit('/', 1)[1]}",
                        headers=bearer(client_session)))
    malformed = edge.get("/insurance/policies/not-a-uuid", headers=bearer(client_session))
    _invalid(malformed, "name")


def test_clients_cannot_decide_claims(edge, client_session, manager_session):
    policy = _active(edge, client_session)
    claim = _submitted(edge, client_session, policy)
    for verb, body in (("review", {}), ("approve", {}), ("reject", {"reason": "me"}), ("pay", {})):
        response = _decide(edge, client_session, claim, verb, body)
        assert response.status_code == 403, f"{verb}: {response.text}"
        assert response.json()["code"] == PERMISSION_DENIED
    assert _decided(edge, manager_session, claim, "review")["status"] == UNDER_REVIEW
    response = _decide(edge, client_session, claim, "approve")
    assert response.status_code == 403, response.text
    assert _get(edge, client_session, policy)["approved_claims"]["amount"] == "0.00"


def test_an_anonymous_caller_is_401(edge, client_session):
    policy = _quoted(edge, client_session)
    claim = f"{policy['name']}/claims/{uuid.uuid4()}"
    for response in (edge.post("/insurance/policies", json={"quote": policy["quote"]}),
                     edge.get("/insurance/policies"),
                     edge.get(f"/insurance/{policy['name']}"),
                     edge.post(f"/insurance/{policy['name']}:cancel", json={"reason": "anonymous"}),
                     edge.post(f"/insurance/{policy['name']}/claims", json={}),
                     edge.get(f"/insurance/{policy['name']}/claims"),
                     edge.get(f"/insurance/{claim}"),
                     edge.post(f"/insurance/{claim}:review", json={})):
        assert response.status_code == 401, response.text
        assert response.json()["code"] == UNAUTHENTICATED
    assert _get(edge, client_session, policy)["status"] == QUOTED


def test_a_clients_list_shows_their_own_and_staffs_shows_all(edge, client_session, manager_session):
    mine = _quoted(edge, client_session)
    other_session = _another_client(edge)
    theirs = _quoted(edge, other_session, OSAGO)
    assert _names(listed(edge, "/insurance/policies", "policies", bearer(client_session))) == [mine["name"]]
    assert _names(listed(edge, "/insurance/policies", "policies", bearer(other_session))) == [theirs["name"]]
    everyone = listed(edge, "/insurance/policies?page_size=500", "policies", bearer(manager_session))
    assert {mine["name"], theirs["name"]} <= set(_names(everyone))
    assert [policy for policy in everyone if policy["name"] == mine["name"]] == [mine]


def test_the_list_filters_by_status_newest_first(edge, client_session):
    headers = bearer(client_session)
    first = _quoted(edge, client_session)
    second = _quoted(edge, client_session, OSAGO)
    dropped = _quoted(edge, client_session)
    assert _cancel(edge, client_session, dropped).status_code == 200
    assert _names(listed(edge, "/insurance/policies", "policies", headers)) == [
        dropped["name"], second["name"], first["name"]]
    assert _names(listed(edge, f"/insurance/policies?status={QUOTED}", "policies", headers)) == [
        second["name"], first["name"]]
    assert _names(listed(edge, f"/insurance/policies?status={CANCELLED}", "policies", headers)) == [dropped["name"]]
    assert listed(edge, f"/insurance/policies?status={ACTIVE}", "policies", headers) == []
    unknown = edge.get("/insurance/policies", headers=headers, params={"status": 42})
    assert unknown.status_code == 400 and offending_fields(unknown) == {"status"}, unknown.text


def test_the_list_pages_with_page_size_one(edge, client_session):
    headers = bearer(client_session)
    created = [_quoted(edge, client_session)["name"] for _ in range(3)]
    seen, token = [], ""
    for _ in range(4):
        response = edge.get("/insurance/policies", headers=headers,
                            params={"page_size": 1, **({"page_token": token} if token else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["policies"]) == 1
        seen.append(page["policies"][0]["name"])
        token = page["next_page_token"]
        if not token:
            break
    assert seen == created[::-1]
    assert token == ""


# Retries.

def test_creating_a_policy_again_with_the_same_key_returns_the_first(edge, client_session):
    quote = _quote(edge, client_session)
    key = uuid.uuid4().hex
    first = _create(edge, client_session, quote, key)
    assert first.status_code == 200, first.text
    again = _create(edge, client_session, quote, key)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert _names(listed(edge, "/insurance/policies", "policies", bearer(client_session))) == [first.json()["name"]]
    other_request = _create(edge, client_session, quote, key,
                            starts_on=(datetime.date.today() + datetime.timedelta(days=5)).isoformat())
    _invalid(other_request, "idempotency_key")
    without_key = _create(edge, client_session, quote)
    assert without_key.status_code == 200, without_key.text
    assert without_key.json()["name"] != first.json()["name"]  # no key: a new policy each time


def test_creating_a_claim_again_with_the_same_key_returns_the_first(edge, client_session):
    policy = _active(edge, client_session)
    key = uuid.uuid4().hex
    first = _claim(edge, client_session, policy, key, claimed_amount={"amount": "100000"})
    assert first.status_code == 200, first.text
    again = _claim(edge, client_session, policy, key, claimed_amount={"amount": "100000"})
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert [claim["name"] for claim in _claims(edge, client_session, policy)] == [first.json()["name"]]
    _invalid(_claim(edge, client_session, policy, key, claimed_amount={"amount": "200000"}), "idempotency_key")


# Native gRPC.

async def test_policies_over_native_grpc_are_the_holders_only(edge, edge_channel, client_session):
    stub = insurance_pb2_grpc.InsuranceServiceStub(edge_channel)
    signed = (("authorization", f"Bearer {client_session['access_token']}"),)
    quote = _quote(edge, client_session)
    created = await stub.CreatePolicy(insurance_pb2.CreatePolicyRequest(
        policy=insurance_pb2.Policy(quote=quote["name"])), metadata=signed)
    assert created.status == insurance_pb2.POLICY_STATUS_QUOTED
    assert created.customer == client_session["user"]["name"]
    assert created.premium.amount == K1_PREMIUM and created.deductible.amount == K1_DEDUCTIBLE
    found = await stub.GetPolicy(insurance_pb2.GetPolicyRequest(name=created.name), metadata=signed)
    assert found == created
    stranger = (("authorization", f"Bearer {_another_client(edge)['access_token']}"),)
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await stub.GetPolicy(insurance_pb2.GetPolicyRequest(name=created.name), metadata=stranger)
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub.GetPolicy(insurance_pb2.GetPolicyRequest(name=created.name))
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED


# The insurer away.

@pytest.mark.disruptive
def test_while_the_insurer_is_away_a_paid_policy_waits_for_its_number_and_claims_are_503(edge, client_session):
    active = _active(edge, client_session)
    waiting = _quoted(edge, client_session)
    supervisor.ctl("stop", "insurer")
    try:
        _paid(edge, client_session, waiting)
        purchased = _until(edge, client_session, waiting, lambda found: found["status"] == PURCHASED, "purchased")
        for _ in range(4):  # several of the schedule's 1 s passes
            time.sleep(0.5)
            found = _get(edge, client_session, waiting)
            assert (found["status"], found["policy_number"]) == (PURCHASED, ""), found
        with within_deadline(edge, 10):
            refused = _claim(edge, client_session, active)
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == UNAVAILABLE
        assert _claims(edge, client_session, active) == []  # nothing recorded
    finally:
        supervisor.ctl("start", "insurer")
    issued = _until(edge, client_session, waiting, lambda found: found["status"] == ACTIVE, "active", seconds=60)
    assert KASKO_NUMBER.fullmatch(issued["policy_number"]), issued
    assert issued["policy_number"] != active["policy_number"]
    assert issued["payment"] == purchased["payment"]
    claim = _submitted(edge, client_session, issued, claimed_amount={"amount": "100000"})
    assert CLAIM_NUMBER.fullmatch(claim["claim_number"]), claim
