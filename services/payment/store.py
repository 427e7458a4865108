"""payment's tables: payments and the log of their status changes."""
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert

from services.kit.idempotency import request_column
from services.kit.outbox import event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Prepared, Row
from services.peers.sales import CancelledOrders

from . import domain

metadata = sa.MetaData()
MONEY = sa.Numeric(14, 2)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    # What the payment pays: "orders/{uuid}", or an insurance policy's "policies/{uuid}".
    sa.Column("order_id", sa.Text, nullable=False),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("transaction_id", sa.Text, nullable=False, unique=True),
    sa.Column("card_last_four", sa.Text, nullable=False),
    sa.Column("bank_reference", sa.Text, nullable=False),
    sa.Column("failure_reason", sa.Text, nullable=False),
    sa.Column("failure_code", sa.Text, nullable=False, server_default=""),
    sa.Column("refund_reference", sa.Text, nullable=False, server_default=""),
    # Why the gateway refused a refund; staff then refund by other means.
    sa.Column("refund_problem", sa.Text, nullable=False, server_default=""),
    # Until when the instance holding a queued card payment's number vouches for it (renewed on
    # each pass of its queue); null when none does.
    sa.Column("card_held_until", sa.DateTime(timezone=True), nullable=True),
    # The loan that made a credit payment ("applications/{uuid}"), and the order's total then.
    sa.Column("application", sa.Text, nullable=False, server_default=""),
    sa.Column("order_total", MONEY, nullable=False),
    sa.Column("idempotency_key", sa.Text, nullable=False),
    request_column("idempotency_request"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)

status_log = sa.Table(
    "payment_status_log",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("payment_id", sa.Uuid, sa.ForeignKey("payments.id"), nullable=False),
    sa.Column("from_status", sa.Text, nullable=False),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

# Orders sales has cancelled, as heard from its events: no payment may start for them.
cancelled_orders = CancelledOrders(metadata)

outbox, consumed_events = event_tables(metadata)

# The statements a payment runs, built once (building one costs more CPU than sending it).
# A new payment's columns; the rest take their defaults.
_NEW = ("id", "order_id", "customer", "amount", "currency", "method", "status", "transaction_id",
        "card_last_four", "bank_reference", "failure_reason", "idempotency_key", "idempotency_request", "created_at",
        "updated_at", "created_by", "updated_by", "application", "order_total")


def _add_statement() -> Prepared:
    """Adds a payment unless its order was cancelled or a rule refuses it, with the first line
    of its log, in one round trip: the payment's columns and the line's, or no row."""
    values = sa.select(*(sa.bindparam(f"new_{name}", type_=payments.c[name].type) for name in _NEW))
    added = (insert(payments)
             .from_select(list(_NEW), values.where(~cancelled_orders.includes(sa.bindparam("new_order_id"))))
             .on_conflict_do_nothing().returning(*payments.c).cte("added"))
    logged = insert(status_log).from_select(
        ["payment_id", "from_status", "to_status", "changed_at", "actor", "reason"],
        sa.select(added.c.id, sa.literal("", sa.Text), added.c.status, added.c.created_at, added.c.created_by,
                  sa.literal("created", sa.Text)),
    ).returning(*(column for column in status_log.c if column.name != "payment_id")).cte("logged")
    return Prepared(sa.select(added, logged).select_from(added.join(logged, sa.true())))


# A move's log lines, in order, from arrays of their parts.
_LINES = sa.func.unnest(
    sa.bindparam("from_statuses", type_=ARRAY(sa.Text)), sa.bindparam("to_statuses", type_=ARRAY(sa.Text)),
    sa.bindparam("reasons", type_=ARRAY(sa.Text)),
).table_valued("from_status", "to_status", "reason", with_ordinality="position").render_derived("line")

_ADD = _add_statement()
_BY_ID = sa.select(payments).where(payments.c.id == sa.bindparam("payment_id"))
_READ = Prepared(_BY_ID)
_READ_FOR_UPDATE = Prepared(_BY_ID.with_for_update())
_BY_KEY = Prepared(sa.select(payments).where(
    payments.c.created_by == sa.bindparam("creator"), payments.c.idempotency_key == sa.bindparam("key")))
# SET follows the values given; the keys' names must not be columns' names.
_UPDATE = payments.update().where(payments.c.id == sa.bindparam("key_id"))
_CHANGE = Prepared(_UPDATE)
_MOVE = Prepared(_UPDATE.where(payments.c.status == sa.bindparam("key_status")).returning(*payments.c))


def _log_statement() -> Prepared:
    """Adds a move's lines to the payment's log and returns the whole log, in one round trip
    (the lines before it are read as of the statement's start, so none comes twice)."""
    logged = insert(status_log).from_select(
        ["payment_id", "from_status", "to_status", "changed_at", "actor", "reason"],
        sa.select(sa.bindparam("payment_id", type_=sa.Uuid), _LINES.c.from_status, _LINES.c.to_status,
                  sa.bindparam("changed_at", type_=status_log.c.changed_at.type),
                  sa.bindparam("actor", type_=sa.Text), _LINES.c.reason).order_by(_LINES.c.position),
    ).returning(*status_log.c).cte("logged")
    earlier = sa.select(status_log).where(status_log.c.payment_id == sa.bindparam("payment_id"))
    whole = sa.union_all(earlier, sa.select(logged)).subquery()
    return Prepared(sa.select(whole).order_by(whole.c.seq))


_LOG = _log_statement()
# What the order's live payments (under way or completed) hold, and its completed ones.
_ORDER_SUMS = Prepared(sa.select(
    sa.func.coalesce(sa.func.sum(payments.c.amount), 0).label("held"),
    sa.func.coalesce(sa.func.sum(payments.c.amount).filter(payments.c.status == domain.COMPLETED), 0).label("paid"),
).where(payments.c.order_id == sa.bindparam("order_id"),
         payments.c.status == sa.any_(sa.literal(list(domain.LIVE), ARRAY(sa.Text)))))
_LOG_OF = Prepared(sa.select(status_log).where(
    status_log.c.payment_id == sa.any_(sa.bindparam("payment_ids", type_=ARRAY(sa.Uuid))))
    .order_by(status_log.c.seq))


class PaymentRepository:
    def __init__(self, connection: Connection):
        self.connection = connection
        self.cancelled_orders = cancelled_orders.on(connection)

    async def add(self, row: dict) -> Row | None:
        """The payment as stored, with its log's first line (`seq`, `from_status`, `to_status`,
        `changed_at`, `actor`, `reason`); None when its order was cancelled (hold the order's
        lock first) or a rule refused it (this idempotency key was used, or its loan paid
        already)."""
        return (await self.connection.execute(_ADD, {f"new_{name}": row[name] for name in _NEW})).first()

    async def order_sums(self, order_id: str) -> Row:
        """`held`: what the order's payments under way or completed add up to; `paid`: its
        completed ones. Exact under the order's lock."""
        return (await self.connection.execute(_ORDER_SUMS, {"order_id": order_id})).first()

    async def by_key(self, creator: str, key: str) -> Row | None:
        """The payment `creator` made with this idempotency key, if any."""
        return (await self.connection.execute(_BY_KEY, {"creator": creator, "key": key})).first()

    async def by_id(self, payment_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = _READ_FOR_UPDATE if for_update else _READ
        return (await self.connection.execute(query, {"payment_id": payment_id})).first()

    async def log_of(self, payment_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Row]]:
        found: dict[uuid.UUID, list[Row]] = {payment_id: [] for payment_id in payment_ids}
        for row in await self.connection.execute(_LOG_OF, {"payment_ids": payment_ids}):
            found[row.payment_id].append(row)
        return found

    async def move(self, payment_id: uuid.UUID, status: str, steps: list[tuple[str, str]], actor: str,
                   values: dict, moment: datetime) -> tuple[Row, list[Row]] | None:
        """Takes the payment from `status` through `steps`, (status, reason) pairs, each a legal
        transition and a line in its log: the payment as it is now, and its whole log. None,
        with nothing written, when it was no longer in `status`."""
        lines = []
        for wanted, reason in steps:
            domain.check_transition(status, wanted)
            lines.append((status, wanted, reason))
            status = wanted
        moved = (await self.connection.execute(_MOVE, {
            "key_id": payment_id, "key_status": lines[0][0], "status": status, "updated_at": moment,
            "updated_by": actor, **values})).first()
        if moved is None:
            return None
        from_statuses, to_statuses, reasons = (list(parts) for parts in zip(*lines))
        log = await self.connection.execute(_LOG, {
            "payment_id": payment_id, "from_statuses": from_statuses, "to_statuses": to_statuses,
            "reasons": reasons, "changed_at": moment, "actor": actor})
        return moved, log.all()

    async def note_refund_problem(self, payment_id: uuid.UUID, problem: str, moment: datetime) -> None:
        await self.connection.execute(_CHANGE, {
            "key_id": payment_id, "refund_problem": problem[:domain.REASON_MAX], "updated_at": moment})

    async def page(self, status: str | None, order: str, customer: str | None, limit: int,
                   after: tuple | None) -> list[Row]:
        """A page of payments, newest first, narrowed to one status, order or customer when named."""
        conditions = []
        if status:
            conditions.append(payments.c.status == status)
        if order:
            conditions.append(payments.c.order_id == order)
        if customer:
            conditions.append(payments.c.customer == customer)
        query = sa.select(payments).where(*conditions)
        return list(await self.connection.execute(
            newest_first(query, payments.c.created_at, payments.c.id, after, limit)))

    async def waiting_for_gateway(self, status: str, older_than: datetime) -> list[Row]:
        """Card payments in `status` (pending: a charge; refunding: a refund) the queue owes the
        gateway, oldest first."""
        return list(await self.connection.execute(sa.select(payments).where(
            payments.c.method == domain.CARD, payments.c.status == status,
            payments.c.refund_problem == "", payments.c.updated_at < older_than).order_by(payments.c.created_at).limit(100)))

    async def vouch_for_cards(self, payment_ids: list[uuid.UUID], until: datetime) -> set[uuid.UUID]:
        """Marks the pending ones of `payment_ids` as having their card held by a live instance
        until `until`; returns those (the others were settled meanwhile)."""
        held = await self.connection.execute(
            payments.update().where(payments.c.id == sa.any_(sa.literal(payment_ids, ARRAY(sa.Uuid))),
                                    payments.c.status == domain.PENDING)
            .values(card_held_until=until).returning(payments.c.id))
        return set(held.scalars())

    async def live_for_order(self, order_id: str) -> list[Row]:
        return list(await self.connection.execute(sa.select(payments).where(
            payments.c.order_id == order_id, payments.c.status.in_(domain.LIVE))))

    async def stats(self, start: datetime | None, end: datetime | None) -> list[Row]:
        """Count and amount of the payments made in [start, end), by status and method."""
        conditions = []
        if start:
            conditions.append(payments.c.created_at >= start)
        if end:
            conditions.append(payments.c.created_at < end)
        return list(await self.connection.execute(
            sa.select(payments.c.status, payments.c.method, sa.func.count().label("count"),
                      sa.func.coalesce(sa.func.sum(payments.c.amount), 0).label("amount"))
            .where(*conditions).group_by(payments.c.status, payments.c.method)))
