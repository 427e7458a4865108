"""financing end to end: the public loan calculator, loan applications through their credit
decision and lifecycle, who sees and decides them, and the bank away."""
import datetime
import time
import uuid
from decimal import Decimal

import grpc
import pytest

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from autosalon.common.v1 import common_pb2
from autosalon.financing.v1 import financing_pb2, financing_pb2_grpc
from scripts.mesh import supervisor

from .conftest import STRONG_PASSWORD, bearer, grpc_fields, listed, login, new_email, register
from .test_auth_rest import offending_fields, violations

# The reference vector V1: 2,000,000 less 400,000 down, 36 months at 12 %, disbursed 15 Jan 2026.
V1 = {"vehicle_price": {"amount": "2000000"}, "down_payment": {"amount": "400000"}, "term_months": 36,
      "annual_rate": "12", "schedule_type": "SCHEDULE_TYPE_ANNUITY", "disbursement_date": "2026-01-15"}
# The issue's example application.
APPLICATION = {"vehicle_price": {"amount": "2000000"}, "down_payment": {"amount": "400000"}, "term_months": 36,
               "financing_type": "FINANCING_TYPE_CAR_LOAN", "employment_status": "EMPLOYMENT_STATUS_EMPLOYED",
               "monthly_income": {"amount": "80000"}}
# The bank emulator scores 300 + (the last six digits mod 551); a series ending in 99 owes.
SCORES_760 = "4510000460"
SCORES_630 = "4510000330"
SCORES_300 = "4510000000"
OVERDUE = "4599000460"
BIRTH_DATE = "1985-03-01"
APPLICANT = {"passport_number": SCORES_760, "birth_date": BIRTH_DATE}
DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, REJECTED, ACTIVE, COMPLETED, DEFAULTED = (
    f"APPLICATION_STATUS_{status}" for status in
    ("DRAFT", "SUBMITTED", "UNDER_REVIEW", "APPROVED", "REJECTED", "ACTIVE", "COMPLETED", "DEFAULTED"))
FAILED_PRECONDITION = 9


def _amount(money: dict) -> Decimal:
    return Decimal(money["amount"])


def _principals(rows: list[dict]) -> Decimal:
    return sum((Decimal(row["principal"]) for row in rows), Decimal("0.00"))


def _calculate(edge, body: dict) -> dict:
    response = edge.post("/financing/calculations", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _prepay(edge, body: dict) -> dict:
    response = edge.post("/financing/calculations:prepay", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _another_client(edge) -> dict:
    user = register(edge)
    return {"user": user, **login(edge, user["email"], STRONG_PASSWORD)}


def _create(edge, session: dict, **changes) -> dict:
    response = edge.post("/financing/applications", headers=bearer(session), json={**APPLICATION, **changes})
    assert response.status_code == 200, response.text
    return response.json()


def _call(edge, session: dict, application: dict, verb: str, body: dict | None = None):
    return edge.post(f"/financing/{application['name']}:{verb}", headers=bearer(session), json=body or {})


def _get(edge, session: dict, application: dict) -> dict:
    response = edge.get(f"/financing/{application['name']}", headers=bearer(session))
    assert response.status_code == 200, response.text
    return response.json()


def _decided(edge, session: dict, application: dict, attempts: int = 150) -> dict:
    """The application once the bank's report is in (it has left SUBMITTED): up to ~30 s."""
    for _ in range(attempts):
        found = _get(edge, session, application)
        if found["status"] != SUBMITTED:
            return found
        time.sleep(0.2)
    pytest.fail(f"{application['name']} is still submitted: the bank's report never came")


def _submitted_and_decided(edge, session: dict, **changes) -> dict:
    application = _create(edge, session, **{**APPLICANT, **changes})
    submitted = _call(edge, session, application, "submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == SUBMITTED
    return _decided(edge, session, application)


def _moves(application: dict) -> list[tuple[str, str]]:
    """The status log as (from, to) in short names: ("", "draft") for the creation."""
    def short(status: str) -> str:
        return status.removeprefix("APPLICATION_STATUS_").replace("UNSPECIFIED", "").lower()
    return [(short(change["from_status"]), short(change["to_status"])) for change in application["status_log"]]


def _approved(edge, client_session: dict) -> dict:
    decided = _submitted_and_decided(edge, client_session)
    assert decided["status"] == APPROVED, decided
    return decided


def _refused_move(response, current: str, wanted: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == FAILED_PRECONDITION, body
    assert current in body["message"] and wanted in body["message"], body


# The calculator.

def test_the_reference_annuity_v1_to_the_kopeck(edge):
    calculation = _calculate(edge, V1)
    assert calculation["loan_amount"]["amount"] == "1600000.00"
    assert calculation["down_payment"]["amount"] == "400000.00"
    assert calculation["monthly_payment"]["amount"] == "53142.90"
    assert calculation["last_payment"]["amount"] == "53142.70"
    assert calculation["total_interest"]["amount"] == "313144.20"
    assert calculation["total_paid"]["amount"] == "1913144.20"
    assert calculation["full_cost_percent"] == "12.000"
    assert calculation["full_cost_amount"]["amount"] == "313144.20"
    assert (calculation["schedule_type"], calculation["annual_rate"], calculation["term_months"]) == (
        "SCHEDULE_TYPE_ANNUITY", "12", 36)
    rows = calculation["rows"]
    assert [row["number"] for row in rows] == list(range(1, 37))
    assert _principals(rows) == Decimal("1600000.00")
    assert all(row["payment"] == "53142.90" for row in rows[:-1])
    first, last = rows[0], rows[-1]
    assert (first["date"], first["interest"], first["principal"]) == (
        "2026-02-15", "16000.00", "37142.90")
    assert (last["date"], last["payment"], last["balance"]) == ("2029-01-15", "53142.70", "0.00")


def test_a_lender_fee_raises_the_full_cost_of_credit(edge):
    calculation = _calculate(edge, {**V1, "charges": [
        {"kind": "CHARGE_KIND_LENDER_FEE", "amount": {"amount": "32000"}, "description": "application review"}]})
    assert calculation["full_cost_percent"] == "13.411"
    assert calculation["full_cost_amount"]["amount"] == "345144.20"
    assert calculation["total_interest"]["amount"] == "313144.20"  # the schedule itself is the same


def test_the_reference_differentiated_schedule_v2(edge):
    calculation = _calculate(edge, {**V1, "schedule_type": "SCHEDULE_TYPE_DIFFERENTIATED"})
    assert calculation["schedule_type"] == "SCHEDULE_TYPE_DIFFERENTIATED"
    assert calculation["monthly_payment"]["amount"] == "60444.44"
    assert calculation["last_payment"]["amount"] == "44889.05"
    assert calculation["total_interest"]["amount"] == "296000.03"
    rows = calculation["rows"]
    assert len(rows) == 36 and _principals(rows) == Decimal("1600000.00")
    assert all(row["principal"] == "44444.44" for row in rows[:-1])
    payments = [Decimal(row["payment"]) for row in rows]
    assert payments == sorted(payments, reverse=True)  # the payment shrinks each month


def test_a_down_payment_given_as_a_percent_of_the_price(edge):
    body = {key: value for key, value in V1.items() if key != "down_payment"}
    calculation = _calculate(edge, {**body, "down_payment_percent": "20"})
    assert calculation["down_payment"]["amount"] == "400000.00"
    assert calculation["loan_amount"]["amount"] == "1600000.00"
    assert calculation["monthly_payment"]["amount"] == "53142.90"


def test_without_a_down_payment_the_whole_price_is_lent(edge):
    body = {key: value for key, value in V1.items() if key != "down_payment"}
    calculation = _calculate(edge, body)
    assert calculation["down_payment"]["amount"] == "0.00"
    assert calculation["loan_amount"]["amount"] == "2000000.00"
    assert _principals(calculation["rows"]) == Decimal("2000000.00")


def test_prepayment_v5_reducing_the_payment(edge):
    prepayment = _prepay(edge, {"loan": V1, "after_payment": 12, "amount": {"amount": "300000"},
                                "mode": "PREPAYMENT_MODE_REDUCE_PAYMENT"})
    assert prepayment["balance_before"]["amount"] == "1128935.05"
    assert prepayment["balance_after"]["amount"] == "828935.05"
    assert prepayment["monthly_payment"]["amount"] == "39020.85"
    assert prepayment["saving"]["amount"] == "38928.95"
    assert prepayment["remaining_interest_without_prepayment"]["amount"] == "146494.35"
    rows = prepayment["rows"]
    assert [row["number"] for row in rows] == list(range(13, 37))  # as many payments as were left
    assert _principals(rows) == Decimal("828935.05") and rows[-1]["balance"] == "0.00"


def test_prepayment_v5_shortening_the_term(edge):
    prepayment = _prepay(edge, {"loan": V1, "after_payment": 12, "amount": {"amount": "300000"},
                                "mode": "PREPAYMENT_MODE_SHORTEN_TERM"})
    assert prepayment["balance_after"]["amount"] == "828935.05"
    assert prepayment["monthly_payment"]["amount"] == "53142.90"  # the payment is kept
    assert prepayment["saving"]["amount"] == "69713.21"
    rows = prepayment["rows"]
    assert len(rows) == 18 and rows[0]["number"] == 13 and rows[-1]["number"] == 30
    assert rows[-1]["payment"] == "2286.89" and rows[-1]["balance"] == "0.00"
    assert _principals(rows) == Decimal("828935.05")


async def test_the_calculator_over_native_grpc_needs_no_token(edge_channel):
    stub = financing_pb2_grpc.FinancingServiceStub(edge_channel)
    calculation = await stub.CalculateLoan(financing_pb2.CalculateLoanRequest(
        vehicle_price=common_pb2.Money(amount="2000000"), down_payment=common_pb2.Money(amount="400000"),
        term_months=36, annual_rate="12", schedule_type=financing_pb2.SCHEDULE_TYPE_ANNUITY,
        disbursement_date="2026-01-15"))
    assert calculation.loan_amount.amount == "1600000.00"
    assert calculation.monthly_payment.amount == "53142.90"
    assert calculation.last_payment.amount == "53142.70"
    assert calculation.total_interest.amount == "313144.20"
    assert calculation.full_cost_percent == "12.000"
    assert len(calculation.rows) == 36
    assert sum((Decimal(row.principal) for row in calculation.rows), Decimal(0)) == Decimal("1600000.00")
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CalculateLoan(financing_pb2.CalculateLoanRequest(
            vehicle_price=common_pb2.Money(amount="2000000"), term_months=7, annual_rate="12"))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_the_basic_view_is_the_full_calculation_without_its_rows(edge):
    body = {**V1, "charges": [{"kind": "CHARGE_KIND_LENDER_FEE", "amount": {"amount": "32000"}}]}
    full = _calculate(edge, body)
    assert _calculate(edge, {**body, "view": "CALCULATION_VIEW_FULL"}) == full
    basic = _calculate(edge, {**body, "view": "CALCULATION_VIEW_BASIC"})
    assert not basic.pop("rows", None) and len(full.pop("rows")) == 36
    assert basic == full
    assert (basic["monthly_payment"]["amount"], basic["full_cost_percent"]) == ("53142.90", "13.411")


async def test_the_basic_view_over_native_grpc_and_an_unknown_view(edge_channel):
    stub = financing_pb2_grpc.FinancingServiceStub(edge_channel)
    request = financing_pb2.CalculateLoanRequest(
        vehicle_price=common_pb2.Money(amount="2000000"), down_payment=common_pb2.Money(amount="400000"),
        term_months=36, annual_rate="12", disbursement_date="2026-01-15",
        view=financing_pb2.CALCULATION_VIEW_BASIC)
    basic = await stub.CalculateLoan(request)
    assert not basic.rows and basic.last_payment.amount == "53142.70" and basic.total_interest.amount == "313144.20"
    request.view = 7
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CalculateLoan(request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_fields(error.value) == {"view"}


def test_a_prepayment_of_a_loan_with_a_view_is_400(edge):
    response = edge.post("/financing/calculations:prepay", json={
        "loan": {**V1, "view": "CALCULATION_VIEW_BASIC"}, "after_payment": 12, "amount": {"amount": "300000"},
        "mode": "PREPAYMENT_MODE_REDUCE_PAYMENT"})
    assert response.status_code == 400, response.text
    assert set(violations(response)) == {"loan.view"}, response.text


@pytest.mark.parametrize(
    "changes, fields",
    [
        ({"vehicle_price": {"amount": "12.345"}}, {"vehicle_price.amount"}),
        ({"vehicle_price": {"amount": "abc"}, "term_months": 7, "annual_rate": "abc"},
         {"vehicle_price.amount", "term_months", "annual_rate"}),
        ({"term_months": 85, "annual_rate": "101"}, {"term_months", "annual_rate"}),
        ({"down_payment": {"amount": "2000000"}}, {"down_payment"}),
        ({"down_payment": {"amount": "-5"}}, {"down_payment"}),
        ({"schedule_type": 7}, {"schedule_type"}),
        ({"charges": [{"kind": 9, "amount": {"amount": "1"}},
                      {"kind": "CHARGE_KIND_LENDER_FEE", "amount": {"amount": "1.001"}}]},
         {"charges[0].kind", "charges[1].amount.amount"}),
        ({"disbursement_date": "2026-13-45"}, {"disbursement_date"}),
        ({"disbursement_date": "15.01.2026", "term_months": 7}, {"disbursement_date", "term_months"}),
        ({"view": 7, "term_months": 7}, {"view", "term_months"}),
    ],
    ids=["money-three-places", "money-term-rate-at-once", "term-85-rate-101", "down-equals-price",
         "negative-down", "unknown-schedule-type", "unknown-charge-kind-and-bad-charge", "impossible-date",
         "bad-date-and-term", "unknown-view-and-term"],
)
def test_bad_calculations_are_400_naming_every_field(edge, changes, fields):
    response = edge.post("/financing/calculations", json={**V1, **changes})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 3
    assert fields <= set(violations(response)), response.text


def test_a_down_payment_percent_of_100_is_400(edge):
    body = {key: value for key, value in V1.items() if key != "down_payment"}
    response = edge.post("/financing/calculations", json={**body, "down_payment_percent": "100"})
    assert response.status_code == 400, response.text
    assert "down_payment_percent" in violations(response)


@pytest.mark.parametrize("changes, field", [
    ({"schedule_type": "SCHEDULE_TYPE_WEEKLY"}, "schedule_type"),
    ({"charges": [{"kind": "CHARGE_KIND_BRIBE", "amount": {"amount": "1"}}]}, "charges[0].kind"),
    ({"view": "CALCULATION_VIEW_SUMMARY"}, "view"),
], ids=["schedule-type", "charge-kind", "view"])
def test_unknown_enum_names_are_400_naming_the_field(edge, changes, field):
    response = edge.post("/financing/calculations", json={**V1, **changes})
    assert response.status_code == 400, response.text
    assert offending_fields(response) == {field}, response.text


@pytest.mark.parametrize("after_payment", [36, 40, -1])
def test_a_prepayment_after_a_payment_out_of_range_is_400(edge, after_payment):
    response = edge.post("/financing/calculations:prepay", json={
        "loan": V1, "after_payment": after_payment, "amount": {"amount": "300000"},
        "mode": "PREPAYMENT_MODE_REDUCE_PAYMENT"})
    assert response.status_code == 400, response.text
    assert set(violations(response)) == {"after_payment"}, response.text


def test_a_bad_prepayment_is_400_naming_its_fields(edge):
    too_much = edge.post("/financing/calculations:prepay", json={
        "loan": V1, "after_payment": 12, "amount": {"amount": "1200000"}, "mode": "PREPAYMENT_MODE_SHORTEN_TERM"})
    assert too_much.status_code == 400 and set(violations(too_much)) == {"amount"}, too_much.text
    no_mode = edge.post("/financing/calculations:prepay", json={
        "loan": V1, "after_payment": 40, "amount": {"amount": "300000"}})
    assert no_mode.status_code == 400 and {"mode", "after_payment"} <= set(violations(no_mode)), no_mode.text
    bad_loan = edge.post("/financing/calculations:prepay", json={
        "loan": {**V1, "term_months": 7, "annual_rate": "abc"}, "after_payment": 1, "amount": {"amount": "1"},
        "mode": "PREPAYMENT_MODE_SHORTEN_TERM"})
    assert bad_loan.status_code == 400, bad_loan.text
    assert {"loan.term_months", "loan.annual_rate"} <= set(violations(bad_loan)), bad_loan.text


def test_a_prepayment_missing_everything_names_every_field_at_once(edge):
    response = edge.post("/financing/calculations:prepay", json={"loan": V1, "after_payment": 40})
    assert response.status_code == 400, response.text
    assert {"amount.amount", "mode", "after_payment"} <= set(violations(response)), response.text


# Applications: drafts.

def test_a_client_drafts_the_issue_example_for_themselves(edge, client_session):
    created = edge.post("/financing/applications", headers=bearer(client_session), json=APPLICATION)
    assert created.status_code == 200, created.text
    application = created.json()
    assert application["name"].startswith("applications/")
    uuid.UUID(application["name"].removeprefix("applications/"))
    assert application["status"] == DRAFT
    assert application["customer"] == client_session["user"]["name"]
    assert application["loan_amount"]["amount"] == "1600000.00"
    assert application["annual_rate"] == "12"
    assert application["monthly_payment"]["amount"] == "53142.90"
    assert application["total_payment"]["amount"] == "1913144.20"
    assert application["schedule_type"] == "SCHEDULE_TYPE_ANNUITY"
    assert application["existing_monthly_payments"]["amount"] == "0.00"
    assert (application["credit_score"], application["decision_reasons"], application["decided_by"]) == (0, [], "")
    assert _moves(application) == [("", "draft")]
    assert _get(edge, client_session, application) == application
    # Before activation the schedule runs from today.
    schedule = edge.get(f"/financing/{application['name']}/schedule", headers=bearer(client_session))
    assert schedule.status_code == 200, schedule.text
    assert schedule.json()["disbursement_date"] == datetime.date.today().isoformat()
    assert len(schedule.json()["rows"]) == 36 and _principals(schedule.json()["rows"]) == Decimal("1600000.00")


def test_a_retried_application_with_one_key_is_created_once(edge, client_session):
    headers = {**bearer(client_session), "Idempotency-Key": f"loan-{uuid.uuid4()}"}
    first, again = (edge.post("/financing/applications", headers=headers, json=APPLICATION) for _ in range(2))
    assert first.status_code == again.status_code == 200, first.text + again.text
    assert again.json() == first.json()
    mine = listed(edge, "/financing/applications", "applications", bearer(client_session))
    assert [application["name"] for application in mine] == [first.json()["name"]]
    # The key stands for its first request only: another body with it is refused, not answered.
    other = edge.post("/financing/applications", headers=headers, json={**APPLICATION, "term_months": 48})
    assert other.status_code == 400 and offending_fields(other) == {"idempotency_key"}, other.text
    assert len(listed(edge, "/financing/applications", "applications", bearer(client_session))) == 1


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, {"application.financing_type", "application.vehicle_price.amount", "application.term_months",
              "application.employment_status", "application.monthly_income.amount"}),
        ({**APPLICATION, "vehicle_price": {"amount": "x"}, "birth_date": "01.03.1985"},
         {"application.vehicle_price.amount", "application.birth_date"}),
        ({**APPLICATION, "financing_type": 9, "employment_status": 9},
         {"application.financing_type", "application.employment_status"}),
        ({**APPLICATION, "term_months": 7}, {"application.term_months"}),
        ({**APPLICATION, "term_months": 85, "down_payment": {"amount": "2000000"}, "monthly_income": {"amount": "-1"},
          "passport_number": "12345", "birth_date": "2999-01-01"},
         {"application.term_months", "application.down_payment", "application.monthly_income",
          "application.passport_number", "application.birth_date"}),
    ],
    ids=["empty", "unreadable-money-and-date", "unknown-enums", "term-7", "everything-out-of-range"],
)
def test_bad_applications_are_400_naming_every_field(edge, client_session, body, fields):
    response = edge.post("/financing/applications", headers=bearer(client_session), json=body)
    assert response.status_code == 400, response.text
    assert fields <= set(violations(response)), response.text
    assert listed(edge, "/financing/applications", "applications", bearer(client_session)) == []


def test_a_client_applies_for_themselves_only(edge, client_session):
    other = register(edge)
    response = edge.post("/financing/applications", headers=bearer(client_session),
                         json={**APPLICATION, "customer": other["name"]})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == 7
    assert listed(edge, "/financing/applications", "applications", bearer(client_session)) == []
    own = _create(edge, client_session, customer=client_session["user"]["name"])
    assert own["customer"] == client_session["user"]["name"]


def test_a_manager_applies_for_a_named_customer(edge, client_session, manager_session):
    staff = bearer(manager_session)
    nobody = edge.post("/financing/applications", headers=staff, json=APPLICATION)
    assert nobody.status_code == 400, nobody.text
    assert set(violations(nobody)) == {"application.customer"}, nobody.text
    malformed = edge.post("/financing/applications", headers=staff, json={**APPLICATION, "customer": "bob"})
    assert malformed.status_code == 400 and set(violations(malformed)) == {"application.customer"}, malformed.text
    created = edge.post("/financing/applications", headers=staff,
                        json={**APPLICATION, "customer": client_session["user"]["name"]})
    assert created.status_code == 200, created.text
    application = created.json()
    assert application["customer"] == client_session["user"]["name"] and application["status"] == DRAFT
    # The customer sees the application made for them.
    assert _get(edge, client_session, application)["name"] == application["name"]


def test_an_anonymous_caller_cannot_apply_or_look(edge):
    for response in (edge.post("/financing/applications", json=APPLICATION),
                     edge.get("/financing/applications"),
                     edge.get(f"/financing/applications/{uuid.uuid4()}")):
        assert response.status_code == 401, response.text
        assert response.json()["code"] == 16


def test_a_draft_changes_with_an_update_mask_and_a_current_etag(edge, client_session):
    application = _create(edge, client_session)
    path, headers = f"/financing/{application['name']}", bearer(client_session)
    changed = edge.patch(path, headers=headers, params={"update_mask": "term_months,down_payment"},
                         json={"term_months": 48, "down_payment": {"amount": "500000"}, "monthly_income": {
                             "amount": "1"}, "etag": application["etag"]})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["term_months"], body["loan_amount"]["amount"]) == (48, "1500000.00")
    assert body["monthly_income"]["amount"] == "80000.00"  # not in the mask: kept
    assert body["etag"] != application["etag"]
    stale = edge.patch(path, headers=headers, params={"update_mask": "term_months"},
                       json={"term_months": 24, "etag": application["etag"]})
    assert stale.status_code == 409 and stale.json()["code"] == 10, stale.text  # ABORTED
    read_only = edge.patch(path, headers=headers, params={"update_mask": "status"},
                           json={"status": APPROVED})
    assert read_only.status_code == 400 and "update_mask" in violations(read_only), read_only.text
    assert _get(edge, client_session, application)["term_months"] == 48


def test_an_update_out_of_range_is_400_naming_the_field(edge, client_session):
    application = _create(edge, client_session)
    path, headers = f"/financing/{application['name']}", bearer(client_session)
    unreadable = edge.patch(path, headers=headers, params={"update_mask": "birth_date"}, json={"birth_date": "soon"})
    assert unreadable.status_code == 400, unreadable.text
    assert set(violations(unreadable)) == {"application.birth_date"}, unreadable.text
    out_of_range = edge.patch(path, headers=headers, params={"update_mask": "term_months"}, json={"term_months": 7})
    assert out_of_range.status_code == 400, out_of_range.text
    assert set(violations(out_of_range)) == {"application.term_months"}, out_of_range.text
    assert _get(edge, client_session, application)["term_months"] == 36


def test_an_update_mask_of_star_changes_every_input_field(edge, client_session):
    """The proto: update_mask is "the input fields to change; "*" for all of them"."""
    application = _create(edge, client_session)
    changed = edge.patch(f"/financing/{application['name']}", headers=bearer(client_session),
                         params={"update_mask": "*"},
                         json={**APPLICATION, "term_months": 24, "monthly_income": {"amount": "90000"}, **APPLICANT})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["term_months"], body["monthly_income"]["amount"]) == (24, "90000.00")
    assert (body["passport_last_four"], body["birth_date"]) == ("****0460", BIRTH_DATE)


# Applications: submission and the credit decision.

def test_submitting_needs_the_passport_and_the_birth_date(edge, client_session):
    application = _create(edge, client_session)
    response = _call(edge, client_session, application, "submit")
    assert response.status_code == 400, response.text
    assert {"passport_number", "birth_date"} <= set(violations(response)), response.text
    assert _get(edge, client_session, application)["status"] == DRAFT


def test_an_excellent_score_is_approved_by_the_rules(edge, client_session):
    application = _create(edge, client_session)
    patched = edge.patch(f"/financing/{application['name']}", headers=bearer(client_session),
                         params={"update_mask": "passport_number,birth_date"}, json=APPLICANT)
    assert patched.status_code == 200, patched.text
    assert patched.json()["passport_last_four"] == "****0460" and patched.json()["passport_number"] == ""
    assert SCORES_760 not in patched.text
    submitted = _call(edge, client_session, application, "submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == SUBMITTED
    decided = _decided(edge, client_session, application)
    assert decided["status"] == APPROVED, decided
    assert decided["credit_score"] == 760
    assert "score_excellent" in decided["decision_reasons"]
    assert decided["debt_to_income_percent"] == "66.43"
    assert decided["decided_by"] == "financing" and decided["decision_time"]
    assert decided["annual_rate"] == "12"
    assert _moves(decided) == [("", "draft"), ("draft", "submitted"), ("submitted", "under_review"),
                               ("under_review", "approved")]
    assert [change["actor"] for change in decided["status_log"][2:]] == ["financing", "financing"]
    assert decided["passport_last_four"] == "****0460" and decided["passport_number"] == ""
    assert SCORES_760 not in str(decided)


def test_overdue_debt_is_rejected(edge, client_session):
    decided = _submitted_and_decided(edge, client_session, passport_number=OVERDUE)
    assert decided["status"] == REJECTED, decided
    assert "overdue_debt" in decided["decision_reasons"]
    assert decided["decided_by"] == "financing"
    assert _moves(decided)[-2:] == [("submitted", "under_review"), ("under_review", "rejected")]


def test_a_very_poor_score_is_rejected(edge, client_session):
    decided = _submitted_and_decided(edge, client_session, passport_number=SCORES_300)
    assert decided["status"] == REJECTED, decided
    assert decided["credit_score"] == 300
    assert "score_very_poor" in decided["decision_reasons"]


def test_an_applicant_too_old_at_the_end_of_the_term_is_rejected(edge, client_session):
    decided = _submitted_and_decided(edge, client_session, birth_date="1958-01-01", term_months=84)
    assert decided["status"] == REJECTED, decided
    assert "age_outside_policy" in decided["decision_reasons"]


def _under_review(edge, client_session) -> dict:
    """A poor score (630) with 30 % down and an income that carries the loan: a manager's call."""
    decided = _submitted_and_decided(edge, client_session, passport_number=SCORES_630,
                                     down_payment={"amount": "600000"}, monthly_income={"amount": "150000"})
    assert decided["status"] == UNDER_REVIEW, decided
    assert decided["credit_score"] == 630
    assert "manual_review" in decided["decision_reasons"]
    assert decided["decided_by"] == ""
    return decided


def test_a_poor_score_with_a_large_down_payment_waits_for_a_manager(edge, client_session, manager_session):
    waiting = _under_review(edge, client_session)
    unexplained = _call(edge, manager_session, waiting, "reject")
    assert unexplained.status_code == 400 and set(violations(unexplained)) == {"reason"}, unexplained.text
    blank = _call(edge, manager_session, waiting, "approve", {"reason": "   "})
    assert blank.status_code == 400 and set(violations(blank)) == {"reason"}, blank.text
    assert _get(edge, client_session, waiting)["status"] == UNDER_REVIEW
    approved = _call(edge, manager_session, waiting, "approve", {"reason": "steady income, large down payment"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    manager = body["status_log"][-1]["actor"]
    assert body["status"] == APPROVED
    assert manager.startswith("users/") and body["decided_by"] == manager
    assert body["decision_note"] == "steady income, large down payment"
    assert "manual" in body["decision_reasons"]
    assert _moves(body)[-1] == ("under_review", "approved")
    assert body["status_log"][-1]["reason"] == "steady income, large down payment"
    assert _get(edge, client_session, waiting)["status"] == APPROVED


def test_a_manager_approval_without_a_rate_grants_the_rules_rate(edge, client_session, manager_session):
    """The proto: ApproveApplicationRequest.annual_rate is "the rules' rate (or the base rate) when
    empty"; the rules quote a poor score sent to review at the base rate plus the review add-on
    (12 + 3), and its ПДН is computed at that rate."""
    waiting = _under_review(edge, client_session)
    approved = _call(edge, manager_session, waiting, "approve", {"reason": "known customer"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["annual_rate"] == "15", approved.json()


def test_a_manager_may_grant_another_rate(edge, client_session, manager_session):
    waiting = _under_review(edge, client_session)
    bad_rate = _call(edge, manager_session, waiting, "approve", {"reason": "ok", "annual_rate": "abc"})
    assert bad_rate.status_code == 400 and set(violations(bad_rate)) == {"annual_rate"}, bad_rate.text
    approved = _call(edge, manager_session, waiting, "approve", {"reason": "repriced", "annual_rate": "14.5"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["annual_rate"] == "14.5"
    calculation = _calculate(edge, {"vehicle_price": {"amount": "2000000"}, "down_payment": {"amount": "600000"},
                                    "term_months": 36, "annual_rate": "14.5"})
    assert body["monthly_payment"] == calculation["monthly_payment"]


def test_a_manager_rejects_an_application_under_review(edge, client_session, manager_session):
    waiting = _under_review(edge, client_session)
    rejected = _call(edge, manager_session, waiting, "reject", {"reason": "income not confirmed"})
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["status"] == REJECTED and body["decision_note"] == "income not confirmed"
    assert body["decided_by"] == body["status_log"][-1]["actor"] != "financing"
    again = _call(edge, manager_session, waiting, "reject", {"reason": "income not confirmed"})
    assert again.status_code == 200 and again.json() == body, again.text  # a retry
    _refused_move(_call(edge, manager_session, waiting, "approve", {"reason": "changed my mind"}),
                  "rejected", "approved")


def test_illegal_moves_are_failed_precondition_naming_both_statuses(edge, client_session, manager_session):
    draft = _create(edge, client_session, **APPLICANT)
    _refused_move(_call(edge, manager_session, draft, "activate"), "draft", "active")
    _refused_move(_call(edge, manager_session, draft, "approve", {"reason": "why not"}), "draft", "approved")
    _refused_move(_call(edge, manager_session, draft, "complete"), "draft", "completed")
    submitted = _call(edge, client_session, draft, "submit")
    assert submitted.status_code == 200, submitted.text
    approved = _decided(edge, client_session, draft)
    assert approved["status"] == APPROVED, approved
    patched = edge.patch(f"/financing/{draft['name']}", headers=bearer(client_session),
                         params={"update_mask": "term_months"}, json={"term_months": 48})
    _refused_move(patched, "approved", "draft")
    _refused_move(_call(edge, client_session, draft, "submit"), "approved", "submitted")
    _refused_move(_call(edge, manager_session, draft, "complete"), "approved", "completed")
    _refused_move(_call(edge, manager_session, draft, "default", {"reason": "stopped paying"}),
                  "approved", "defaulted")
    _refused_move(_call(edge, manager_session, draft, "reject", {"reason": "too late"}), "approved", "rejected")
    assert _get(edge, client_session, draft)["status"] == APPROVED


# Staff run the loan.

def test_staff_activate_and_complete_an_approved_loan(edge, client_session, manager_session):
    approved = _approved(edge, client_session)
    activated = _call(edge, manager_session, approved, "activate")
    assert activated.status_code == 200, activated.text
    active = activated.json()
    today = datetime.date.today().isoformat()
    assert active["status"] == ACTIVE and active["activation_date"] == today
    again = _call(edge, manager_session, approved, "activate")
    assert again.status_code == 200 and again.json() == active, again.text  # a retry
    schedule = edge.get(f"/financing/{approved['name']}/schedule", headers=bearer(client_session))
    assert schedule.status_code == 200, schedule.text
    body = schedule.json()
    assert body["name"] == f"{approved['name']}/schedule"
    assert body["disbursement_date"] == today
    assert (body["loan_amount"]["amount"], body["annual_rate"]) == ("1600000.00", "12")
    rows = body["rows"]
    assert len(rows) == 36 and _principals(rows) == Decimal("1600000.00")
    assert rows[0]["date"] > today and rows[-1]["balance"] == "0.00"
    assert [row["date"] for row in rows] == sorted(row["date"] for row in rows)
    assert body["total_paid"]["amount"] == active["total_payment"]["amount"]
    completed = _call(edge, manager_session, approved, "complete")
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == COMPLETED
    assert _moves(completed.json())[-2:] == [("approved", "active"), ("active", "completed")]
    assert completed.json()["activation_date"] == today


def test_staff_default_an_active_loan_with_a_reason(edge, client_session, manager_session):
    approved = _approved(edge, client_session)
    activated = _call(edge, manager_session, approved, "activate")
    assert activated.status_code == 200, activated.text
    unexplained = _call(edge, manager_session, approved, "default")
    assert unexplained.status_code == 400 and set(violations(unexplained)) == {"reason"}, unexplained.text
    defaulted = _call(edge, manager_session, approved, "default", {"reason": "three payments missed"})
    assert defaulted.status_code == 200, defaulted.text
    body = defaulted.json()
    assert body["status"] == DEFAULTED
    assert _moves(body)[-1] == ("active", "defaulted")
    assert body["status_log"][-1]["reason"] == "three payments missed"
    _refused_move(_call(edge, manager_session, approved, "complete"), "defaulted", "completed")


def test_clients_cannot_decide_or_run_loans(edge, client_session):
    approved = _approved(edge, client_session)
    for verb, body in (("approve", {"reason": "me"}), ("reject", {"reason": "me"}), ("activate", {}),
                       ("complete", {}), ("default", {"reason": "me"})):
        response = _call(edge, client_session, approved, verb, body)
        assert response.status_code == 403, f"{verb}: {response.text}"
        assert response.json()["code"] == 7
    assert _get(edge, client_session, approved)["status"] == APPROVED


# Who sees what.

def test_another_clients_application_is_not_found(edge, client_session, manager_session):
    theirs = _create(edge, client_session, **APPLICANT)
    stranger = bearer(_another_client(edge))
    path = f"/financing/{theirs['name']}"
    for response in (edge.get(path, headers=stranger),
                     edge.patch(path, headers=stranger, params={"update_mask": "term_months"},
                                json={"term_months": 48}),
                     edge.post(f"{path}:submit", headers=stranger, json={}),
                     edge.get(f"{path}/schedule", headers=stranger)):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == 5
    untouched = _get(edge, client_session, theirs)
    assert (untouched["status"], untouched["term_months"]) == (DRAFT, 36)
    assert _get(edge, manager_session, theirs)["name"] == theirs["name"]
    ghost = f"/financing/applications/{uuid.uuid4()}"
    assert edge.get(ghost, headers=bearer(manager_session)).status_code == 404
    malformed = edge.get("/financing/applications/not-a-uuid", headers=bearer(manager_session))
    assert malformed.status_code == 400 and "name" in violations(malformed), malformed.text


def test_a_clients_list_shows_their_own_and_staffs_shows_all(edge, client_session, manager_session):
    mine = _create(edge, client_session)
    other_session = _another_client(edge)
    theirs = _create(edge, other_session)
    names = [a["name"] for a in listed(edge, "/financing/applications", "applications", bearer(client_session))]
    assert names == [mine["name"]]
    names = [a["name"] for a in listed(edge, "/financing/applications", "applications", bearer(other_session))]
    assert names == [theirs["name"]]
    everyone = listed(edge, "/financing/applications?page_size=100", "applications", bearer(manager_session))
    assert {mine["name"], theirs["name"]} <= {application["name"] for application in everyone}


def test_the_list_filters_by_status(edge, client_session):
    draft = _create(edge, client_session)
    rejected = _submitted_and_decided(edge, client_session, passport_number=OVERDUE)
    assert rejected["status"] == REJECTED, rejected
    headers = bearer(client_session)
    drafts = listed(edge, f"/financing/applications?status={DRAFT}", "applications", headers)
    assert [application["name"] for application in drafts] == [draft["name"]]
    refused = listed(edge, f"/financing/applications?status={REJECTED}", "applications", headers)
    assert [application["name"] for application in refused] == [rejected["name"]]
    assert listed(edge, f"/financing/applications?status={ACTIVE}", "applications", headers) == []
    both = listed(edge, "/financing/applications", "applications", headers)
    assert [application["name"] for application in both] == [rejected["name"], draft["name"]]  # newest first


def test_the_list_pages_with_page_size_one(edge, client_session):
    created = [_create(edge, client_session, term_months=term)["name"] for term in (24, 36, 48)]
    headers, seen, token = bearer(client_session), [], ""
    for _ in range(4):
        response = edge.get("/financing/applications", headers=headers,
                            params={"page_size": 1, **({"page_token": token} if token else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["applications"]) == 1
        seen.append(page["applications"][0]["name"])
        token = page["next_page_token"]
        if not token:
            break
    assert seen == created[::-1]
    assert token == ""
    # A token belongs to its query.
    first = edge.get("/financing/applications", headers=headers, params={"page_size": 1}).json()
    other_query = edge.get("/financing/applications", headers=headers,
                           params={"page_size": 1, "status": DRAFT, "page_token": first["next_page_token"]})
    assert other_query.status_code == 400 and "page_token" in violations(other_query), other_query.text


@pytest.mark.parametrize("params, field", [
    ({"page_token": "garbage"}, "page_token"),
    ({"page_size": -1}, "page_size"),
], ids=["garbage-token", "negative-size"])
def test_bad_application_pages_are_400_with_the_field(edge, client_session, params, field):
    response = edge.get("/financing/applications", headers=bearer(client_session), params=params)
    assert response.status_code == 400, response.text
    assert field in violations(response)


# Native gRPC.

def _signed(session: dict) -> tuple:
    return (("authorization", f"Bearer {session['access_token']}"),)


async def test_applications_over_native_grpc(edge_channel, client_session):
    stub = financing_pb2_grpc.FinancingServiceStub(edge_channel)
    draft = financing_pb2.Application(
        financing_type=financing_pb2.FINANCING_TYPE_CAR_LOAN, vehicle_price=common_pb2.Money(amount="2000000"),
        down_payment=common_pb2.Money(amount="400000"), term_months=36,
        employment_status=financing_pb2.EMPLOYMENT_STATUS_EMPLOYED, monthly_income=common_pb2.Money(amount="80000"))
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub.CreateApplication(financing_pb2.CreateApplicationRequest(application=draft))
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    created = await stub.CreateApplication(financing_pb2.CreateApplicationRequest(application=draft),
                                           metadata=_signed(client_session))
    assert created.status == financing_pb2.APPLICATION_STATUS_DRAFT
    assert created.customer == client_session["user"]["name"]
    assert created.loan_amount.amount == "1600000.00" and created.annual_rate == "12"
    found = await stub.GetApplication(financing_pb2.GetApplicationRequest(name=created.name),
                                      metadata=_signed(client_session))
    assert found == created
    page = await stub.ListApplications(financing_pb2.ListApplicationsRequest(), metadata=_signed(client_session))
    assert [application.name for application in page.applications] == [created.name]
    stranger = await _stranger_over_grpc(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await stub.GetApplication(financing_pb2.GetApplicationRequest(name=created.name), metadata=stranger)
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as not_staff:
        await stub.ActivateApplication(financing_pb2.ActivateApplicationRequest(name=created.name),
                                       metadata=_signed(client_session))
    assert not_staff.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def _stranger_over_grpc(edge_channel) -> tuple:
    auth = auth_pb2_grpc.AuthServiceStub(edge_channel)
    email = new_email("stranger")
    await auth.Register(auth_pb2.RegisterRequest(email=email, password=STRONG_PASSWORD,
                                                 confirm_password=STRONG_PASSWORD, full_name="Anna Stranger"))
    tokens = await auth.Login(auth_pb2.LoginRequest(email=email, password=STRONG_PASSWORD))
    return (("authorization", f"Bearer {tokens.access_token}"),)


# The bank away.

@pytest.mark.disruptive
def test_a_submission_waits_while_the_bank_is_away_and_is_decided_once_it_is_back(edge, client_session):
    application = _create(edge, client_session, **APPLICANT)
    supervisor.ctl("stop", "bank")
    try:
        submitted = _call(edge, client_session, application, "submit")
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["status"] == SUBMITTED
        for _ in range(4):  # several of the 0.5 s passes
            time.sleep(0.5)
            assert _get(edge, client_session, application)["status"] == SUBMITTED
        # A repeated submit is a retry: the application comes back unchanged.
        again = _call(edge, client_session, application, "submit")
        assert again.status_code == 200, again.text
        assert again.json() == submitted.json()
    finally:
        supervisor.ctl("start", "bank")
    decided = _decided(edge, client_session, application, attempts=300)  # the breaker resets first
    assert decided["status"] == APPROVED, decided
    assert decided["credit_score"] == 760
    assert _moves(decided) == [("", "draft"), ("draft", "submitted"), ("submitted", "under_review"),
                               ("under_review", "approved")]
