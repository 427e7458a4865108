"""insurance's rules for policies and claims (the pricing, refunds and claim limits themselves
are in tariffs.py): their status machines, a policy's period, and which refund rules apply.

    policy: draft → quoted → purchased → active → expired / cancelled / claimed
            (quoted and purchased may be cancelled too)
    claim:  submitted → under_review → approved / rejected; approved → paid
"""
import calendar
import datetime
from decimal import Decimal

from services.kit.errors import FailedPrecondition, InvalidArgument, prefixed

from . import tariffs

DRAFT, QUOTED, PURCHASED, ACTIVE, EXPIRED, CANCELLED, CLAIMED = (
    "draft", "quoted", "purchased", "active", "expired", "cancelled", "claimed")
POLICY_MOVES = {
    DRAFT: {QUOTED},
    QUOTED: {PURCHASED, CANCELLED},
    PURCHASED: {ACTIVE, CANCELLED},
    ACTIVE: {EXPIRED, CANCELLED, CLAIMED},
    EXPIRED: set(),
    CANCELLED: set(),
    CLAIMED: set(),
}
SUBMITTED, UNDER_REVIEW, APPROVED, REJECTED, PAID = "submitted", "under_review", "approved", "rejected", "paid"
CLAIM_MOVES = {
    SUBMITTED: {UNDER_REVIEW},
    UNDER_REVIEW: {APPROVED, REJECTED},
    APPROVED: {PAID},
    REJECTED: set(),
    PAID: set(),
}
# Who moved it, when no person did.
PAYMENT, INSURER, SCHEDULE = "payment", "insurer", "insurance"
REASON_MAX, DESCRIPTION_MAX = 500, 2000
# How far ahead a policy may start.
LONGEST_WAIT = datetime.timedelta(days=60)
# Why insurance refuses a request (google.rpc.ErrorInfo.reason; proto/autosalon/ERRORS.md lists them).
QUOTE_EXPIRED = "QUOTE_EXPIRED"
POLICY_WRONG_STATE = "POLICY_WRONG_STATE"
POLICY_NOT_ACTIVE = "POLICY_NOT_ACTIVE"
CLAIM_WRONG_STATE = "CLAIM_WRONG_STATE"
CLAIM_ABOVE_COVER = "CLAIM_ABOVE_COVER"

REFUND_RULES = {tariffs.OSAGO: tariffs.OSAGO_EARLY_TERMINATION, tariffs.KASKO: tariffs.KASKO_REFUSAL,
                tariffs.LIFE: tariffs.LOAN_COVER_REFUSAL, tariffs.HEALTH: tariffs.LOAN_COVER_REFUSAL}


def check_policy_move(current: str, wanted: str) -> None:
    if wanted not in POLICY_MOVES[current]:
        raise FailedPrecondition(f"the policy is {current}; it cannot become {wanted}", POLICY_WRONG_STATE,
                                 {"status": current})


def check_claim_move(current: str, wanted: str) -> None:
    if wanted not in CLAIM_MOVES[current]:
        raise FailedPrecondition(f"the claim is {current}; it cannot become {wanted}", CLAIM_WRONG_STATE,
                                 {"status": current})


def _months_on(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period(product: str, starts_on: datetime.date, today: datetime.date, loan_months: int = 0) -> tariffs.PolicyPeriod:
    """A policy's period: from `starts_on` (today at the earliest, 60 days ahead at the latest)
    for a year, or for the loan's months for life and health cover."""
    if not today <= starts_on <= today + LONGEST_WAIT:
        raise InvalidArgument({"policy.starts_on": f"must be from {today.isoformat()} to "
                                                   f"{(today + LONGEST_WAIT).isoformat()}"})
    months = loan_months if product in (tariffs.LIFE, tariffs.HEALTH) else 12
    return tariffs.PolicyPeriod(starts_on, _months_on(starts_on, months) - datetime.timedelta(days=1))


def cover(product: str, sum_insured: Decimal, deductible: Decimal) -> tariffs.Cover:
    """KASKO's, life's and health's cover is an aggregate each payout shrinks; OSAGO's is per
    victim and event."""
    return tariffs.Cover(sum_insured=sum_insured, deductible=deductible, aggregate=product != tariffs.OSAGO)


def check_incident(policy_period: tariffs.PolicyPeriod, incident: datetime.date, today: datetime.date) -> None:
    if incident > today:
        raise InvalidArgument({"claim.incident_date": "must not be in the future"})
    try:
        tariffs.check_incident_date(policy_period, incident)
    except InvalidArgument as error:
        raise InvalidArgument(prefixed(error.violations, "claim.")) from None


def approval(policy_cover: tariffs.Cover, claimed: Decimal, approved_before: Decimal, wanted: Decimal | None) -> Decimal:
    """What a claim is approved for: `wanted`, or the most the cover allows when None;
    FailedPrecondition naming the limit when `wanted` is above it."""
    most = tariffs.approved_amount(policy_cover, claimed, approved_before)
    if most <= 0:
        raise FailedPrecondition(f"at most 0.00 may be approved: a loss of {claimed} against the deductible "
                                 f"{policy_cover.deductible}, with {approved_before} of the cover "
                                 f"{policy_cover.sum_insured} approved before; reject the claim instead",
                                 CLAIM_ABOVE_COVER)
    if wanted is None:
        return most
    if wanted <= 0:
        raise InvalidArgument({"approved_amount.amount": "must be more than 0"})
    if wanted > most:
        raise FailedPrecondition(f"at most {most} may be approved: the cover {policy_cover.sum_insured} less the "
                                 f"deductible {policy_cover.deductible}, and less {approved_before} approved before, "
                                 f"for a loss of {claimed}", CLAIM_ABOVE_COVER, {"most": str(most)})
    return wanted


def used_up(policy_cover: tariffs.Cover, approved: Decimal) -> bool:
    return policy_cover.aggregate and approved >= policy_cover.sum_insured - policy_cover.deductible
