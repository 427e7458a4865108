"""financing's application rules (services/financing/domain.py) and the bank emulator's reports."""
import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.emulators.bank import report
from services.financing import domain, loans
from services.kit.errors import FailedPrecondition, InvalidArgument

POLICY = loans.CreditPolicy()
TODAY = datetime.date(2026, 12, 2)


def _terms(**changes) -> domain.Terms:
    values = dict(financing_type=domain.CAR_LOAN, vehicle_price=Decimal("2000000.00"),
                  down_payment=Decimal("400000.00"), term_months=36, schedule_type=loans.ANNUITY,
                  employment_status=domain.EMPLOYED, monthly_income=Decimal("80000.00"),
                  existing_monthly_payments=Decimal("0.00"), passport_number="4510000460",
                  birth_date=datetime.date(1985, 3, 1))
    return domain.Terms(**{**values, **changes})


def _fields(error: InvalidArgument) -> list[str]:
    return [field for field, _ in error.violations]


def test_the_loan_is_the_price_less_the_down_payment():
    assert _terms().loan_amount == Decimal("1600000.00")


def test_every_bad_term_is_named_at_once():
    with pytest.raises(InvalidArgument) as error:
        domain.check_terms(_terms(vehicle_price=Decimal("0"), term_months=7, monthly_income=Decimal("0"),
                                  existing_monthly_payments=Decimal("-1"), passport_number="12345"), POLICY)
    assert _fields(error.value) == ["vehicle_price", "term_months", "monthly_income", "existing_monthly_payments",
                                    "passport_number"]


@pytest.mark.parametrize("down", ["2000000.00", "2500000.00", "-1.00"])
def test_the_down_payment_leaves_a_loan_to_make(down):
    with pytest.raises(InvalidArgument) as error:
        domain.check_terms(_terms(down_payment=Decimal(down)), POLICY)
    assert _fields(error.value) == ["down_payment"]


@pytest.mark.parametrize("term", [11, 85])
def test_the_term_is_within_the_product_range(term):
    with pytest.raises(InvalidArgument) as error:
        domain.check_terms(_terms(term_months=term), POLICY)
    assert error.value.violations == [("term_months", "must be 12 to 84 months")]


def test_a_birth_date_in_the_future_is_refused():
    with pytest.raises(InvalidArgument) as error:
        domain.check_terms(_terms(birth_date=datetime.date.today() + datetime.timedelta(days=1)), POLICY)
    assert _fields(error.value) == ["birth_date"]


def test_a_draft_may_lack_what_only_the_bank_needs_but_submitting_may_not():
    draft = _terms(passport_number="", birth_date=None)
    domain.check_terms(draft, POLICY)
    with pytest.raises(InvalidArgument) as error:
        domain.check_submittable(draft)
    assert _fields(error.value) == ["passport_number", "birth_date"]
    domain.check_submittable(_terms())


LEGAL = [(current, wanted) for current, targets in domain.TRANSITIONS.items() for wanted in targets]


@given(st.sampled_from(list(domain.TRANSITIONS)), st.sampled_from(list(domain.TRANSITIONS)))
def test_only_the_documented_moves_are_allowed(current, wanted):
    if (current, wanted) in LEGAL:
        domain.check_move(current, wanted)
    else:
        with pytest.raises(FailedPrecondition, match=f"is {current}; it cannot become {wanted}"):
            domain.check_move(current, wanted)


def test_the_lifecycle_ends_in_rejected_completed_or_defaulted():
    ends = {status for status, targets in domain.TRANSITIONS.items() if not targets}
    assert ends == {domain.REJECTED, domain.COMPLETED, domain.DEFAULTED}
    assert domain.TRANSITIONS[domain.DRAFT] == {domain.SUBMITTED}


def test_a_reason_is_trimmed_required_and_bounded():
    assert domain.check_reason("  income confirmed  ") == "income confirmed"
    with pytest.raises(InvalidArgument):
        domain.check_reason("   ")
    assert domain.check_reason("", required=False) == ""
    with pytest.raises(InvalidArgument):
        domain.check_reason("x" * (domain.REASON_MAX + 1))


@pytest.mark.parametrize("birth, age", [((1985, 12, 2), 41), ((1985, 12, 3), 40), ((2004, 2, 29), 22)])
def test_age_counts_whole_years(birth, age):
    assert domain.age_on(datetime.date(*birth), TODAY) == age


def test_the_issues_example_is_approved_at_the_base_rate_and_its_pti_shown():
    decision = domain.decision(_terms(), 760, False, POLICY, TODAY)
    assert domain.status_after(decision.outcome) == domain.APPROVED
    assert decision.annual_rate == Decimal("12") and decision.pti == Decimal("66.43")
    assert decision.reasons == ("eligible", "score_excellent", "pti_high_counts_against_quota", "full_cost_within_cap")


@pytest.mark.parametrize("score, overdue, status", [
    (300, False, domain.REJECTED), (760, True, domain.REJECTED), (720, False, domain.APPROVED)])
def test_the_report_leads_to_the_rules_outcome(score, overdue, status):
    assert domain.status_after(domain.decision(_terms(), score, overdue, POLICY, TODAY).outcome) == status


def test_a_poor_score_with_a_large_down_payment_waits_for_a_manager():
    terms = _terms(down_payment=Decimal("600000.00"), monthly_income=Decimal("200000.00"))
    assert domain.status_after(domain.decision(terms, 630, False, POLICY, TODAY).outcome) == domain.UNDER_REVIEW


def test_the_schedule_follows_the_policys_conventions():
    schedule = domain.quoted(_terms(), Decimal("12"), POLICY, datetime.date(2026, 1, 15))
    assert schedule.rows[0].payment == Decimal("53142.90") and schedule.rows[-1].payment == Decimal("53142.70")
    rounded_up = domain.quoted(_terms(), Decimal("12"), loans.CreditPolicy(payment_rounding=loans.UP_ROUBLE),
                               datetime.date(2026, 1, 15))
    assert rounded_up.rows[0].payment == Decimal("53143")


@pytest.mark.parametrize("passport, score, overdue", [
    ("4510000460", 760, False), ("4510000000", 300, False), ("4510000550", 850, False),
    ("4510000551", 300, False), ("4599000460", 760, True)])
def test_the_bank_emulators_report_is_picked_by_the_passport(passport, score, overdue):
    assert report(passport)[:2] == (score, overdue)


@given(st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_every_passport_scores_within_the_scale(passport):
    score, _, open_loans = report(passport)
    assert 300 <= score <= 850 and open_loans >= 0
