"""The showroom's promo codes, the ones the README's examples use, written by ./scripts/up before
the mesh starts. Each is added once: not again when its code is taken, nor once it was deleted."""
import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from services.kit.db import now
from services.kit.settings import Settings

from . import domain
from .convert import new_discount_row
from .store import discounts

AUTHOR = "demo-data"
VALID_FOR = datetime.timedelta(days=365)


def promo_codes(since: datetime.datetime) -> list[domain.Discount]:
    """The demo codes, valid for a year from `since`: one a customer each, a few hundred in all."""
    until = since + VALID_FOR
    return [domain.validate_discount(discount) for discount in (
        domain.Discount(id="", title="Winter sale: 25,000 RUB off any car", kind=domain.FIXED,
                        value=Decimal("25000"), valid_from=since, valid_until=until, scope=domain.Scope(),
                        stackable=False, automatic=False, code="WINTER25", usage_limit=500,
                        per_customer_limit=1),
        domain.Discount(id="", title="Haval week: 7 % off any Haval", kind=domain.PERCENTAGE,
                        value=Decimal("7"), valid_from=since, valid_until=until,
                        scope=domain.Scope(brands=("Haval",)), stackable=False, automatic=False,
                        code="HAVAL7", usage_limit=100, per_customer_limit=1),
    )]


def load_promo_codes(settings: Settings) -> str:
    """Adds the demo codes not added before; says which."""
    at = now()
    today = at.replace(hour=0, minute=0, second=0, microsecond=0)
    engine = sa.create_engine(settings.database_url("pricing"), poolclass=sa.NullPool)
    added = []
    try:
        with engine.begin() as connection:
            for discount in promo_codes(today):
                # A demo code deleted since keeps its title and author (deleting clears the code).
                if connection.execute(sa.select(discounts.c.id).where(
                        discounts.c.created_by == AUTHOR, discounts.c.title == discount.title)).first():
                    continue
                row = new_discount_row(discount, at, AUTHOR)
                if connection.execute(insert(discounts).values(**row).on_conflict_do_nothing()).rowcount:
                    added.append(discount.code)
    finally:
        engine.dispose()
    return f"demo promo codes added: {', '.join(added)}" if added else "demo promo codes present"
