"""insurance end to end: OSAGO, KASKO and loan cover quotes priced for anyone through the edge,
the tariff version in force on the conclusion date, saved quotes and who sees them, and every
refusal naming its fields."""
import datetime
import uuid
from decimal import Decimal

import grpc
import pytest

from autosalon.common.v1 import common_pb2
from autosalon.insurance.v1 import insurance_pb2, insurance_pb2_grpc

from .conftest import STRONG_PASSWORD, bearer, listed, login, register
from .test_auth_rest import offending_fields, violations

FACTOR_ORDER = ["TB", "KT", "KBM", "KVS", "KO", "KM", "KS", "KN", "KPr"]
OSAGO_PROPERTY_LIMIT = "400000.00"
QUOTE_VALIDITY_DAYS = 30
OLD_TARIFF, NEW_TARIFF = "osago-2022-09-13", "osago-2025-12-09"

# The reference's worked example E1 (O1): Moscow, one driver of 45 with 20 years in class 10, 150 hp.
E1_TERMS = {"vehicle_category": "B", "territory": "moscow", "power_hp": "150",
            "drivers": [{"age": 45, "experience_years": 20, "kbm_class": "10"}], "conclusion_date": "2024-06-01"}
E1 = {"product": "PRODUCT_OSAGO", "osago": E1_TERMS}
# K1: a new 3,000,000 car in Moscow with a GPS tracker, a 30,000 deductible, one experienced driver.
K1_TERMS = {"vehicle_value": {"amount": "3000000"}, "vehicle_age_years": 0, "anti_theft": "gps_tracker",
            "region": "moscow", "drivers": [{"age": 40, "experience_years": 20}], "deductible": {"amount": "30000"}}
K1 = {"product": "PRODUCT_KASKO", "kasko": K1_TERMS}
LOAN = {"loan_amount": {"amount": "1600000"}, "term_months": 36}
LIFE = {"product": "PRODUCT_LIFE", "loan_cover": LOAN}
HEALTH = {"product": "PRODUCT_HEALTH", "loan_cover": LOAN}


def _osago(**changes) -> dict:
    """E1's quote with some of its OSAGO terms changed (a None value drops the term)."""
    terms = {key: value for key, value in {**E1_TERMS, **changes}.items() if value is not None}
    return {"product": "PRODUCT_OSAGO", "osago": terms}


def _kasko(**changes) -> dict:
    return {"product": "PRODUCT_KASKO", "kasko": {**K1_TERMS, **changes}}


def _factors(quote: dict) -> list[tuple[str, Decimal]]:
    return [(factor["name"], Decimal(factor["value"])) for factor in quote["factors"]]


def _osago_factors(tb, kt, kbm, kvs, ko, km, ks, kn, kpr="1") -> list[tuple[str, Decimal]]:
    return list(zip(FACTOR_ORDER, map(Decimal, (tb, kt, kbm, kvs, ko, km, ks, kn, kpr))))


def _priced(edge, body: dict, headers: dict | None = None) -> dict:
    response = edge.post("/insurance/quotes", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _refused(edge, body: dict, headers: dict | None = None) -> set[str]:
    """The fields a 400 for `body` names."""
    response = edge.post("/insurance/quotes", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 3, response.text
    return offending_fields(response)


def _another_client(edge) -> dict:
    user = register(edge)
    return {"user": user, **login(edge, user["email"], STRONG_PASSWORD)}


def _get(edge, session: dict, quote: dict) -> dict:
    response = edge.get(f"/insurance/{quote['name']}", headers=bearer(session))
    assert response.status_code == 200, response.text
    return response.json()


def _names(quotes: list[dict]) -> list[str]:
    return [quote["name"] for quote in quotes]


# Prices for anyone: the reference's vectors through REST.

def test_osago_e1_prices_anonymously_with_every_factor_in_order(edge):
    quote = _priced(edge, E1)
    assert quote["name"] == "" and quote["customer"] == ""
    assert "create_time" not in quote  # not saved
    assert quote["premium"] == {"currency_code": "RUB", "amount": "10885.94"}
    assert quote["sum_insured"]["amount"] == OSAGO_PROPERTY_LIMIT
    assert quote["tariff_version"] == OLD_TARIFF
    assert [factor["name"] for factor in quote["factors"]] == FACTOR_ORDER
    assert _factors(quote) == _osago_factors(7535, "1.80", "0.63", "0.91", "1.00", "1.4", "1.0", 1)
    assert (Decimal(quote["uncapped_premium"]), quote["capped"]) == (Decimal("10885.93506"), False)
    # The defaults it was priced with are shown: the corridor's top, an individual, a whole year.
    terms = quote["osago"]
    assert (terms["base_rate"], terms["owner"], terms["months_of_use"]) == ("7535", "OWNER_KIND_INDIVIDUAL", 12)
    assert (terms["territory"], terms["power_hp"], terms["conclusion_date"]) == ("moscow", "150", "2024-06-01")


def test_an_anonymous_price_holds_for_thirty_days(edge):
    before = datetime.date.today()
    quote = _priced(edge, E1)
    after = datetime.date.today()
    valid_until = datetime.date.fromisoformat(quote["valid_until"])
    assert before + datetime.timedelta(days=QUOTE_VALIDITY_DAYS) <= valid_until
    assert valid_until <= after + datetime.timedelta(days=QUOTE_VALIDITY_DAYS)


def test_osago_e2_a_new_driver_in_saint_petersburg_is_capped(edge):
    quote = _priced(edge, _osago(territory="saint_petersburg", base_rate="8665", power_hp="110",
                                 drivers=[{"age": 20, "experience_years": 0, "kbm_class": "3"}],
                                 conclusion_date="2026-02-01"))
    assert quote["name"] == ""
    assert quote["premium"]["amount"] == "42631.80"
    assert quote["tariff_version"] == NEW_TARIFF
    assert _factors(quote) == _osago_factors(8665, "1.64", "1.17", "2.27", 1, "1.2", 1, 1)
    assert (Decimal(quote["uncapped_premium"]), quote["capped"]) == (Decimal("45290.319048"), True)


def test_osago_e3_unlimited_seasonal_with_a_gross_breach_has_no_kvs(edge):
    quote = _priced(edge, _osago(territory="tomsk", base_rate="6000", power_hp="90", drivers=None,
                                 unlimited_drivers=True, owner_kbm_class="6", months_of_use=6, gross_breach=True))
    assert quote["name"] == ""
    assert quote["premium"]["amount"] == "19749.72"
    assert quote["tariff_version"] == OLD_TARIFF
    assert _factors(quote) == _osago_factors(6000, "1.48", "0.83", 1, "2.32", "1.1", "0.7", "1.5")
    assert (Decimal(quote["uncapped_premium"]), quote["capped"]) == (Decimal("19749.72384"), False)
    assert (quote["osago"]["owner_kbm_class"], quote["osago"]["months_of_use"]) == ("6", 6)


@pytest.mark.parametrize("changes, version, factors, premium, uncapped, capped", [
    # O5: class M, 37 years old with 4 years, 200 hp: capped at 3 × 5000 × 1.8.
    (dict(base_rate="5000", power_hp="200", drivers=[{"age": 37, "experience_years": 4, "kbm_class": "M"}]),
     OLD_TARIFF, (5000, "1.8", "3.92", "1.00", 1, "1.6", 1, 1), "27000.00", "56448", True),
    # O6: Novosibirsk from 09.12.2025, class 4, 45 with 3 years, 100 hp.
    (dict(conclusion_date="2026-02-01", territory="novosibirsk", base_rate="8665", power_hp="100",
          drivers=[{"age": 45, "experience_years": 3, "kbm_class": "4"}]),
     NEW_TARIFF, (8665, "3.12", "1.00", "0.96", 1, "1.1", 1, 1), "28548.75", "28548.7488", False),
    # O7: class 0, 23 with no experience, 151 hp, a gross breach: capped at 5 × 8665 × 1.8.
    (dict(conclusion_date="2026-02-01", base_rate="8665", power_hp="151", gross_breach=True,
          drivers=[{"age": 23, "experience_years": 0, "kbm_class": "0"}]),
     NEW_TARIFF, (8665, "1.8", "2.94", "1.88", 1, "1.6", 1, "1.5"), "77985.00", "206898.57216", True),
], ids=["O5-capped", "O6-novosibirsk-2026", "O7-five-times-cap"])
def test_osago_vectors_o5_to_o7_through_rest(edge, changes, version, factors, premium, uncapped, capped):
    quote = _priced(edge, _osago(**changes))
    assert quote["premium"]["amount"] == premium
    assert quote["tariff_version"] == version
    assert _factors(quote) == _osago_factors(*factors)
    assert (Decimal(quote["uncapped_premium"]), quote["capped"]) == (Decimal(uncapped), capped)


def test_kasko_k1_prices_anonymously_with_its_factors(edge):
    quote = _priced(edge, K1)
    assert quote["name"] == "" and quote["customer"] == ""
    assert quote["premium"] == {"currency_code": "RUB", "amount": "113578.20"}
    assert quote["sum_insured"]["amount"] == "3000000.00"
    assert quote["tariff_version"] == "kasko-illustrative-2026"
    assert _factors(quote) == [("BaseRate", Decimal("0.045")), ("K_driver", Decimal("1.00")),
                               ("K_deductible", Decimal("0.82")), ("K_antitheft", Decimal("0.90")),
                               ("K_region", Decimal("1.20")), ("K_claims", Decimal("0.95"))]
    assert quote["capped"] is False
    assert quote["kasko"]["make_group"] == "mass_market"  # the default, shown


def test_kasko_k2_an_older_car_a_young_driver_and_a_claim(edge):
    quote = _priced(edge, {"product": "PRODUCT_KASKO", "kasko": {
        "vehicle_value": {"amount": "1800000"}, "vehicle_age_years": 3, "anti_theft": "alarm", "region": "other",
        "drivers": [{"age": 22, "experience_years": 2}], "claims_last_year": 1}})
    assert quote["premium"]["amount"] == "152460.00"
    assert quote["sum_insured"]["amount"] == "1800000.00"
    assert dict(_factors(quote)) == {"BaseRate": Decimal("0.055"), "K_driver": Decimal("1.40"),
                                     "K_deductible": Decimal("1.00"), "K_antitheft": Decimal("1.00"),
                                     "K_region": Decimal("1.00"), "K_claims": Decimal("1.10")}
    assert quote["kasko"]["deductible"]["amount"] == "0.00"  # none sent: 0, shown


@pytest.mark.parametrize("body, premium, rate", [
    (LIFE, "48000.00", "0.010"),
    (HEALTH, "24000.00", "0.005"),
], ids=["life-1-percent", "health-half-percent"])
def test_loan_cover_is_the_loan_times_the_annual_rate_over_the_term(edge, body, premium, rate):
    quote = _priced(edge, body)
    assert quote["name"] == ""
    assert quote["premium"]["amount"] == premium
    assert quote["sum_insured"]["amount"] == "1600000.00"
    assert _factors(quote) == [("annual_rate", Decimal(rate))]
    assert quote["loan_cover"] == {"loan_amount": {"currency_code": "RUB", "amount": "1600000.00"},
                                   "term_months": 36}


async def test_an_osago_quote_over_native_grpc_needs_no_token(edge_channel):
    stub = insurance_pb2_grpc.InsuranceServiceStub(edge_channel)
    terms = insurance_pb2.OsagoTerms(
        vehicle_category="B", territory="moscow", power_hp="150", conclusion_date="2024-06-01",
        drivers=[insurance_pb2.Driver(age=45, experience_years=20, kbm_class="10")])
    quote = await stub.CreateQuote(insurance_pb2.CreateQuoteRequest(
        quote=insurance_pb2.Quote(product=insurance_pb2.PRODUCT_OSAGO, osago=terms)))
    assert (quote.name, quote.customer) == ("", "")
    assert quote.premium.amount == "10885.94"
    assert quote.tariff_version == OLD_TARIFF
    assert [(factor.name, Decimal(factor.value)) for factor in quote.factors] == _osago_factors(
        7535, "1.80", "0.63", "0.91", "1.00", "1.4", "1.0", 1)
    assert not quote.capped and quote.osago.base_rate == "7535"
    assert quote.osago.owner == insurance_pb2.OWNER_KIND_INDIVIDUAL and quote.osago.months_of_use == 12
    life = await stub.CreateQuote(insurance_pb2.CreateQuoteRequest(quote=insurance_pb2.Quote(
        product=insurance_pb2.PRODUCT_LIFE,
        loan_cover=insurance_pb2.LoanCoverTerms(loan_amount=common_pb2.Money(amount="1600000"), term_months=36))))
    assert life.premium.amount == "48000.00"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateQuote(insurance_pb2.CreateQuoteRequest(quote=insurance_pb2.Quote(
            product=insurance_pb2.PRODUCT_OSAGO, osago=insurance_pb2.OsagoTerms(territory="mars"))))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    versions = await stub.ListTariffVersions(insurance_pb2.ListTariffVersionsRequest())
    assert [version.id for version in versions.versions] == [OLD_TARIFF, NEW_TARIFF]


async def test_saved_quotes_over_native_grpc_need_a_token(edge_channel, client_session):
    stub = insurance_pb2_grpc.InsuranceServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as anonymous_list:
        await stub.ListQuotes(insurance_pb2.ListQuotesRequest())
    assert anonymous_list.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as anonymous_get:
        await stub.GetQuote(insurance_pb2.GetQuoteRequest(name=f"quotes/{uuid.uuid4()}"))
    assert anonymous_get.value.code() == grpc.StatusCode.UNAUTHENTICATED
    signed = (("authorization", f"Bearer {client_session['access_token']}"),)
    saved = await stub.CreateQuote(insurance_pb2.CreateQuoteRequest(quote=insurance_pb2.Quote(
        product=insurance_pb2.PRODUCT_HEALTH,
        loan_cover=insurance_pb2.LoanCoverTerms(loan_amount=common_pb2.Money(amount="1600000"), term_months=36))),
        metadata=signed)
    assert saved.name.startswith("quotes/") and saved.customer == client_session["user"]["name"]
    assert saved.premium.amount == "24000.00"
    found = await stub.GetQuote(insurance_pb2.GetQuoteRequest(name=saved.name), metadata=signed)
    assert found == saved
    page = await stub.ListQuotes(insurance_pb2.ListQuotesRequest(), metadata=signed)
    assert [quote.name for quote in page.quotes] == [saved.name]


# The tariff version in force on the conclusion date.

NOVOSIBIRSK = dict(territory="novosibirsk", base_rate=None)


def test_osago_the_day_before_a_new_tariff_uses_the_old_table(edge):
    quote = _priced(edge, _osago(conclusion_date="2025-12-08", **NOVOSIBIRSK))
    assert quote["tariff_version"] == OLD_TARIFF
    factors = dict(_factors(quote))
    assert (factors["TB"], factors["KT"]) == (Decimal("7535"), Decimal("1.63"))  # the old corridor's top, old KT
    assert quote["osago"]["base_rate"] == "7535"
    assert quote["premium"]["amount"] == "9857.82"  # 7535 × 1.63 × 0.63 × 0.91 × 1.4


def test_osago_on_a_new_tariffs_first_day_uses_the_new_table(edge):
    quote = _priced(edge, _osago(conclusion_date="2025-12-09", **NOVOSIBIRSK))
    assert quote["tariff_version"] == NEW_TARIFF
    factors = dict(_factors(quote))
    assert (factors["TB"], factors["KT"]) == (Decimal("8665"), Decimal("3.12"))  # the new corridor's top, new KT
    assert quote["osago"]["base_rate"] == "8665"
    assert quote["premium"]["amount"] == "21698.67"  # 8665 × 3.12 × 0.63 × 0.91 × 1.4


def test_each_tariff_version_has_its_own_corridor_and_territories(edge):
    # 8665 is above the old corridor's top and within the new one.
    assert _refused(edge, _osago(conclusion_date="2025-12-08", base_rate="8665")) == {"quote.osago.base_rate"}
    within = _priced(edge, _osago(conclusion_date="2025-12-09", base_rate="8665"))
    assert dict(_factors(within))["TB"] == Decimal("8665")
    # 1500 is below the old corridor's bottom (1646) and within the new one (1399–8665).
    assert _refused(edge, _osago(conclusion_date="2025-12-08", base_rate="1500")) == {"quote.osago.base_rate"}
    assert dict(_factors(_priced(edge, _osago(conclusion_date="2025-12-09", base_rate="1500"))))["TB"] == Decimal(
        "1500")
    # Tomsk is priced by the old version only.
    tomsk = _priced(edge, _osago(conclusion_date="2025-12-08", territory="tomsk"))
    assert (tomsk["tariff_version"], dict(_factors(tomsk))["KT"]) == (OLD_TARIFF, Decimal("1.48"))
    assert _refused(edge, _osago(conclusion_date="2025-12-09", territory="tomsk")) == {"quote.osago.territory"}


def test_an_osago_date_before_the_first_tariff_is_400_naming_the_conclusion_date(edge):
    assert _refused(edge, _osago(conclusion_date="2022-09-12")) == {"quote.osago.conclusion_date"}
    first_day = _priced(edge, _osago(conclusion_date="2022-09-13"))
    assert (first_day["tariff_version"], first_day["premium"]["amount"]) == (OLD_TARIFF, "10885.94")


def test_an_osago_quote_without_a_date_is_priced_with_the_tariff_in_force_today(edge):
    before = datetime.date.today().isoformat()
    quote = _priced(edge, _osago(conclusion_date=None, base_rate="5000"))
    after = datetime.date.today().isoformat()
    day = quote["osago"]["conclusion_date"]
    assert before <= day <= after  # today, shown
    versions = edge.get("/insurance/tariff-versions").json()["versions"]
    in_force = [version["id"] for version in versions if version["effective_from"] <= day][-1]
    assert quote["tariff_version"] == in_force


def test_tariff_versions_are_listed_oldest_first_with_corridors_and_territories(edge):
    response = edge.get("/insurance/tariff-versions")
    assert response.status_code == 200, response.text
    versions = response.json()["versions"]
    assert [(version["id"], version["effective_from"]) for version in versions] == [
        (OLD_TARIFF, "2022-09-13"), (NEW_TARIFF, "2025-12-09")]
    old, new = ({(corridor["vehicle_category"], corridor["owner"]): (Decimal(corridor["lowest"]),
                                                                    Decimal(corridor["highest"]))
                 for corridor in version["base_rates"]} for version in versions)
    assert old == {
        ("B", "OWNER_KIND_INDIVIDUAL"): (Decimal("1646"), Decimal("7535")),
        ("B", "OWNER_KIND_LEGAL_ENTITY"): (Decimal("852"), Decimal("5722")),
        ("B_TAXI", "OWNER_KIND_INDIVIDUAL"): (Decimal("1490"), Decimal("15756")),
        ("B_TAXI", "OWNER_KIND_LEGAL_ENTITY"): (Decimal("1490"), Decimal("15756")),
    }
    assert new == {
        ("B", "OWNER_KIND_INDIVIDUAL"): (Decimal("1399"), Decimal("8665")),
        ("B_TAXI", "OWNER_KIND_INDIVIDUAL"): (Decimal("1267"), Decimal("18119")),
        ("B_TAXI", "OWNER_KIND_LEGAL_ENTITY"): (Decimal("1267"), Decimal("18119")),
    }
    old_kt, new_kt = ({factor["name"]: Decimal(factor["value"]) for factor in version["territories"]}
                      for version in versions)
    assert old_kt == {"moscow": Decimal("1.80"), "saint_petersburg": Decimal("1.64"), "tomsk": Decimal("1.48"),
                      "moscow_oblast": Decimal("1.56"), "novosibirsk": Decimal("1.63"),
                      "chelyabinsk": Decimal("1.88"), "murmansk": Decimal("1.88")}
    assert new_kt == {"moscow": Decimal("1.80"), "saint_petersburg": Decimal("1.64"),
                      "novosibirsk": Decimal("3.12"), "chelyabinsk": Decimal("1.77"), "murmansk": Decimal("1.77")}


# Saved quotes: who saves, sees and lists them.

def test_a_signed_in_clients_quote_is_saved_and_reads_back_identically(edge, client_session):
    anonymous = _priced(edge, E1)
    before = datetime.date.today()
    quote = _priced(edge, E1, bearer(client_session))
    after = datetime.date.today()
    assert quote["name"].startswith("quotes/")
    uuid.UUID(quote["name"].removeprefix("quotes/"))
    assert quote["customer"] == client_session["user"]["name"]
    assert quote["create_time"]
    datetime.datetime.fromisoformat(quote["create_time"].replace("Z", "+00:00"))
    valid_until = datetime.date.fromisoformat(quote["valid_until"])
    days = datetime.timedelta(days=QUOTE_VALIDITY_DAYS)
    assert before + days <= valid_until <= after + days
    # The price is the anonymous one: saving changes nothing of it.
    for field in ("premium", "sum_insured", "factors", "tariff_version", "uncapped_premium", "capped", "osago"):
        assert quote[field] == anonymous[field], field
    assert _get(edge, client_session, quote) == quote


def test_another_clients_quote_is_not_found(edge, client_session, manager_session):
    quote = _priced(edge, K1, bearer(client_session))
    stranger = _another_client(edge)
    hidden = edge.get(f"/insurance/{quote['name']}", headers=bearer(stranger))
    assert hidden.status_code == 404, hidden.text
    assert hidden.json()["code"] == 5
    ghost = edge.get(f"/insurance/quotes/{uuid.uuid4()}", headers=bearer(client_session))
    assert ghost.status_code == 404, ghost.text
    assert _get(edge, manager_session, quote) == quote  # staff see every quote
    malformed = edge.get("/insurance/quotes/not-a-uuid", headers=bearer(client_session))
    assert malformed.status_code == 400 and "name" in violations(malformed), malformed.text


def test_an_anonymous_caller_cannot_read_or_list_quotes(edge, client_session):
    quote = _priced(edge, LIFE, bearer(client_session))
    for response in (edge.get(f"/insurance/{quote['name']}"), edge.get("/insurance/quotes")):
        assert response.status_code == 401, response.text
        assert response.json()["code"] == 16


def test_an_anonymous_caller_cannot_name_a_customer(edge, client_session):
    assert _refused(edge, {**LIFE, "customer": client_session["user"]["name"]}) == {"quote.customer"}
    assert listed(edge, "/insurance/quotes", "quotes", bearer(client_session)) == []


def test_a_clients_list_shows_their_own_and_a_managers_shows_all(edge, client_session, manager_session):
    mine = _priced(edge, E1, bearer(client_session))
    other_session = _another_client(edge)
    theirs = _priced(edge, K1, bearer(other_session))
    assert _names(listed(edge, "/insurance/quotes", "quotes", bearer(client_session))) == [mine["name"]]
    assert _names(listed(edge, "/insurance/quotes", "quotes", bearer(other_session))) == [theirs["name"]]
    everyone = listed(edge, "/insurance/quotes?page_size=100", "quotes", bearer(manager_session))
    assert {mine["name"], theirs["name"]} <= set(_names(everyone))
    assert [quote for quote in everyone if quote["name"] == mine["name"]] == [mine]


def test_the_list_filters_by_product_newest_first(edge, client_session):
    headers = bearer(client_session)
    osago = _priced(edge, E1, headers)
    kasko = _priced(edge, K1, headers)
    life = _priced(edge, LIFE, headers)
    assert _names(listed(edge, "/insurance/quotes", "quotes", headers)) == [
        life["name"], kasko["name"], osago["name"]]
    assert _names(listed(edge, "/insurance/quotes?product=PRODUCT_KASKO", "quotes", headers)) == [kasko["name"]]
    assert _names(listed(edge, "/insurance/quotes?product=PRODUCT_OSAGO", "quotes", headers)) == [osago["name"]]
    assert listed(edge, "/insurance/quotes?product=PRODUCT_HEALTH", "quotes", headers) == []
    unknown = edge.get("/insurance/quotes", headers=headers, params={"product": 9})
    assert unknown.status_code == 400 and offending_fields(unknown) == {"product"}, unknown.text


def test_the_list_pages_with_page_size_one(edge, client_session):
    headers = bearer(client_session)
    created = [_priced(edge, body, headers)["name"] for body in (E1, K1, LIFE)]
    seen, token = [], ""
    for _ in range(4):
        response = edge.get("/insurance/quotes", headers=headers,
                            params={"page_size": 1, **({"page_token": token} if token else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["quotes"]) == 1
        seen.append(page["quotes"][0]["name"])
        token = page["next_page_token"]
        if not token:
            break
    assert seen == created[::-1]
    assert token == ""
    # A token belongs to its query.
    first = edge.get("/insurance/quotes", headers=headers, params={"page_size": 1}).json()
    other_query = edge.get("/insurance/quotes", headers=headers,
                           params={"page_size": 1, "product": "PRODUCT_KASKO", "page_token": first["next_page_token"]})
    assert other_query.status_code == 400 and "page_token" in violations(other_query), other_query.text


@pytest.mark.parametrize("params, field", [
    ({"page_token": "garbage"}, "page_token"),
    ({"page_size": -1}, "page_size"),
], ids=["garbage-token", "negative-size"])
def test_bad_quote_pages_are_400_with_the_field(edge, client_session, params, field):
    response = edge.get("/insurance/quotes", headers=bearer(client_session), params=params)
    assert response.status_code == 400, response.text
    assert field in violations(response)


def test_the_list_defaults_to_fifty_a_page(edge, client_session):
    """The proto: ListQuotesRequest.page_size is "50 when unset, at most 500"."""
    headers = bearer(client_session)
    for _ in range(51):
        _priced(edge, LIFE, headers)
    response = edge.get("/insurance/quotes", headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert len(page["quotes"]) == 50, len(page["quotes"])
    assert page["next_page_token"]
    rest = edge.get("/insurance/quotes", headers=headers, params={"page_token": page["next_page_token"]})
    assert rest.status_code == 200 and len(rest.json()["quotes"]) == 1
    whole = edge.get("/insurance/quotes", headers=headers, params={"page_size": 600})
    assert whole.status_code == 200 and len(whole.json()["quotes"]) == 51


def test_a_client_saves_quotes_for_themselves_only(edge, client_session):
    other = register(edge)
    response = edge.post("/insurance/quotes", headers=bearer(client_session),
                         json={**E1, "customer": other["name"]})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == 7
    assert listed(edge, "/insurance/quotes", "quotes", bearer(client_session)) == []
    own = _priced(edge, {**E1, "customer": client_session["user"]["name"]}, bearer(client_session))
    assert own["customer"] == client_session["user"]["name"]


def test_a_manager_saves_a_quote_for_a_named_customer(edge, client_session, manager_session):
    customer = client_session["user"]["name"]
    quote = _priced(edge, {**K1, "customer": customer}, bearer(manager_session))
    assert quote["name"].startswith("quotes/") and quote["customer"] == customer
    assert quote["premium"]["amount"] == "113578.20"
    # The customer sees the quote made for them, in their list too.
    assert _get(edge, client_session, quote) == quote
    assert _names(listed(edge, "/insurance/quotes", "quotes", bearer(client_session))) == [quote["name"]]


@pytest.mark.parametrize("customer", ["users/nonsense", "bob", f"customers/{uuid.uuid4()}"])
def test_a_manager_naming_a_malformed_customer_is_400_naming_quote_customer(edge, manager_session, customer):
    assert _refused(edge, {**E1, "customer": customer}, bearer(manager_session)) == {"quote.customer"}


# Refusals: each names every offending field at once.

@pytest.mark.parametrize("body, fields", [
    ({**E1, "product": 9}, {"quote.product"}),
    ({**E1, "product": "PRODUCT_BOAT"}, {"quote.product"}),
    ({"osago": E1_TERMS}, {"quote.product"}),
    ({"product": "PRODUCT_OSAGO", "kasko": K1_TERMS}, {"quote.osago"}),
    ({"product": "PRODUCT_KASKO", "osago": E1_TERMS}, {"quote.kasko"}),
    ({"product": "PRODUCT_LIFE", "kasko": K1_TERMS}, {"quote.loan_cover"}),
    ({"product": "PRODUCT_OSAGO"}, {"quote.osago"}),
], ids=["unknown-product-number", "unknown-product-name", "no-product", "osago-with-kasko-terms",
        "kasko-with-osago-terms", "life-with-kasko-terms", "osago-without-terms"])
def test_an_unknown_product_or_the_wrong_terms_is_400(edge, body, fields):
    assert fields <= _refused(edge, body)


@pytest.mark.parametrize("body, fields", [
    (_osago(vehicle_category="Q", territory="mars", power_hp="x",
            drivers=[{"age": 12, "experience_years": 0}]),
     {"quote.osago.vehicle_category", "quote.osago.territory", "quote.osago.power_hp", "quote.osago.drivers[0].age"}),
    (_osago(drivers=None), {"quote.osago.drivers"}),
    (_osago(drivers=None, unlimited_drivers=False, power_hp="0"), {"quote.osago.drivers", "quote.osago.power_hp"}),
    (_osago(unlimited_drivers=True), {"quote.osago.drivers"}),
    (_osago(drivers=[{"age": 45, "experience_years": 20, "kbm_class": "14"}, {"age": 30, "experience_years": 15}],
            months_of_use=2),
     {"quote.osago.drivers[0].kbm_class", "quote.osago.drivers[1].experience_years", "quote.osago.months_of_use"}),
    (_osago(base_rate="7536"), {"quote.osago.base_rate"}),
    (_osago(base_rate="1645"), {"quote.osago.base_rate"}),
    (_osago(base_rate="abc", territory="mars"), {"quote.osago.base_rate", "quote.osago.territory"}),
    (_osago(conclusion_date="01.06.2024", territory="mars"),
     {"quote.osago.conclusion_date", "quote.osago.territory"}),
    (_osago(conclusion_date="2022-09-12"), {"quote.osago.conclusion_date"}),
    (_osago(owner="OWNER_KIND_LEGAL_ENTITY", conclusion_date="2026-02-01"), {"quote.osago.vehicle_category"}),
], ids=["category-territory-power-age-at-once", "no-drivers-not-unlimited", "no-drivers-and-zero-power",
        "unlimited-with-drivers", "kbm-class-experience-months-at-once", "base-rate-above-corridor",
        "base-rate-below-corridor", "unreadable-base-rate-and-territory", "unreadable-date-and-territory",
        "date-before-first-tariff", "legal-entity-unpriced-in-2026"])
def test_bad_osago_terms_are_400_naming_every_field(edge, client_session, body, fields):
    assert _refused(edge, body, bearer(client_session)) == fields
    assert listed(edge, "/insurance/quotes", "quotes", bearer(client_session)) == []  # nothing saved


@pytest.mark.parametrize("body, fields", [
    (_kasko(deductible={"amount": "3000000"}, anti_theft="laser", vehicle_age_years=9, claims_last_year=3),
     {"quote.kasko.deductible", "quote.kasko.anti_theft", "quote.kasko.vehicle_age_years",
      "quote.kasko.claims_last_year"}),
    (_kasko(deductible={"amount": "3000001"}), {"quote.kasko.deductible"}),
    (_kasko(vehicle_value={"amount": "abc"}, region="mars", drivers=[{"age": 17, "experience_years": 1}]),
     {"quote.kasko.vehicle_value.amount", "quote.kasko.region", "quote.kasko.drivers[0].age"}),
    (_kasko(make_group="exotic", drivers=[]), {"quote.kasko.make_group", "quote.kasko.drivers"}),
], ids=["deductible-antitheft-age-claims-at-once", "deductible-above-value", "unreadable-value-region-driver",
        "make-group-and-no-drivers"])
def test_bad_kasko_terms_are_400_naming_every_field(edge, client_session, body, fields):
    assert _refused(edge, body, bearer(client_session)) == fields
    assert listed(edge, "/insurance/quotes", "quotes", bearer(client_session)) == []


@pytest.mark.parametrize("body, fields", [
    ({"product": "PRODUCT_LIFE", "loan_cover": {"loan_amount": {"amount": "-1"}, "term_months": 0}},
     {"quote.loan_cover.loan_amount", "quote.loan_cover.term_months"}),
    ({"product": "PRODUCT_HEALTH", "loan_cover": {"loan_amount": {"amount": "0"}, "term_months": -3}},
     {"quote.loan_cover.loan_amount", "quote.loan_cover.term_months"}),
    ({"product": "PRODUCT_LIFE", "loan_cover": {"loan_amount": {"amount": "abc"}, "term_months": 0}},
     {"quote.loan_cover.loan_amount.amount", "quote.loan_cover.term_months"}),
    ({"product": "PRODUCT_HEALTH", "loan_cover": {"term_months": 0}},
     {"quote.loan_cover.loan_amount.amount", "quote.loan_cover.term_months"}),
], ids=["negative-amount-and-term-0", "zero-amount-and-negative-term", "unreadable-amount-and-term-0",
        "no-amount-and-term-0"])
def test_bad_loan_cover_terms_are_400_naming_every_field(edge, client_session, body, fields):
    assert _refused(edge, body, bearer(client_session)) == fields
    assert listed(edge, "/insurance/quotes", "quotes", bearer(client_session)) == []
