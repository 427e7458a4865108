"""reporting's use cases: the events applied to the read models (each once, by the kit's
consumers), and the reports read from them."""
import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from autosalon.reporting.v1 import reporting_pb2
from services.kit.db import Database
from services.kit.errors import InvalidArgument

from . import domain
from .convert import cancellations_to_proto, promotion_to_proto, sales_report_to_proto

_STEP_MOMENT = {domain.CONFIRMED: "confirmed_at", domain.PAID: "paid_at", domain.COMPLETED: "completed_at",
                domain.CANCELLED: "cancelled_at"}


def _amount(money) -> Decimal:
    return Decimal(money.amount or "0")


class ReportingHandlers:
    def __init__(self, database: Database, time_zone: str = "Europe/Moscow"):
        self.database = database
        self.zone = ZoneInfo(time_zone)

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
            "discount": _amount(price.discount_total), "total": _amount(order.total), "status": step,
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

    # The reports.

    async def sales_report(self, start_text: str, end_text: str, period: str, split: str, branch: str,
                           brand: str) -> reporting_pb2.SalesReport:
        start, end = domain.date_range(start_text, end_text)
        if len(branch) > 200 or len(brand) > 200:
            raise InvalidArgument({"branch" if len(branch) > 200 else "brand": "must be at most 200 characters"})
        async with self.database.reading() as uow:
            rows = await uow.repository.sales(start, end, period, split, branch, brand)
        return sales_report_to_proto(rows)

    async def funnel_report(self, start_text: str, end_text: str) -> reporting_pb2.FunnelReport:
        start, end = domain.date_range(start_text, end_text)
        async with self.database.reading() as uow:
            steps, cancelled = await uow.repository.funnel(start, end)
        return reporting_pb2.FunnelReport(
            created=steps.created, confirmed=steps.confirmed, paid=steps.paid, completed=steps.completed,
            cancelled=steps.cancelled, cancellations=cancellations_to_proto(cancelled))

    async def promotion_report(self, start_text: str, end_text: str) -> reporting_pb2.PromotionReport:
        start, end = domain.date_range(start_text, end_text)
        async with self.database.reading() as uow:
            rows = await uow.repository.promotions(start, end)
        return reporting_pb2.PromotionReport(rows=[promotion_to_proto(row) for row in rows])
