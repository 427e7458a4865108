"""reporting's rows -> protobuf messages."""
from decimal import ROUND_HALF_UP, Decimal

from autosalon.reporting.v1 import reporting_pb2
from services.kit import money

from . import domain

PERIOD = {reporting_pb2.PERIOD_UNSPECIFIED: domain.MONTH, reporting_pb2.PERIOD_DAY: domain.DAY,
          reporting_pb2.PERIOD_WEEK: domain.WEEK, reporting_pb2.PERIOD_MONTH: domain.MONTH,
          reporting_pb2.PERIOD_QUARTER: domain.QUARTER}
DIMENSION = {reporting_pb2.DIMENSION_UNSPECIFIED: "", reporting_pb2.DIMENSION_BRANCH: domain.BRANCH,
             reporting_pb2.DIMENSION_BRAND: domain.BRAND, reporting_pb2.DIMENSION_MODEL: domain.MODEL,
             reporting_pb2.DIMENSION_SALESPERSON: domain.SALESPERSON}
_KOPECK = Decimal("0.01")


def sales_report_to_proto(rows) -> reporting_pb2.SalesReport:
    report = reporting_pb2.SalesReport(
        cars_sold=sum(row.cars_sold for row in rows), revenue=money.to_proto(sum((row.revenue for row in rows),
                                                                                  Decimal(0))),
        discount=money.to_proto(sum((row.discount for row in rows), Decimal(0))))
    for row in rows:
        report.rows.append(reporting_pb2.SalesRow(
            period_start=row.period_start.isoformat(), key=row.key, cars_sold=row.cars_sold,
            revenue=money.to_proto(row.revenue), discount=money.to_proto(row.discount),
            average_price=money.to_proto((row.revenue / row.cars_sold).quantize(_KOPECK, ROUND_HALF_UP))))
    return report


def cancellations_to_proto(rows) -> list[reporting_pb2.Cancellations]:
    return [reporting_pb2.Cancellations(after_step=row.cancelled_after, reason=row.cancel_reason, orders=row.orders)
            for row in rows]


def promotion_to_proto(row) -> reporting_pb2.PromotionRow:
    return reporting_pb2.PromotionRow(code=row.promo_code, uses=row.uses, revenue=money.to_proto(row.revenue),
                                      discount=money.to_proto(row.discount))
