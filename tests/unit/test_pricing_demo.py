"""The showroom's promo codes (services/pricing/demo.py): the README's examples use them."""
import datetime
from decimal import Decimal

from services.pricing import demo, domain
from tests import readme

SEEDED = datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)


def test_every_promo_code_the_readme_uses_is_in_the_demo():
    used = readme.promo_codes(readme.calling_it())
    assert used, "the README's examples name no promo code: this test reads them wrongly"
    assert used <= {discount.code for discount in demo.promo_codes(SEEDED)}


def test_the_demo_codes_hold_for_a_year_once_a_customer():
    for discount in demo.promo_codes(SEEDED):
        assert domain.in_force(discount, SEEDED + datetime.timedelta(days=364))
        assert not domain.in_force(discount, SEEDED + datetime.timedelta(days=365))
        assert discount.per_customer_limit == 1 and discount.usage_limit > 0
        assert not discount.automatic  # an automatic one would change every quote of the showroom


def test_winter25_takes_25000_off():
    winter = next(discount for discount in demo.promo_codes(SEEDED) if discount.code == "WINTER25")
    assert domain.amount_off(winter, Decimal("2000000")) == Decimal("25000")
