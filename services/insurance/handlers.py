"""insurance's use cases: quotes, priced for anyone and saved for signed-in callers."""
import datetime
import uuid
from decimal import Decimal

from autosalon.insurance.v1 import insurance_pb2
from services.kit import paging
from services.kit.db import Database, now
from services.kit.errors import InvalidArgument, NotFound
from services.kit.identity import Identity, acting_for

from . import tariffs
from .convert import PRODUCT_NAME, priced, quote_from_row, quote_json, quote_to_proto, tariff_versions_to_proto


class InsuranceHandlers:
    def __init__(self, database: Database, osago_base_rate: Decimal, cover_rates: tariffs.LoanCoverRates,
                 quote_validity: datetime.timedelta):
        self.database = database
        self.osago_base_rate = osago_base_rate
        self.cover_rates = cover_rates
        self.quote_validity = quote_validity

    async def create_quote(self, caller: Identity | None, request: insurance_pb2.Quote) -> insurance_pb2.Quote:
        """The price of the cover; saved (named) when the caller is signed in."""
        outcome = priced(request, self.osago_base_rate, self.cover_rates)
        valid_until = datetime.date.today() + self.quote_validity
        if caller is None:
            if request.customer:
                raise InvalidArgument({"quote.customer": "only a signed-in caller's quote is saved for a customer"})
            return quote_to_proto(request, outcome, "", "", valid_until, None)
        customer = acting_for(caller, request.customer, "quote.customer", staff_must_name=False)
        quote_id, created = uuid.uuid4(), now()
        quote = quote_to_proto(request, outcome, f"quotes/{quote_id}", customer, valid_until, created)
        async with self.database.unit_of_work() as uow:
            await uow.repository.add_quote({
                "id": quote_id, "customer": customer, "product": outcome.product, "premium": outcome.premium,
                "tariff_version": outcome.tariff_version, "valid_until": valid_until, "quote": quote_json(quote),
                "created_at": created, "created_by": caller.user_name})
            await uow.emit("quote.created", quote.name, insurance_pb2.QuoteEvent(quote=quote))
        return quote

    async def get_quote(self, caller: Identity, quote_id: uuid.UUID) -> insurance_pb2.Quote:
        async with self.database.reading() as uow:
            row = await uow.repository.quote(quote_id)
        if row is None or (not caller.is_staff and row.customer != caller.user_name):
            raise NotFound(f"quotes/{quote_id} does not exist")
        return quote_from_row(row)

    async def list_quotes(self, caller: Identity, product: int, requested_size: int, page_token: str
                          ) -> tuple[list[insurance_pb2.Quote], str]:
        query = {"product": product}
        size = paging.page_size(requested_size)
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.quote_page(PRODUCT_NAME.get(product), None if caller.is_staff else caller.user_name,
                                                   size, after)
        rows, token = paging.newest_page(rows, size, query)
        return [quote_from_row(row) for row in rows], token

    @staticmethod
    def tariff_versions() -> list[insurance_pb2.TariffVersion]:
        return tariff_versions_to_proto()
