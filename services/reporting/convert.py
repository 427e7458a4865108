"""reporting's rows -> protobuf messages."""
from decimal import ROUND_HALF_UP, Decimal

from autosalon.reporting.v1 import reporting_pb2
from services.kit import money
from services.kit.protos import timestamp

from . import domain

PERIOD = {reporting_pb2.PERIOD_UNSPECIFIED: domain.MONTH, reporting_pb2.PERIOD_DAY: domain.DAY,
          reporting_pb2.PERIOD_WEEK: domain.WEEK, reporting_pb2.PERIOD_MONTH: domain.MONTH,
          reporting_pb2.PERIOD_QUARTER: domain.QUARTER}
DIMENSION = {reporting_pb2.DIMENSION_UNSPECIFIED: "", reporting_pb2.DIMENSION_BRANCH: domain.BRANCH,
             reporting_pb2.DIMENSION_BRAND: domain.BRAND, reporting_pb2.DIMENSION_MODEL: domain.MODEL,
             reporting_pb2.DIMENSION_SALESPERSON: domain.SALESPERSON}
PERIOD_ENUM = {name: value for value, name in PERIOD.items() if value != reporting_pb2.PERIOD_UNSPECIFIED}
DIMENSION_ENUM = {name: value for value, name in DIMENSION.items()}
DOCUMENT_FORMAT = {reporting_pb2.DOCUMENT_FORMAT_CSV: "csv", reporting_pb2.DOCUMENT_FORMAT_PDF: "pdf"}
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


def _percent(part, whole) -> str:
    """part / whole in per cent to one decimal, rounded half up; "0.0" when there is no whole."""
    if not whole:
        return "0.0"
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def popularity_row_to_proto(row) -> reporting_pb2.PopularityRow:
    return reporting_pb2.PopularityRow(model=row.model, orders=row.orders, test_drives=row.test_drives)


def financing_to_proto(figures) -> reporting_pb2.FinancingReport:
    return reporting_pb2.FinancingReport(
        approved=figures.approved, rejected=figures.rejected,
        approval_rate_percent=_percent(figures.approved, figures.approved + figures.rejected),
        approved_volume=money.to_proto(Decimal(figures.volume)),
        average_rate_percent=str((Decimal(figures.rate_weight) / figures.volume).quantize(Decimal("0.01"), ROUND_HALF_UP)
                                 if figures.volume else Decimal("0.00")))


def insurance_row_to_proto(row) -> reporting_pb2.InsuranceRow:
    return reporting_pb2.InsuranceRow(
        product=row.product, policies_issued=row.issued, premiums=money.to_proto(Decimal(row.premiums)),
        refunds=money.to_proto(Decimal(row.refunds)), claims_approved=money.to_proto(Decimal(row.claims)),
        claims_ratio_percent=_percent(row.claims, row.premiums - row.refunds))


def workshop_row_to_proto(row) -> reporting_pb2.WorkshopRow:
    return reporting_pb2.WorkshopRow(key=row.key, bookings=row.bookings, hours=str(row.hours))


REBUILD_STATE = {"running": reporting_pb2.REBUILD_STATE_RUNNING, "done": reporting_pb2.REBUILD_STATE_DONE,
                 "failed": reporting_pb2.REBUILD_STATE_FAILED}


def rebuild_to_proto(row) -> reporting_pb2.Rebuild:
    rebuild = reporting_pb2.Rebuild(
        name=f"rebuilds/{row.id}", state=REBUILD_STATE[row.state], events_applied=row.events_applied,
        events_total=row.events_total, start_time=timestamp(row.started_at), requested_by=row.requested_by,
        error=row.error)
    if row.ended_at is not None:
        rebuild.end_time.CopyFrom(timestamp(row.ended_at))
    return rebuild


def stored_report_to_proto(row, with_figures: bool = True) -> reporting_pb2.StoredSalesReport:
    stored = reporting_pb2.StoredSalesReport(
        name=f"sales-reports/{row.id}", start_date=row.start_date.isoformat(), end_date=row.end_date.isoformat(),
        period=PERIOD_ENUM[row.period], split_by=DIMENSION_ENUM[row.split_by], title=row.title,
        create_time=timestamp(row.created_at), created_by=row.created_by)
    if with_figures:
        stored.report.ParseFromString(row.figures)
    return stored
