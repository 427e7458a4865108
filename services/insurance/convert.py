"""insurance's conversions between protobuf messages, the tariffs' requests and quotes, and rows."""
import datetime
from dataclasses import dataclass
from decimal import Decimal

from google.protobuf import json_format

from autosalon.insurance.v1 import insurance_pb2
from services.kit import money
from services.kit.errors import InvalidArgument, prefixed
from services.kit.protos import audit, date_from, timestamp

from . import tariffs

PRODUCT = {tariffs.OSAGO: insurance_pb2.PRODUCT_OSAGO, tariffs.KASKO: insurance_pb2.PRODUCT_KASKO,
           tariffs.LIFE: insurance_pb2.PRODUCT_LIFE, tariffs.HEALTH: insurance_pb2.PRODUCT_HEALTH}
PRODUCT_NAME = {value: key for key, value in PRODUCT.items()}
OWNER = {tariffs.INDIVIDUAL: insurance_pb2.OWNER_KIND_INDIVIDUAL,
         tariffs.LEGAL_ENTITY: insurance_pb2.OWNER_KIND_LEGAL_ENTITY}
OWNER_NAME = {value: key for key, value in OWNER.items()}
# Which terms each product is priced from.
TERMS = {tariffs.OSAGO: "osago", tariffs.KASKO: "kasko", tariffs.LIFE: "loan_cover", tariffs.HEALTH: "loan_cover"}


@dataclass(frozen=True)
class Priced:
    """A quote's outcome, whatever the product."""
    product: str
    premium: Decimal
    sum_insured: Decimal
    factors: dict[str, Decimal]
    tariff_version: str
    uncapped_premium: Decimal | None = None
    capped: bool = False
    # The terms as priced, defaults filled in (OSAGO's, KASKO's), to show back.
    priced_as: tariffs.OsagoRequest | tariffs.KaskoRequest | None = None


def _number(text: str, field: str) -> Decimal:
    if not money.AMOUNT_TEXT.fullmatch(text.strip()):
        raise InvalidArgument({field: f"must be a decimal number like 150, not {text[:40]!r}"})
    return Decimal(text.strip())


def _drivers(drivers) -> tuple[tariffs.Driver, ...]:
    return tuple(tariffs.Driver(driver.age, driver.experience_years, driver.kbm_class or tariffs.NO_HISTORY_KBM_CLASS)
                 for driver in drivers)


def osago_request(terms: insurance_pb2.OsagoTerms, insurer_base_rate: Decimal, problems: list,
                  versions=tariffs.OSAGO_TARIFFS) -> tariffs.OsagoRequest:
    """The tariffs' request for `terms`; an empty base rate is the insurer's (0: the top of the
    corridor of the version in force on the conclusion date). What cannot be read is added to
    `problems` and stands in as a neutral value, so the tariffs judge the rest too."""
    owner = OWNER_NAME.get(terms.owner or insurance_pb2.OWNER_KIND_INDIVIDUAL)
    if owner is None:
        problems.append(("quote.osago.owner", "must be individual or legal_entity"))
        owner = tariffs.INDIVIDUAL
    values = {}
    for name, read, neutral in (
            ("power_hp", lambda: _number(terms.power_hp, "power_hp"), Decimal(100)),
            ("conclusion_date", lambda: date_from(terms.conclusion_date, "conclusion_date") or datetime.date.today(),
             datetime.date.today()),
            ("base_rate", lambda: _number(terms.base_rate, "base_rate") if terms.base_rate else None, None)):
        try:
            values[name] = read()
        except InvalidArgument as error:
            problems.extend(prefixed(error.violations, "quote.osago."))
            values[name] = neutral
    base_rate = values["base_rate"]
    if base_rate is None:
        base_rate = insurer_base_rate or _corridor_top(versions, values["conclusion_date"], terms.vehicle_category,
                                                       owner)
    return tariffs.OsagoRequest(
        conclusion_date=values["conclusion_date"], vehicle_category=terms.vehicle_category,
        territory=terms.territory, base_rate=base_rate, power_hp=values["power_hp"],
        drivers=_drivers(terms.drivers), unlimited_drivers=terms.unlimited_drivers, owner=owner,
        owner_kbm_class=terms.owner_kbm_class or tariffs.NO_HISTORY_KBM_CLASS,
        months_of_use=terms.months_of_use or 12, gross_breach=terms.gross_breach, with_trailer=terms.with_trailer)


def _corridor_top(versions, day: datetime.date, category: str, owner: str) -> Decimal:
    """The highest base rate of the version in force on `day`; 0 where there is none (the
    tariffs then say what is missing)."""
    try:
        corridor = tariffs.tariff_in_force(versions, day).base_rates.get((category, owner))
    except InvalidArgument:
        return Decimal(0)
    return corridor[1] if corridor else Decimal(0)


def kasko_request(terms: insurance_pb2.KaskoTerms, problems: list) -> tariffs.KaskoRequest:
    """The tariffs' request for `terms`; as osago_request, what cannot be read goes to `problems`."""
    values = {}
    for name, read, neutral in (
            ("vehicle_value", lambda: money.from_proto(terms.vehicle_value, "vehicle_value"), Decimal(1000000)),
            ("deductible", lambda: money.from_proto(terms.deductible, "deductible")
             if terms.deductible.amount else Decimal(0), Decimal(0))):
        try:
            values[name] = read()
        except InvalidArgument as error:
            problems.extend(prefixed(error.violations, "quote.kasko."))
            values[name] = neutral
    return tariffs.KaskoRequest(
        vehicle_value=values["vehicle_value"], vehicle_age_years=terms.vehicle_age_years,
        anti_theft=terms.anti_theft, region=terms.region, drivers=_drivers(terms.drivers),
        unlimited_drivers=terms.unlimited_drivers, make_group=terms.make_group or tariffs.MASS_MARKET,
        deductible=values["deductible"], claims_last_year=terms.claims_last_year)


def priced(quote: insurance_pb2.Quote, insurer_base_rate: Decimal, cover_rates: tariffs.LoanCoverRates,
           latest_osago_version: str = "") -> Priced:
    """The premium of the quote's product and terms, with every factor it used (OSAGO's tariff
    versions up to `latest_osago_version`, all when empty); every problem with the terms named
    at once."""
    product = PRODUCT_NAME.get(quote.product)
    if product is None:
        raise InvalidArgument({"quote.product": "must be osago, kasko, life or health"})
    wanted = TERMS[product]
    if quote.WhichOneof("terms") != wanted:
        raise InvalidArgument({f"quote.{wanted}": f"is required for {product}, and no other terms"})
    problems: list[tuple[str, str]] = []
    outcome = None
    try:
        if product == tariffs.OSAGO:
            versions = tariffs.versions_up_to(latest_osago_version)
            request = osago_request(quote.osago, insurer_base_rate, problems, versions)
            osago = tariffs.quote_osago(request, versions)
            outcome = Priced(product, osago.premium, tariffs.OSAGO_SUMS_INSURED["property"], osago.factors,
                             osago.tariff_version, osago.unrounded, osago.capped, request)
        elif product == tariffs.KASKO:
            request = kasko_request(quote.kasko, problems)
            kasko = tariffs.quote_kasko(request)
            outcome = Priced(product, kasko.premium, kasko.sum_insured, kasko.factors, kasko.tariff, priced_as=request)
        else:
            try:
                amount = money.from_proto(quote.loan_cover.loan_amount, "loan_amount")
            except InvalidArgument as error:
                problems.extend(prefixed(error.violations, "quote.loan_cover."))
                amount = Decimal(1000000)
            cover = tariffs.quote_loan_cover(product, amount, quote.loan_cover.term_months, cover_rates)
            outcome = Priced(product, cover.premium, cover.sum_insured, {"annual_rate": cover.annual_rate},
                             f"{product}-cover-demo")
    except InvalidArgument as error:
        # The tariffs name the terms' own fields; the caller sent them under quote.<terms>.
        problems.extend(prefixed(error.violations, f"quote.{wanted}."))
    if problems:
        raise InvalidArgument(list(dict.fromkeys(problems)))
    return outcome


def quote_to_proto(request: insurance_pb2.Quote, outcome: Priced, name: str, customer: str,
                   valid_until: datetime.date, created: datetime.datetime | None) -> insurance_pb2.Quote:
    quote = insurance_pb2.Quote()
    quote.CopyFrom(request)
    quote.name, quote.customer = name, customer
    quote.premium.CopyFrom(money.to_proto(outcome.premium))
    quote.sum_insured.CopyFrom(money.to_proto(outcome.sum_insured))
    quote.factors.extend(insurance_pb2.Factor(name=factor, value=format(value, "f"))
                         for factor, value in outcome.factors.items())
    quote.tariff_version = outcome.tariff_version
    _show_priced_terms(quote, outcome.priced_as)
    if outcome.uncapped_premium is not None:
        quote.uncapped_premium = format(outcome.uncapped_premium.normalize(), "f")
    quote.capped = outcome.capped
    quote.valid_until = valid_until.isoformat()
    if created is not None:
        quote.create_time.CopyFrom(timestamp(created))
    return quote


def _show_priced_terms(quote: insurance_pb2.Quote, request) -> None:
    """The defaults a quote was priced with, in place of the fields the caller left empty."""
    if isinstance(request, tariffs.OsagoRequest):
        terms = quote.osago
        terms.owner = OWNER[request.owner]
        terms.base_rate = format(request.base_rate, "f")
        terms.conclusion_date = request.conclusion_date.isoformat()
        terms.months_of_use = request.months_of_use
        if request.unlimited_drivers:
            terms.owner_kbm_class = request.owner_kbm_class
        for driver in terms.drivers:
            driver.kbm_class = driver.kbm_class or tariffs.NO_HISTORY_KBM_CLASS
    elif isinstance(request, tariffs.KaskoRequest):
        quote.kasko.make_group = request.make_group
        quote.kasko.vehicle_value.CopyFrom(money.to_proto(request.vehicle_value))
        quote.kasko.deductible.CopyFrom(money.to_proto(request.deductible))
    else:
        quote.loan_cover.loan_amount.CopyFrom(money.to_proto(money.from_proto(quote.loan_cover.loan_amount, "")))


def quote_from_row(row) -> insurance_pb2.Quote:
    return json_format.ParseDict(row.quote, insurance_pb2.Quote())


def quote_json(quote: insurance_pb2.Quote) -> dict:
    return json_format.MessageToDict(quote, preserving_proto_field_name=True)


def tariff_versions_to_proto() -> list[insurance_pb2.TariffVersion]:
    return [insurance_pb2.TariffVersion(
        id=version.id, effective_from=version.effective_from.isoformat(),
        base_rates=[insurance_pb2.BaseRateCorridor(vehicle_category=category, owner=OWNER[owner],
                                                   lowest=format(lowest, "f"), highest=format(highest, "f"))
                    for (category, owner), (lowest, highest) in version.base_rates.items()],
        territories=[insurance_pb2.Factor(name=territory, value=format(factor, "f"))
                     for territory, factor in version.territory.items()],
    ) for version in tariffs.OSAGO_TARIFFS]


POLICY_STATUS = {name: getattr(insurance_pb2, f"POLICY_STATUS_{name.upper()}")
                 for name in ("draft", "quoted", "purchased", "active", "expired", "cancelled", "claimed")}
POLICY_STATUS_NAME = {value: key for key, value in POLICY_STATUS.items()}
CLAIM_STATUS = {name: getattr(insurance_pb2, f"CLAIM_STATUS_{name.upper()}")
                for name in ("submitted", "under_review", "approved", "rejected", "paid")}


def _log(changes) -> list[insurance_pb2.StatusChange]:
    return [insurance_pb2.StatusChange(from_status=change.from_status, to_status=change.to_status,
                                       change_time=timestamp(change.changed_at), actor=change.actor,
                                       reason=change.reason) for change in changes]


def policy_to_proto(row, changes) -> insurance_pb2.Policy:
    return insurance_pb2.Policy(
        name=f"policies/{row.id}", quote=f"quotes/{row.quote_id}", starts_on=row.starts_on.isoformat(),
        ends_on=row.ends_on.isoformat(), customer=row.customer, product=PRODUCT[row.product],
        premium=money.to_proto(row.premium), sum_insured=money.to_proto(row.sum_insured),
        deductible=money.to_proto(row.deductible), status=POLICY_STATUS[row.status],
        policy_number=row.policy_number, payment=row.payment,
        purchased_on=row.purchased_on.isoformat() if row.purchased_on else "",
        refund=money.to_proto(row.refund) if row.refund is not None else None, cancel_reason=row.cancel_reason,
        approved_claims=money.to_proto(row.approved_claims), status_log=_log(changes), audit=audit(row))


def claim_to_proto(row, changes) -> insurance_pb2.Claim:
    return insurance_pb2.Claim(
        name=f"policies/{row.policy_id}/claims/{row.id}", claim_number=row.claim_number,
        incident_date=row.incident_date.isoformat(), description=row.description,
        claimed_amount=money.to_proto(row.claimed_amount),
        approved_amount=money.to_proto(row.approved_amount) if row.approved_amount is not None else None,
        status=CLAIM_STATUS[row.status], decision_note=row.decision_note, status_log=_log(changes), audit=audit(row))
