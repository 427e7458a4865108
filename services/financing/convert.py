"""financing's conversions between protobuf messages, the domain and rows."""
import datetime
import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from autosalon.financing.v1 import financing_pb2
from services.kit import money
from services.kit.errors import InvalidArgument, prefixed
from services.kit.protos import audit, date_from, timestamp

from . import domain, loans

SCHEDULE_TYPE = {loans.ANNUITY: financing_pb2.SCHEDULE_TYPE_ANNUITY,
                 loans.DIFFERENTIATED: financing_pb2.SCHEDULE_TYPE_DIFFERENTIATED}
SCHEDULE_TYPE_NAME = {value: key for key, value in SCHEDULE_TYPE.items()}
FINANCING_TYPE = {domain.CAR_LOAN: financing_pb2.FINANCING_TYPE_CAR_LOAN,
                  domain.LEASING: financing_pb2.FINANCING_TYPE_LEASING,
                  domain.INSTALLMENT: financing_pb2.FINANCING_TYPE_INSTALLMENT}
FINANCING_TYPE_NAME = {value: key for key, value in FINANCING_TYPE.items()}
EMPLOYMENT = {domain.EMPLOYED: financing_pb2.EMPLOYMENT_STATUS_EMPLOYED,
              domain.SELF_EMPLOYED: financing_pb2.EMPLOYMENT_STATUS_SELF_EMPLOYED,
              domain.RETIRED: financing_pb2.EMPLOYMENT_STATUS_RETIRED,
              domain.UNEMPLOYED: financing_pb2.EMPLOYMENT_STATUS_UNEMPLOYED,
              domain.STUDENT: financing_pb2.EMPLOYMENT_STATUS_STUDENT}
EMPLOYMENT_NAME = {value: key for key, value in EMPLOYMENT.items()}
STATUS = {domain.DRAFT: financing_pb2.APPLICATION_STATUS_DRAFT,
          domain.SUBMITTED: financing_pb2.APPLICATION_STATUS_SUBMITTED,
          domain.UNDER_REVIEW: financing_pb2.APPLICATION_STATUS_UNDER_REVIEW,
          domain.APPROVED: financing_pb2.APPLICATION_STATUS_APPROVED,
          domain.REJECTED: financing_pb2.APPLICATION_STATUS_REJECTED,
          domain.ACTIVE: financing_pb2.APPLICATION_STATUS_ACTIVE,
          domain.COMPLETED: financing_pb2.APPLICATION_STATUS_COMPLETED,
          domain.DEFAULTED: financing_pb2.APPLICATION_STATUS_DEFAULTED}
STATUS_NAME = {value: key for key, value in STATUS.items()}
CHARGE_KIND = {financing_pb2.CHARGE_KIND_LENDER_FEE: (loans.LENDER_FEE, False),
               financing_pb2.CHARGE_KIND_THIRD_PARTY: (loans.THIRD_PARTY, False),
               financing_pb2.CHARGE_KIND_REQUIRED_INSURANCE: (loans.INSURANCE, True),
               financing_pb2.CHARGE_KIND_STATUTORY_INSURANCE: (loans.STATUTORY, False)}
PREPAYMENT_MODE = {financing_pb2.PREPAYMENT_MODE_REDUCE_PAYMENT: loans.REDUCE_PAYMENT,
                   financing_pb2.PREPAYMENT_MODE_SHORTEN_TERM: loans.SHORTEN_TERM}
CALCULATION_VIEWS = (financing_pb2.CALCULATION_VIEW_UNSPECIFIED, financing_pb2.CALCULATION_VIEW_BASIC,
                     financing_pb2.CALCULATION_VIEW_FULL)
RATE_PLACES = Decimal("0.001")


def rate_from(text: str, field: str) -> Decimal:
    """A rate in per cent: a plain decimal number, at most three places."""
    if not text:
        raise InvalidArgument({field: "is required, per cent per annum, e.g. 12"})
    if not money.AMOUNT_TEXT.fullmatch(text.strip()):
        raise InvalidArgument({field: f"must be a decimal number like 12.5, not {text[:40]!r}"})
    rate = Decimal(text.strip())
    if rate != rate.quantize(RATE_PLACES):
        raise InvalidArgument({field: "must have at most three digits after the point"})
    return rate


def optional_money(message, field: str) -> Decimal:
    """An amount that may be left out (0)."""
    return money.from_proto(message, field) if message.amount else Decimal("0.00")


def schedule_type_from(value: int) -> str:
    if value == financing_pb2.SCHEDULE_TYPE_UNSPECIFIED:
        return loans.ANNUITY
    if value not in SCHEDULE_TYPE_NAME:
        raise InvalidArgument({"schedule_type": "must be annuity or differentiated"})
    return SCHEDULE_TYPE_NAME[value]


def terms_from(application: financing_pb2.Application, policy: loans.CreditPolicy,
               fields: set[str] | None = None) -> dict:
    """The terms an application message asks for, by field (only `fields`, when named); every
    field that cannot be read or is out of bounds named at once, under "application."."""
    problems, values = [], {}
    readers = {
        "financing_type": lambda: _choice(application.financing_type, FINANCING_TYPE_NAME, "financing_type",
                                          "must be car_loan, leasing or installment"),
        "vehicle_price": lambda: money.from_proto(application.vehicle_price, "vehicle_price"),
        "down_payment": lambda: optional_money(application.down_payment, "down_payment"),
        "term_months": lambda: application.term_months,
        "schedule_type": lambda: schedule_type_from(application.schedule_type),
        "employment_status": lambda: _choice(application.employment_status, EMPLOYMENT_NAME, "employment_status",
                                             "must be employed, self_employed, retired, unemployed or student"),
        "monthly_income": lambda: money.from_proto(application.monthly_income, "monthly_income"),
        "existing_monthly_payments": lambda: optional_money(application.existing_monthly_payments,
                                                            "existing_monthly_payments"),
        "passport_number": lambda: "".join(application.passport_number.split()),
        "birth_date": lambda: date_from(application.birth_date, "birth_date"),
        "order": lambda: application.order,
    }
    for name, read in readers.items():
        if fields is not None and name not in fields:
            continue
        try:
            values[name] = read()
        except InvalidArgument as error:
            problems.extend(prefixed(error.violations, "application."))
    judged = domain.terms_problems(values, policy) if fields is None else []
    problems.extend((f"application.{field}", text) for field, text in judged)
    if problems:
        raise InvalidArgument(problems)
    return values


def _choice(value: int, names: dict, field: str, problem: str) -> str:
    if value not in names:
        raise InvalidArgument({field: problem})
    return names[value]


@dataclass(frozen=True)
class Loan:
    """A calculation's loan."""
    schedule_type: str
    vehicle_price: Decimal
    down_payment: Decimal
    term_months: int
    annual_rate: Decimal
    disbursement_date: datetime.date
    charges: tuple[loans.Charge, ...]

    @property
    def loan_amount(self) -> Decimal:
        return self.vehicle_price - self.down_payment


def loan_from(request: financing_pb2.CalculateLoanRequest, policy: loans.CreditPolicy, prefix: str = "") -> Loan:
    """The loan a calculation asks for; every problem named at once, under `prefix`."""
    problems = []

    def read(what, default=None):
        try:
            return what()
        except InvalidArgument as error:
            problems.extend(prefixed(error.violations, prefix))
            return default

    price = read(lambda: money.from_proto(request.vehicle_price, "vehicle_price"))
    down = None
    if request.WhichOneof("down") == "down_payment_percent":
        share = read(lambda: rate_from(request.down_payment_percent, "down_payment_percent"))
        if share is not None and not Decimal(0) <= share < Decimal(100):
            problems.append((f"{prefix}down_payment_percent", "must be 0 to less than 100"))
        elif share is not None and price is not None:
            down = (price * share / 100).quantize(money.KOPECK, rounding=ROUND_HALF_UP)
    else:
        down = read(lambda: optional_money(request.down_payment, "down_payment"))
    rate = read(lambda: rate_from(request.annual_rate, "annual_rate"), Decimal(0))
    if not Decimal(0) <= rate <= loans.MAX_ANNUAL_RATE:
        problems.append((f"{prefix}annual_rate", f"must be 0 to {loans.MAX_ANNUAL_RATE} per cent"))
    schedule_type = read(lambda: schedule_type_from(request.schedule_type), loans.ANNUITY)
    day = read(lambda: date_from(request.disbursement_date, "disbursement_date")) or datetime.date.today()
    charges = []
    for index, charge in enumerate(request.charges):
        field = f"charges[{index}]"
        if charge.kind not in CHARGE_KIND:
            problems.append((f"{prefix}{field}.kind", "must be lender_fee, third_party, required_insurance or "
                                                     "statutory_insurance"))
            continue
        amount = read(lambda: money.from_proto(charge.amount, f"{field}.amount"))
        kind, insurance = CHARGE_KIND[charge.kind]
        if amount is not None:
            charges.append(loans.Charge(amount, kind, paid_on=day, required=kind != loans.STATUTORY,
                                        lender_is_beneficiary=insurance))
    if request.view not in CALCULATION_VIEWS:
        problems.append((f"{prefix}view", "must be basic or full"))
    problems.extend((f"{prefix}{field}", text) for field, text in domain.loan_problems(
        price, down, request.term_months, policy))
    if problems:
        raise InvalidArgument(problems)
    return Loan(schedule_type, price, down, request.term_months, rate, day, tuple(charges))


def prepayment_from(request: financing_pb2.CalculatePrepaymentRequest, schedule: loans.Schedule
                    ) -> loans.Prepayment:
    """The prepayment asked for, every problem with it named at once."""
    problems = []
    if request.loan.view:
        problems.append(("loan.view", "must be left unset: a prepayment answers with the rows after it"))
    if request.mode not in PREPAYMENT_MODE:
        problems.append(("mode", "must be reduce_payment or shorten_term"))
    if not 0 <= request.after_payment < len(schedule.rows):
        problems.append(("after_payment", f"must be 0 to {len(schedule.rows) - 1}: a payment must follow it"))
    try:
        amount = money.from_proto(request.amount, "amount")
    except InvalidArgument as error:
        problems.extend(error.violations)
    if problems:
        raise InvalidArgument(problems)
    # The amount's bound (at most the balance then) is the loan mathematics' to judge.
    return loans.prepay(schedule, request.after_payment, amount, PREPAYMENT_MODE[request.mode])


def calculation_to_proto(schedule: loans.Schedule, down_payment: Decimal, cost: loans.FullCost, view: int
                         ) -> financing_pb2.LoanCalculation:
    """The calculation in `view` (FULL when unspecified)."""
    rows = () if view == financing_pb2.CALCULATION_VIEW_BASIC else schedule.rows
    return with_rows(rows, financing_pb2.LoanCalculation(
        loan_amount=money.to_proto(schedule.loan_amount), down_payment=money.to_proto(down_payment),
        monthly_payment=money.to_proto(schedule.rows[0].payment), last_payment=money.to_proto(schedule.rows[-1].payment),
        total_paid=money.to_proto(schedule.total_paid),
        total_interest=money.to_proto(schedule.total_interest), full_cost_percent=format(cost.percent, "f"),
        full_cost_amount=money.to_proto(cost.roubles), schedule_type=SCHEDULE_TYPE[schedule.schedule_type],
        annual_rate=rate_text(schedule.annual_rate), term_months=schedule.term_months))


def prepayment_to_proto(schedule: loans.Schedule, after_payment: int, prepayment: loans.Prepayment
                        ) -> financing_pb2.PrepaymentCalculation:
    before = schedule.rows[after_payment - 1].balance if after_payment else schedule.loan_amount
    return with_rows(prepayment.rows, financing_pb2.PrepaymentCalculation(
        balance_before=money.to_proto(before), balance_after=money.to_proto(prepayment.balance),
        monthly_payment=money.to_proto(prepayment.rows[0].payment if prepayment.rows else Decimal(0)),
        remaining_interest=money.to_proto(prepayment.interest),
        remaining_interest_without_prepayment=money.to_proto(prepayment.interest_without_prepayment),
        saving=money.to_proto(prepayment.saving)))


def schedule_to_proto(name: str, schedule: loans.Schedule) -> financing_pb2.Schedule:
    return with_rows(schedule.rows, financing_pb2.Schedule(
        name=name, disbursement_date=schedule.disbursement_date.isoformat(),
        schedule_type=SCHEDULE_TYPE[schedule.schedule_type], annual_rate=rate_text(schedule.annual_rate),
        loan_amount=money.to_proto(schedule.loan_amount),
        total_paid=money.to_proto(schedule.total_paid), total_interest=money.to_proto(schedule.total_interest)))


def terms_of(row) -> domain.Terms:
    return domain.Terms(
        financing_type=row.financing_type, vehicle_price=row.vehicle_price, down_payment=row.down_payment,
        term_months=row.term_months, schedule_type=row.schedule_type, employment_status=row.employment_status,
        monthly_income=row.monthly_income, existing_monthly_payments=row.existing_monthly_payments,
        passport_number=row.passport_number, birth_date=row.birth_date, order=row.order_id)


def terms_columns(terms: domain.Terms) -> dict:
    return {
        "financing_type": terms.financing_type, "vehicle_price": terms.vehicle_price,
        "down_payment": terms.down_payment, "term_months": terms.term_months, "schedule_type": terms.schedule_type,
        "employment_status": terms.employment_status, "monthly_income": terms.monthly_income,
        "existing_monthly_payments": terms.existing_monthly_payments, "passport_number": terms.passport_number,
        "passport_last_four": terms.passport_number[-4:], "birth_date": terms.birth_date, "order_id": terms.order,
    }


def rate_text(rate: Decimal) -> str:
    """"12", "15.9": the rate without trailing zeros."""
    text = format(rate.quantize(RATE_PLACES), "f").rstrip("0").rstrip(".")
    return text or "0"


# A schedule's dates recur from one calculation to the next.
_day_text = functools.lru_cache(maxsize=4096)(datetime.date.isoformat)


def with_rows(rows, answer):
    """`answer` with the schedule's `rows` added in place (a row built apart would be copied in)."""
    add = answer.rows.add
    for row in rows:
        # The rows' amounts are kopecks already (loans' contract): str() writes them as they are.
        add(number=row.number, date=_day_text(row.date), payment=str(row.payment), interest=str(row.interest),
            principal=str(row.principal), balance=str(row.balance))
    return answer


def application_to_proto(row, changes, schedule: loans.Schedule) -> financing_pb2.Application:
    return financing_pb2.Application(
        name=f"applications/{row.id}", customer=row.customer, order=row.order_id,
        financing_type=FINANCING_TYPE[row.financing_type], vehicle_price=money.to_proto(row.vehicle_price),
        down_payment=money.to_proto(row.down_payment), term_months=row.term_months,
        schedule_type=SCHEDULE_TYPE[row.schedule_type], employment_status=EMPLOYMENT[row.employment_status],
        monthly_income=money.to_proto(row.monthly_income),
        existing_monthly_payments=money.to_proto(row.existing_monthly_payments),
        passport_last_four=f"****{row.passport_last_four}" if row.passport_last_four else "",
        birth_date=row.birth_date.isoformat() if row.birth_date else "",
        loan_amount=money.to_proto(row.vehicle_price - row.down_payment), annual_rate=rate_text(row.annual_rate),
        monthly_payment=money.to_proto(schedule.rows[0].payment), total_payment=money.to_proto(schedule.total_paid),
        status=STATUS[row.status], credit_score=row.credit_score or 0,
        debt_to_income_percent=str(row.debt_to_income) if row.debt_to_income is not None else "",
        decision_reasons=row.decision_reasons, decided_by=row.decided_by,
        decision_time=timestamp(row.decided_at) if row.decided_at else None, decision_note=row.decision_note,
        activation_date=row.activation_date.isoformat() if row.activation_date else "",
        status_log=[financing_pb2.StatusChange(
            from_status=STATUS.get(change.from_status, financing_pb2.APPLICATION_STATUS_UNSPECIFIED),
            to_status=STATUS[change.to_status], change_time=timestamp(change.changed_at), actor=change.actor,
            reason=change.reason) for change in changes],
        etag=str(row.version), audit=audit(row),
    )
