"""reporting's read models and the queries over them: orders as sales' events left them, and
what inventory's vehicles and config's salespeople said of them (the names a report is split
by); loan applications, policies and claims, workshop bookings and test drives as financing's,
insurance's and booking's events left them. Written only by the consumers of those events."""
import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from services.kit.columns import keyed
from services.kit.consumers import positions_table
from services.kit.outbox import event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Row

metadata = sa.MetaData()
MONEY = sa.Numeric(14, 2)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("vehicle", sa.Text, nullable=False),
    # An accepted promo code, upper-cased; empty when none was (or it was refused).
    sa.Column("promo_code", sa.Text, nullable=False),
    sa.Column("discount", MONEY, nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    # Each step's moment, and the calendar day (the reporting zone's) an order is counted on.
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_on", sa.Date, nullable=False),
    sa.Column("confirmed_at", sa.DateTime(timezone=True)),
    sa.Column("paid_at", sa.DateTime(timezone=True)),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    sa.Column("completed_on", sa.Date),
    # The staff user who handed the car over ("users/{uuid}").
    sa.Column("completed_by", sa.Text, nullable=False),
    sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    sa.Column("cancel_reason", sa.Text, nullable=False),
    # The last step reached before the cancellation: created, confirmed or paid.
    sa.Column("cancelled_after", sa.Text, nullable=False),
    sa.Index("orders_sold", "completed_on", postgresql_where=sa.text("completed_on IS NOT NULL")),
    sa.Index("orders_created", "created_on"),
)

vehicles = sa.Table(
    "vehicles",
    metadata,
    sa.Column("vehicle", sa.Text, primary_key=True),
    sa.Column("brand", sa.Text, nullable=False),
    sa.Column("model_name", sa.Text, nullable=False),
    sa.Column("branch", sa.Text, nullable=False),
)

salespeople = sa.Table(
    "salespeople",
    metadata,
    # The staff user the salesperson signs in as ("users/{uuid}").
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("loan_amount", MONEY, nullable=False),
    sa.Column("annual_rate", sa.Numeric(7, 3), nullable=False),
    # "approved" or "rejected" once decided, and the day it was.
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("decided_on", sa.Date),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("product", sa.Text, nullable=False),
    sa.Column("premium", MONEY, nullable=False),
    sa.Column("issued_on", sa.Date),
    sa.Column("refund", MONEY, nullable=False),
    sa.Column("cancelled_on", sa.Date),
)

claims = sa.Table(
    "claims",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("policy", sa.Text, nullable=False),
    sa.Column("approved_amount", MONEY, nullable=False),
    sa.Column("approved_on", sa.Date),
)

bookings = sa.Table(
    "bookings",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("mechanic", sa.Text, nullable=False),
    sa.Column("job_type", sa.Text, nullable=False),
    sa.Column("start_on", sa.Date, nullable=False),
    sa.Column("hours", sa.Numeric(6, 2), nullable=False),
    sa.Column("cancelled", sa.Boolean, nullable=False),
)

test_drives = sa.Table(
    "test_drives",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("vehicle", sa.Text, nullable=False),
    sa.Column("booked_on", sa.Date, nullable=False),
)

# Every table above: what a rebuild makes again from the events.
READ_MODELS = tuple(metadata.sorted_tables)

rebuilds = sa.Table(
    "rebuilds",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    # running -> done | failed; one running at a time (a unique partial index).
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("events_applied", sa.BigInteger, nullable=False),
    sa.Column("events_total", sa.BigInteger, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
)

stored_sales_reports = sa.Table(
    "stored_sales_reports",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("split_by", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    # The SalesReport message as it was made.
    sa.Column("figures", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    *keyed(),
)

outbox, consumed_events = event_tables(metadata)
# How far each consumer has got in its stream, moved in the transaction that writes its rows.
stream_positions = positions_table(metadata)

_UNKNOWN = sa.literal("unknown")
# What a sales report's rows are split by, as a column of the sold orders joined to what the
# events said of their car and their seller.
_SPLITS = {
    "": sa.literal(""),
    "branch": sa.func.coalesce(sa.func.nullif(vehicles.c.branch, ""), _UNKNOWN),
    "brand": sa.func.coalesce(sa.func.nullif(vehicles.c.brand, ""), _UNKNOWN),
    "model": sa.func.coalesce(sa.func.nullif(sa.func.concat_ws(" ", vehicles.c.brand, vehicles.c.model_name), ""),
                              _UNKNOWN),
    "salesperson": sa.func.coalesce(salespeople.c.display_name, sa.func.nullif(orders.c.completed_by, ""), _UNKNOWN),
}
_SOLD = (orders.outerjoin(vehicles, vehicles.c.vehicle == orders.c.vehicle)
         .outerjoin(salespeople, salespeople.c.user == orders.c.completed_by))


class ReportingRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def _keep(self, table: sa.Table, key: str, row: dict) -> None:
        statement = insert(table).values(**row)
        await self.connection.execute(statement.on_conflict_do_update(
            index_elements=[key], set_={name: statement.excluded[name] for name in row if name != key}))

    async def keep_vehicle(self, row: dict) -> None:
        await self._keep(vehicles, "vehicle", row)

    async def keep_salesperson(self, row: dict) -> None:
        await self._keep(salespeople, "user", row)

    async def start_rebuild(self, row: dict) -> Row | None:
        """The new rebuild, or None while another one runs."""
        return (await self.connection.execute(
            insert(rebuilds).values(**row).on_conflict_do_nothing(
                index_elements=["state"], index_where=rebuilds.c.state == "running")
            .returning(*rebuilds.c))).first()

    async def rebuild(self, rebuild_id) -> Row | None:
        return (await self.connection.execute(sa.select(rebuilds).where(rebuilds.c.id == rebuild_id))).first()

    async def record_rebuild(self, rebuild_id, values: dict) -> None:
        await self.connection.execute(rebuilds.update().where(rebuilds.c.id == rebuild_id).values(**values))

    async def order(self, name: str) -> Row | None:
        return (await self.connection.execute(sa.select(orders).where(orders.c.name == name))).first()

    async def keep_order(self, row: dict) -> None:
        await self._keep(orders, "name", row)

    async def keep(self, table: sa.Table, row: dict) -> None:
        """A row of a read model keyed by `name`, as its latest event says."""
        await self._keep(table, "name", row)

    async def one(self, table: sa.Table, name: str) -> Row | None:
        return (await self.connection.execute(sa.select(table).where(table.c.name == name))).first()

    async def sales(self, start: datetime.date, end: datetime.date, period: str, split: str, branch: str,
                    brand: str) -> list[Row]:
        """Cars sold, revenue and discount a period and split value, in time order, then the
        most revenue first."""
        period_start = sa.cast(sa.func.date_trunc(period, orders.c.completed_on), sa.Date).label("period_start")
        key = _SPLITS[split].label("key")
        conditions = [orders.c.completed_on.between(start, end)]
        if branch:
            conditions.append(vehicles.c.branch == branch)
        if brand:
            conditions.append(sa.func.lower(vehicles.c.brand) == brand.lower())
        revenue = sa.func.sum(orders.c.total).label("revenue")
        query = (sa.select(period_start, key, sa.func.count().label("cars_sold"), revenue,
                           sa.func.sum(orders.c.discount).label("discount"))
                 .select_from(_SOLD).where(*conditions).group_by(period_start, key)
                 .order_by(period_start, revenue.desc(), key))
        return (await self.connection.execute(query)).all()

    async def funnel(self, start: datetime.date, end: datetime.date) -> tuple[Row, list[Row]]:
        """How many orders created in the range reached each step, and the cancelled ones by the
        step they had reached and their reason."""
        created = orders.c.created_on.between(start, end)
        steps = (await self.connection.execute(sa.select(
            sa.func.count().label("created"), sa.func.count(orders.c.confirmed_at).label("confirmed"),
            sa.func.count(orders.c.paid_at).label("paid"), sa.func.count(orders.c.completed_at).label("completed"),
            sa.func.count(orders.c.cancelled_at).label("cancelled")).where(created))).one()
        count = sa.func.count().label("orders")
        cancellations = (await self.connection.execute(
            sa.select(orders.c.cancelled_after, orders.c.cancel_reason, count)
            .where(created, orders.c.cancelled_at.is_not(None))
            .group_by(orders.c.cancelled_after, orders.c.cancel_reason)
            .order_by(count.desc(), orders.c.cancelled_after, orders.c.cancel_reason))).all()
        return steps, cancellations

    async def promotions(self, start: datetime.date, end: datetime.date) -> list[Row]:
        uses = sa.func.count().label("uses")
        return (await self.connection.execute(
            sa.select(orders.c.promo_code, uses, sa.func.sum(orders.c.total).label("revenue"),
                      sa.func.sum(orders.c.discount).label("discount"))
            .where(orders.c.completed_on.between(start, end), orders.c.promo_code != "")
            .group_by(orders.c.promo_code).order_by(uses.desc(), orders.c.promo_code))).all()

    async def popularity(self, start: datetime.date, end: datetime.date) -> list[Row]:
        """Orders created and test drives booked in the range, by model."""
        model = _SPLITS["model"]
        wanted = sa.union_all(
            sa.select(orders.c.vehicle, sa.literal(1).label("ordered"), sa.literal(0).label("driven"))
            .where(orders.c.created_on.between(start, end)),
            sa.select(test_drives.c.vehicle, sa.literal(0), sa.literal(1))
            .where(test_drives.c.booked_on.between(start, end))).subquery()
        ordered, driven = sa.func.sum(wanted.c.ordered).label("orders"), sa.func.sum(wanted.c.driven).label("test_drives")
        query = (sa.select(model.label("model"), ordered, driven)
                 .select_from(wanted.outerjoin(vehicles, vehicles.c.vehicle == wanted.c.vehicle))
                 .group_by(model).order_by((ordered + driven).desc(), model))
        return (await self.connection.execute(query)).all()

    async def financing(self, start: datetime.date, end: datetime.date) -> Row:
        approved = applications.c.decision == "approved"
        return (await self.connection.execute(sa.select(
            sa.func.count().filter(approved).label("approved"),
            sa.func.count().filter(applications.c.decision == "rejected").label("rejected"),
            sa.func.coalesce(sa.func.sum(applications.c.loan_amount).filter(approved), 0).label("volume"),
            sa.func.coalesce(sa.func.sum(applications.c.loan_amount * applications.c.annual_rate).filter(approved),
                             0).label("rate_weight"))
            .where(applications.c.decided_on.between(start, end)))).one()

    async def insurance(self, start: datetime.date, end: datetime.date) -> list[Row]:
        """Per product: the policies issued and their premiums, the refunds and the claims
        approved in the range."""
        issued = (sa.select(policies.c.product, sa.literal(1).label("issued"), policies.c.premium,
                            sa.literal(0).label("refund"), sa.literal(0).label("claimed"))
                  .where(policies.c.issued_on.between(start, end)))
        refunded = (sa.select(policies.c.product, sa.literal(0), sa.literal(0), policies.c.refund, sa.literal(0))
                    .where(policies.c.cancelled_on.between(start, end)))
        claimed = (sa.select(policies.c.product, sa.literal(0), sa.literal(0), sa.literal(0),
                             claims.c.approved_amount)
                   .select_from(claims.join(policies, policies.c.name == claims.c.policy))
                   .where(claims.c.approved_on.between(start, end)))
        figures = sa.union_all(issued, refunded, claimed).subquery()
        return (await self.connection.execute(
            sa.select(figures.c.product, sa.func.sum(figures.c.issued).label("issued"),
                      sa.func.sum(figures.c.premium).label("premiums"), sa.func.sum(figures.c.refund).label("refunds"),
                      sa.func.sum(figures.c.claimed).label("claims"))
            .group_by(figures.c.product).order_by(figures.c.product))).all()

    async def workshop(self, start: datetime.date, end: datetime.date, by: str) -> list[Row]:
        """Bookings starting in the range, not cancelled, and their hours, by `by` (mechanic or
        job_type), the busiest first."""
        key = bookings.c[by]
        hours = sa.func.sum(bookings.c.hours).label("hours")
        return (await self.connection.execute(
            sa.select(key.label("key"), sa.func.count().label("bookings"), hours)
            .where(bookings.c.start_on.between(start, end), sa.not_(bookings.c.cancelled))
            .group_by(key).order_by(hours.desc(), key))).all()

    async def add_stored_report(self, row: dict) -> Row | None:
        """The kept report; None when the creator's idempotency key made one already."""
        return (await self.connection.execute(
            insert(stored_sales_reports).values(**row).on_conflict_do_nothing(
                constraint="stored_sales_reports_one_per_idempotency_key").returning(*stored_sales_reports.c))).first()

    async def stored_report_by_key(self, creator: str, key: str) -> Row | None:
        return (await self.connection.execute(sa.select(stored_sales_reports).where(
            stored_sales_reports.c.created_by == creator, stored_sales_reports.c.idempotency_key == key))).first()

    async def stored_report(self, report_id) -> Row | None:
        return (await self.connection.execute(
            sa.select(stored_sales_reports).where(stored_sales_reports.c.id == report_id))).first()

    async def stored_report_page(self, limit: int, after: tuple | None) -> list[Row]:
        return (await self.connection.execute(newest_first(
            sa.select(stored_sales_reports), stored_sales_reports.c.created_at, stored_sales_reports.c.id, after,
            limit))).all()
