"""payment's conversions between rows and protobuf messages."""
from decimal import Decimal

from autosalon.payment.v1 import payment_pb2
from services.kit import money
from services.kit.protos import audit, timestamp

from . import domain

METHOD = {
    domain.CARD: payment_pb2.PAYMENT_METHOD_CARD,
    domain.BANK_TRANSFER: payment_pb2.PAYMENT_METHOD_BANK_TRANSFER,
    domain.CASH: payment_pb2.PAYMENT_METHOD_CASH,
    domain.CREDIT: payment_pb2.PAYMENT_METHOD_CREDIT,
}
METHOD_NAME = {value: key for key, value in METHOD.items()}
STATUS = {
    domain.PENDING: payment_pb2.PAYMENT_STATUS_PENDING,
    domain.PROCESSING: payment_pb2.PAYMENT_STATUS_PROCESSING,
    domain.COMPLETED: payment_pb2.PAYMENT_STATUS_COMPLETED,
    domain.FAILED: payment_pb2.PAYMENT_STATUS_FAILED,
    domain.CANCELLED: payment_pb2.PAYMENT_STATUS_CANCELLED,
    domain.REFUNDING: payment_pb2.PAYMENT_STATUS_REFUNDING,
    domain.REFUNDED: payment_pb2.PAYMENT_STATUS_REFUNDED,
}
STATUS_NAME = {value: key for key, value in STATUS.items()}


def payment_to_proto(row, changes) -> payment_pb2.Payment:
    return payment_pb2.Payment(
        name=f"payments/{row.id}", customer=row.customer,
        **({"policy": row.order_id} if row.order_id.startswith("policies/") else {"order": row.order_id}),
        amount=money.to_proto(row.amount, row.currency), method=METHOD[row.method],
        status=STATUS[row.status], transaction_id=row.transaction_id,
        card_last_four=row.card_last_four, bank_reference=row.bank_reference,
        failure_reason=row.failure_reason, failure_code=row.failure_code, refund_reference=row.refund_reference,
        refund_problem=row.refund_problem, application=row.application,
        order_total=money.to_proto(row.order_total, row.currency),
        status_log=[payment_pb2.StatusChange(
            from_status=STATUS.get(change.from_status, payment_pb2.PAYMENT_STATUS_UNSPECIFIED),
            to_status=STATUS[change.to_status], change_time=timestamp(change.changed_at),
            actor=change.actor, reason=change.reason) for change in changes],
        audit=audit(row),
    )


def stats_to_proto(rows) -> payment_pb2.PaymentStats:
    """From (status, method, count, amount) groups."""
    by_status: dict[str, list] = {status: [0, Decimal("0")] for status in STATUS}
    by_method: dict[str, list] = {method: [0, Decimal("0")] for method in METHOD}
    for row in rows:
        by_status[row.status][0] += row.count
        by_status[row.status][1] += row.amount
        by_method[row.method][0] += row.count
        if row.status == domain.COMPLETED:
            by_method[row.method][1] += row.amount
    return payment_pb2.PaymentStats(
        by_status=[payment_pb2.StatusFigures(status=STATUS[status], count=count, amount=money.to_proto(amount))
                   for status, (count, amount) in by_status.items()],
        by_method=[payment_pb2.MethodFigures(method=METHOD[method], count=count,
                                             amount_completed=money.to_proto(amount))
                   for method, (count, amount) in by_method.items()],
        total_count=sum(count for count, _ in by_status.values()),
        amount_completed=money.to_proto(by_status[domain.COMPLETED][1]),
        queued_for_gateway=sum(row.count for row in rows
                               if row.method == domain.CARD and row.status == domain.PENDING),
    )
