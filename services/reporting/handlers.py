"""reporting's use cases: the events applied to the read models (each once, by the kit's
consumers), and the reports read from them."""
import datetime
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

from autosalon.insurance.v1 import insurance_pb2
from autosalon.reporting.v1 import reporting_pb2
from services.kit import money, paging
from services.kit.db import Database, now
from services.kit.errors import InvalidArgument, NotFound
from services.kit.idempotency import IdempotencyKey, same_request
from services.kit.identity import Identity

from . import documents, domain, store
from .convert import cancellations_to_proto, financing_to_proto, insurance_row_to_proto, popularity_row_to_proto, \
    promotion_to_proto, sales_report_to_proto, stored_report_to_proto, workshop_row_to_proto

_STEP_MOMENT = {domain.CONFIRMED: "confirmed_at", domain.PAID: "paid_at", domain.COMPLETED: "completed_at",
                domain.CANCELLED: "cancelled_at"}


class ReportingHandlers:
    def __init__(self, database: Database, time_zone: str = "Europe/Moscow", pdf_font: str = ""):
        self.database = database
        self.zone = ZoneInfo(time_zone)
        self.pdf_font = pdf_font

    # The events.

    async def vehicle_changed(self, uow, vehicle) -> None:
        await uow.repository.keep_vehicle({"vehicle": vehicle.name, "brand": vehicle.brand,
                                           "model_name": vehicle.model_name, "branch": vehicle.branch})

    async def salesperson_changed(self, uow, salesperson) -> None:
        if salesperson.user:
            await uow.repository.keep_salesperson({"user": salesperson.user,
                                                   "display_name": salesperson.display_name})

    async def order_changed(self, uow, step: str, order, actor: str, at: datetime.datetime) -> None:
        """The order as its latest event shows it, with the moment it reached `step`."""
        repository = uow.repository
        current = await repository.order(order.name)
        price = order.price
        # A refused code gave no discount: it was not used.
        used_code = order.promo_code.strip().upper() if order.promo_code and not price.code_problem else ""
        row = {
            "name": order.name, "customer": order.customer, "vehicle": order.vehicle, "promo_code": used_code,
            "discount": money.published(price.discount_total), "total": money.published(order.total),
            "status": step,
            "created_at": current.created_at if current else at,
            "created_on": current.created_on if current else domain.local_day(at, self.zone),
            **{column: getattr(current, column) if current else None for column in _STEP_MOMENT.values()},
            "completed_on": current.completed_on if current else None,
            "completed_by": current.completed_by if current else "",
            "cancel_reason": current.cancel_reason if current else "",
            "cancelled_after": current.cancelled_after if current else "",
        }
        if step in _STEP_MOMENT:
            row[_STEP_MOMENT[step]] = at
        if step == domain.COMPLETED:
            row.update(completed_on=domain.local_day(at, self.zone), completed_by=actor)
        if step == domain.CANCELLED:
            row.update(cancel_reason=order.cancel_reason or "unknown",
                       cancelled_after=domain.step_reached(row["confirmed_at"] is not None, row["paid_at"] is not None))
        await repository.keep_order(row)

    async def application_decided(self, uow, decision: str, application, at: datetime.datetime) -> None:
        await uow.repository.keep(store.applications, {
            "name": application.name, "loan_amount": money.published(application.loan_amount),
            "annual_rate": Decimal(application.annual_rate or "0"), "decision": decision,
            "decided_on": domain.local_day(at, self.zone)})

    async def policy_changed(self, uow, step: str, policy, at: datetime.datetime) -> None:
        """A policy issued (its premium written) or cancelled (its refund)."""
        current = await uow.repository.one(store.policies, policy.name)
        row = {"name": policy.name, "product": insurance_pb2.Product.Name(policy.product).removeprefix("PRODUCT_").lower(),
               "premium": money.published(policy.premium), "refund": money.published(policy.refund),
               "issued_on": current.issued_on if current else None,
               "cancelled_on": current.cancelled_on if current else None}
        row["issued_on" if step == "issued" else "cancelled_on"] = domain.local_day(at, self.zone)
        await uow.repository.keep(store.policies, row)

    async def claim_approved(self, uow, claim, policy: str, at: datetime.datetime) -> None:
        await uow.repository.keep(store.claims, {
            "name": claim.name, "policy": policy, "approved_amount": money.published(claim.approved_amount),
            "approved_on": domain.local_day(at, self.zone)})

    async def booking_changed(self, uow, booking, cancelled: bool) -> None:
        start, end = (booking.start_time.ToDatetime(tzinfo=datetime.timezone.utc),
                      booking.end_time.ToDatetime(tzinfo=datetime.timezone.utc))
        await uow.repository.keep(store.bookings, {
            "name": booking.name, "mechanic": booking.mechanic, "job_type": booking.job_type,
            "start_on": domain.local_day(start, self.zone),
            "hours": (Decimal((end - start).total_seconds()) / 3600).quantize(Decimal("0.01")), "cancelled": cancelled})

    async def test_drive_booked(self, uow, test_drive, at: datetime.datetime) -> None:
        await uow.repository.keep(store.test_drives, {"name": test_drive.name, "vehicle": test_drive.vehicle,
                                                      "booked_on": domain.local_day(at, self.zone)})

    # The reports.

    async def sales_report(self, start_text: str, end_text: str, period: str, split: str, branch: str,
                           brand: str) -> reporting_pb2.SalesReport:
        start, end = domain.date_range(start_text, end_text)
        if len(branch) > 200 or len(brand) > 200:
            raise InvalidArgument({"branch" if len(branch) > 200 else "brand": "must be at most 200 characters"})
        async with self.database.reading() as uow:
            rows = await uow.repository.sales(start, end, period, split, branch, brand)
        return sales_report_to_proto(rows)

    # Kept sales reports.

    async def keep_sales_report(self, caller: Identity, wanted: reporting_pb2.StoredSalesReport, period: str,
                                split: str, key: IdempotencyKey) -> reporting_pb2.StoredSalesReport:
        """The period's figures as they are now, kept; a retry with the same key gets the first."""
        start, end = domain.date_range(wanted.start_date, wanted.end_date, "stored_sales_report.")
        if key:
            async with self.database.reading() as uow:
                earlier = await uow.repository.stored_report_by_key(caller.user_name, key.text)
            if earlier is not None:
                same_request(earlier.idempotency_request, key)
                return stored_report_to_proto(earlier)
        figures = await self.sales_report(wanted.start_date, wanted.end_date, period, split, "", "")
        async with self.database.unit_of_work() as uow:
            row = await uow.repository.add_stored_report({
                "id": uuid.uuid4(), "start_date": start, "end_date": end, "period": period, "split_by": split,
                "title": domain.title_of(start, end, period, split), "figures": figures.SerializeToString(),
                "created_at": now(), "created_by": caller.user_name, "idempotency_key": key.text or None,
                "idempotency_request": key.request})
            # A concurrent retry with the same key kept one first.
            row = row or await uow.repository.stored_report_by_key(caller.user_name, key.text)
        return stored_report_to_proto(row)

    async def stored_sales_reports(self, requested_size: int, page_token: str
                                   ) -> tuple[list[reporting_pb2.StoredSalesReport], str]:
        size = paging.page_size(requested_size)
        after = paging.time_position(paging.decode_token(page_token, {}))
        async with self.database.reading() as uow:
            rows = await uow.repository.stored_report_page(size, after)
        shown, token = paging.newest_page(rows, size, {})
        return [stored_report_to_proto(row, with_figures=False) for row in shown], token

    async def stored_sales_report(self, report_id: uuid.UUID) -> reporting_pb2.StoredSalesReport:
        async with self.database.reading() as uow:
            row = await uow.repository.stored_report(report_id)
        if row is None:
            raise NotFound(f"sales-reports/{report_id} does not exist")
        return stored_report_to_proto(row)

    async def download(self, report_id: uuid.UUID, document_format: str) -> tuple[str, str, bytes]:
        """(content type, file name, bytes) of the kept report as CSV or PDF."""
        stored = await self.stored_sales_report(report_id)
        name = f"sales-report-{stored.start_date}-{stored.end_date}"
        if document_format == "csv":
            return "text/csv; charset=utf-8", f"{name}.csv", documents.csv_of(stored.report)
        return "application/pdf", f"{name}.pdf", documents.pdf_of(stored.title, stored.report, self.pdf_font)

    async def _over(self, start_text: str, end_text: str, query: str, *arguments):
        """The repository's `query` over the days from `start_text` to `end_text`."""
        start, end = domain.date_range(start_text, end_text)
        async with self.database.reading() as uow:
            return await getattr(uow.repository, query)(start, end, *arguments)

    async def funnel_report(self, start_text: str, end_text: str) -> reporting_pb2.FunnelReport:
        steps, cancelled = await self._over(start_text, end_text, "funnel")
        return reporting_pb2.FunnelReport(
            created=steps.created, confirmed=steps.confirmed, paid=steps.paid, completed=steps.completed,
            cancelled=steps.cancelled, cancellations=cancellations_to_proto(cancelled))

    async def promotion_report(self, start_text: str, end_text: str) -> reporting_pb2.PromotionReport:
        rows = await self._over(start_text, end_text, "promotions")
        return reporting_pb2.PromotionReport(rows=[promotion_to_proto(row) for row in rows])

    async def popularity_report(self, start_text: str, end_text: str) -> reporting_pb2.PopularityReport:
        rows = await self._over(start_text, end_text, "popularity")
        return reporting_pb2.PopularityReport(rows=[popularity_row_to_proto(row) for row in rows])

    async def financing_report(self, start_text: str, end_text: str) -> reporting_pb2.FinancingReport:
        return financing_to_proto(await self._over(start_text, end_text, "financing"))

    async def insurance_report(self, start_text: str, end_text: str) -> reporting_pb2.InsuranceReport:
        rows = await self._over(start_text, end_text, "insurance")
        return reporting_pb2.InsuranceReport(rows=[insurance_row_to_proto(row) for row in rows])

    async def workshop_report(self, start_text: str, end_text: str) -> reporting_pb2.WorkshopReport:
        by_mechanic = await self._over(start_text, end_text, "workshop", "mechanic")
        by_job_type = await self._over(start_text, end_text, "workshop", "job_type")
        return reporting_pb2.WorkshopReport(by_mechanic=[workshop_row_to_proto(row) for row in by_mechanic],
                                            by_job_type=[workshop_row_to_proto(row) for row in by_job_type])
