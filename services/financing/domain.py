"""financing's rules for a loan application: its terms, its status machine, and the decision
the bank's report leads to (the mathematics are in loans.py).

An application's terms are checked all at once, every problem named by its API field; a draft
may be incomplete only in what the bank's report needs (passport, birth date), which submitting
requires. The status machine:

    draft → submitted → under_review → approved / rejected → active → completed / defaulted

A submitted application may also be decided by a manager before the bank answers. Moving to the
status it already has is a retry: the caller gets it unchanged.
"""
import dataclasses
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from services.kit.errors import FailedPrecondition, InvalidArgument

from . import loans

DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, REJECTED, ACTIVE, COMPLETED, DEFAULTED = (
    "draft", "submitted", "under_review", "approved", "rejected", "active", "completed", "defaulted")
# Why financing refuses a change (google.rpc.ErrorInfo.reason; proto/autosalon/ERRORS.md lists them).
APPLICATION_WRONG_STATE = "APPLICATION_WRONG_STATE"

TRANSITIONS = {
    DRAFT: {SUBMITTED},
    SUBMITTED: {UNDER_REVIEW, APPROVED, REJECTED},
    UNDER_REVIEW: {APPROVED, REJECTED},
    APPROVED: {ACTIVE},
    ACTIVE: {COMPLETED, DEFAULTED},
    REJECTED: set(),
    COMPLETED: set(),
    DEFAULTED: set(),
}
CAR_LOAN, LEASING, INSTALLMENT = "car_loan", "leasing", "installment"
EMPLOYED, SELF_EMPLOYED, RETIRED, UNEMPLOYED, STUDENT = (
    "employed", "self_employed", "retired", "unemployed", "student")
# Who decided, when the rules did on the bank's report.
RULES = "financing"
MANUAL = "manual"
REASON_MAX = 500
PASSPORT = re.compile(r"[0-9]{10}", re.ASCII)


@dataclass(frozen=True)
class Terms:
    """What the borrower asks for and declares."""
    financing_type: str
    vehicle_price: Decimal
    down_payment: Decimal
    term_months: int
    schedule_type: str
    employment_status: str
    monthly_income: Decimal
    existing_monthly_payments: Decimal
    passport_number: str = ""
    birth_date: datetime.date | None = None
    order: str = ""

    @property
    def loan_amount(self) -> Decimal:
        return self.vehicle_price - self.down_payment


def loan_problems(vehicle_price: Decimal | None, down_payment: Decimal | None, term_months: int,
                  policy: loans.CreditPolicy) -> list[tuple[str, str]]:
    """What is wrong with a loan's price, down payment and term, by field; an amount that could
    not be read (None) is not judged."""
    problems = []
    if vehicle_price is not None and vehicle_price <= 0:
        problems.append(("vehicle_price", "must be more than 0"))
    if down_payment is not None and down_payment < 0:
        problems.append(("down_payment", "must not be negative"))
    elif vehicle_price is not None and down_payment is not None and 0 < vehicle_price <= down_payment:
        problems.append(("down_payment", "must be less than the vehicle price: the loan must be more than 0"))
    if not policy.shortest_term_months <= term_months <= policy.longest_term_months:
        problems.append(("term_months", f"must be {policy.shortest_term_months} to {policy.longest_term_months} months"))
    return problems


def terms_problems(values: dict, policy: loans.CreditPolicy) -> list[tuple[str, str]]:
    """What is wrong with the terms in `values` (Terms' fields), by field; a field missing from
    `values` (it could not be read) is not judged."""
    problems = loan_problems(values.get("vehicle_price"), values.get("down_payment"), values.get("term_months", 0),
                             policy)
    income, debts = values.get("monthly_income"), values.get("existing_monthly_payments")
    if income is not None and income <= 0:
        problems.append(("monthly_income", "must be more than 0"))
    if debts is not None and debts < 0:
        problems.append(("existing_monthly_payments", "must not be negative"))
    if values.get("passport_number") and not PASSPORT.fullmatch(values["passport_number"]):
        problems.append(("passport_number", "must be the passport's series and number, 10 digits"))
    if values.get("birth_date") and values["birth_date"] >= datetime.date.today():
        problems.append(("birth_date", "must be in the past"))
    return problems


def check_terms(terms: Terms, policy: loans.CreditPolicy, prefix: str = "") -> None:
    """InvalidArgument naming every field that is wrong (under `prefix`)."""
    problems = terms_problems(dataclasses.asdict(terms), policy)
    if problems:
        raise InvalidArgument([(f"{prefix}{field}", text) for field, text in problems])


def check_submittable(terms: Terms) -> None:
    """The bank's report needs the passport and the birth date."""
    problems = [(field, "is required to submit the application (the bank's credit report needs it)")
                for field, value in (("passport_number", terms.passport_number), ("birth_date", terms.birth_date))
                if not value]
    if problems:
        raise InvalidArgument(problems)


def check_move(current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS[current]:
        raise FailedPrecondition(f"the application is {current}; it cannot become {wanted}", APPLICATION_WRONG_STATE,
                                 {"status": current})


def check_reason(reason: str, required: bool = True) -> str:
    reason = reason.strip()
    if required and not reason:
        raise InvalidArgument({"reason": "is required"})
    if len(reason) > REASON_MAX:
        raise InvalidArgument({"reason": f"must be at most {REASON_MAX} characters"})
    return reason


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def quoted(loan, annual_rate: Decimal, policy: loans.CreditPolicy, day: datetime.date) -> loans.Schedule:
    """The schedule of `loan` (its schedule_type, loan_amount and term_months: Terms, or a
    calculation's) at `annual_rate`, disbursed on `day`, by the policy's conventions."""
    return loans.build_schedule(loan.schedule_type, loan.loan_amount, annual_rate, loan.term_months, day,
                                policy.interest_basis, policy.payment_rounding)


def decision(terms: Terms, score: int, has_overdue_debt: bool, policy: loans.CreditPolicy,
             day: datetime.date) -> loans.Decision:
    """What the rules decide on the bank's report, on `day`."""
    return loans.decide(loans.CreditApplication(
        vehicle_price=terms.vehicle_price, down_payment=terms.down_payment, term_months=terms.term_months,
        monthly_income=terms.monthly_income, existing_monthly_payments=terms.existing_monthly_payments,
        credit_score=score, age=age_on(terms.birth_date, day), has_overdue_debt=has_overdue_debt,
        disbursement_date=day, schedule_type=terms.schedule_type), policy)


def status_after(outcome: str) -> str:
    """Where the rules' outcome takes a submitted application."""
    return {loans.APPROVED: APPROVED, loans.DECLINED: REJECTED, loans.REVIEW: UNDER_REVIEW}[outcome]
