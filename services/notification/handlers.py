"""notification's use cases: the templates (listed, previewed), the customers' preferences, the
contacts kept from auth's account events and CRM's profiles, and the notifications: written when
their event comes, once per event and channel, then sent with retries.

Sending, once: a notification is marked `sending` (one more attempt) and committed just before
it leaves, then marked sent or pending again (with its next attempt's time) or failed. An
instance that stops between the two leaves that one `sending`; after `interrupted_seconds`
another instance finds it. An SMS or a push is then sent again, since its provider takes a
message once by its id; an email is marked failed instead ("not sent twice"), since SMTP cannot
tell whether the first one left.
"""
import datetime
import logging
import random
import uuid

from autosalon.notification.v1 import notification_pb2
from services.kit import money, paging
from services.kit.db import Database, now
from services.kit.errors import InvalidArgument, NotFound, Unavailable
from services.kit.identity import Identity
from services.kit.protos import acting_for, resource_id
from services.peers import booking as peer_booking
from services.peers import config

from . import domain, templates
from .channels import Channels
from .convert import CHANNEL_NAME, PRODUCT_CODE, STATUS_NAME, notification_to_proto, preferences_to_proto, rendered_to_proto, \
    template_to_proto
from .samples import SAMPLES
from .store import notifications

log = logging.getLogger(__name__)
BATCH = 20


def order_number(name: str) -> str:
    """What a customer calls an order: the first eight characters of its id, "orders/3f2a…" -> "3F2A…"."""
    return name.rsplit("/", 1)[-1][:8].upper()


class NotificationHandlers:
    def __init__(self, database: Database, channels: Channels | None = None, settings=None, peers=None):
        self.database = database
        self.channels = channels
        self.peers = peers
        # Hot: the retries' first wait and their number.
        self.settings = settings

    @staticmethod
    def list_templates() -> list[notification_pb2.Template]:
        return [template_to_proto(kind) for kind in templates.KINDS]

    @staticmethod
    def render(kind: str, language: str, data: dict | None) -> notification_pb2.RenderedMessage:
        """The template's message for `data`, or for its sample data when there is none."""
        return rendered_to_proto(templates.render(kind, language or "ru", SAMPLES.get(kind, {}) if data is None else data))

    async def get_preferences(self, caller: Identity, customer: str) -> notification_pb2.Preferences:
        customer = acting_for(caller, customer, "customer", staff_must_name=False)
        async with self.database.reading() as uow:
            row = await uow.repository.preferences(customer)
            contact = await uow.repository.contact(resource_id(customer, "users", "customer"))
        return preferences_to_proto(customer, row, contact)

    async def update_preferences(self, caller: Identity, wanted: notification_pb2.Preferences, fields: set[str]
                                 ) -> notification_pb2.Preferences:
        """The caller's own choices, changed as `fields` say; the rest kept (or the defaults)."""
        customer = caller.user_name
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await repository.preferences(customer)
            values = {name: (getattr(current, name) if current is not None else domain.DEFAULTS[name])
                      for name in ("language", *domain.MESSAGE_KINDS)}
            if "language" in fields:
                values["language"] = domain.check_language(wanted.language)
            for kind in domain.MESSAGE_KINDS:
                if kind in fields:
                    choice = getattr(wanted, kind)
                    values[kind] = domain.check_choices(kind, {channel: getattr(choice, channel)
                                                               for channel in domain.CHANNELS})
            row = await repository.save_preferences({"customer": customer, **values, "updated_at": now(),
                                                     "updated_by": caller.user_name})
            contact = await repository.contact(resource_id(customer, "users", "customer"))
        return preferences_to_proto(customer, row, contact)

    async def account_changed(self, uow, user, at) -> None:
        """auth says how an account is now: whether it is active, and where its messages go."""
        await uow.repository.keep_contact({
            "user_id": resource_id(user.name, "users"), "email": user.email, "full_name": user.full_name,
            "phone": user.phone, "active": user.active, "updated_at": at})

    async def profile_changed(self, uow, customer, at) -> None:
        """CRM says how a registered customer's profile is now: the email and phone staff keep
        there (a walk-in, with no account, receives nothing)."""
        if customer.user:
            await uow.repository.keep_contact({
                "user_id": resource_id(customer.user, "users"), "email": customer.email,
                "full_name": customer.full_name, "phone": customer.phone, "updated_at": at})

    async def welcome(self, uow, user, event_id: uuid.UUID) -> None:
        """A registration's welcome, on the customer's channels."""
        await self.write(uow, event_id, "welcome", user.name, {"action_url": f"{self.settings.public_url}/catalog/models"})

    async def order_changed(self, uow, kind: str, order, event_id: uuid.UUID) -> None:
        """An order's confirmation, payment, hand-over or cancellation, to its customer."""
        total = money.published(order.total)
        facts = {"number": order_number(order.name), "vehicle": order.vehicle_title or order.vehicle}
        if kind == "order_confirmed":
            facts["total"] = total
        if kind == "order_cancelled":
            facts["reason"] = order.cancel_reason or "—"
        data = {"action_url": f"{self.settings.public_url}/sales/{order.name}", "order": facts}
        if kind == "order_paid":
            data["payment"] = {"amount": total}
        await self.write(uow, event_id, kind, order.customer, data)

    async def booking_changed(self, uow, kind: str, booking, event_id: uuid.UUID) -> None:
        """A workshop booking made, moved, cancelled, or coming soon, to its customer: the job's
        and the branch's names, the time in the branch's zone (booking and config asked)."""
        branch = await config.get_branch(self.peers, booking.branch.removeprefix("branches/"))
        jobs = await peer_booking.job_type_names(self.peers)
        facts = {"job": jobs.get(booking.job_type, booking.job_type.removeprefix("job-types/")),
                 "branch": branch.display_name, "address": branch.address, "time_zone": branch.time_zone,
                 "start": booking.start_time.ToDatetime(tzinfo=datetime.timezone.utc), "vin": booking.vin}
        if kind == "booking_cancelled":
            facts["reason"] = booking.cancel_reason or "—"
        await self.write(uow, event_id, kind, booking.customer,
                         {"action_url": f"{self.settings.public_url}/service/{booking.name}", "booking": facts})

    async def payment_changed(self, uow, kind: str, payment, event_id: uuid.UUID) -> None:
        """An order's payment that failed or was refunded, to its payer. A policy's premium is
        paid while its buyer waits for the answer, and its refund comes with the cancellation
        they asked for: neither is told again."""
        if not payment.order:
            return
        facts = {"amount": money.published(payment.amount)}
        if kind == "payment_failed":
            facts["reason"] = payment.failure_reason or "—"
        await self.write(uow, event_id, kind, payment.customer, {
            "action_url": f"{self.settings.public_url}/sales/{payment.order}", "order": {
                "number": order_number(payment.order)}, "payment": facts})

    async def loan_decided(self, uow, kind: str, application, event_id: uuid.UUID) -> None:
        """A loan application approved (the terms granted) or rejected (the rules' reasons that
        counted against it, or the manager's words), to its applicant."""
        facts = {"number": order_number(application.name)}
        if kind == "loan_approved":
            facts.update(loan_amount=money.published(application.loan_amount),
                         monthly_payment=money.published(application.monthly_payment),
                         annual_rate=application.annual_rate, term_months=application.term_months)
        else:
            facts.update(reasons=[code for code in application.decision_reasons if code in domain.REFUSAL_REASONS],
                         note="" if application.decided_by == domain.CREDIT_RULES else application.decision_note)
        await self.write(uow, event_id, kind, application.customer,
                         {"action_url": f"{self.settings.public_url}/financing/{application.name}",
                          "application": facts})

    async def policy_changed(self, uow, kind: str, policy, event_id: uuid.UUID) -> None:
        """A policy the insurer issued, or one that ends soon, to its holder."""
        facts = {"number": policy.policy_number, "product": PRODUCT_CODE[policy.product],
                 "ends_on": datetime.date.fromisoformat(policy.ends_on)}
        if kind == "policy_issued":
            facts.update(starts_on=datetime.date.fromisoformat(policy.starts_on),
                         premium=money.published(policy.premium))
        await self.write(uow, event_id, kind, policy.customer,
                         {"action_url": f"{self.settings.public_url}/insurance/{policy.name}", "policy": facts})

    async def account_link(self, uow, kind: str, user, token: str, expires: datetime.datetime,
                           event_id: uuid.UUID) -> None:
        """An account's link (verify the address, reset the password), to the address auth names."""
        page = {"email_verification": "verify-email", "password_reset": "reset-password"}[kind]
        await self.write_account_email(uow, event_id, kind, user, user.email, {
            "action_url": f"{self.settings.public_url}/account/{page}?token={token}",
            "account": {"email": user.email, "expires": expires, "time_zone": self.settings.time_zone}})

    async def account_secured(self, uow, kind: str, event, at: datetime.datetime, event_id: uuid.UUID) -> None:
        """A changed password told to the account's address; a changed address told to the old one."""
        user = event.user
        account = {"email": user.email, "changed_at": at, "time_zone": self.settings.time_zone}
        if kind == "email_changed":
            account["previous_email"] = event.previous_email
            await self.write_account_email(uow, event_id, kind, user, event.previous_email,
                                           {"action_url": f"{self.settings.public_url}/contacts", "account": account})
            return
        await self.write_account_email(uow, event_id, kind, user, user.email, {
            "action_url": f"{self.settings.public_url}/account/forgot-password", "account": account})

    async def write(self, uow, event_id: uuid.UUID, kind: str, customer: str, data: dict) -> None:
        """The event's message to `customer`, written in their language, one notification a
        channel they chose that has somewhere to go; a redelivered event writes none again."""
        repository = uow.repository
        prefs = await repository.preferences(customer)
        choices = prefs._asdict() if prefs is not None else domain.DEFAULTS
        contact = await repository.contact(resource_id(customer, "users", "customer"))
        if contact is None or not contact.active:
            log.info("%s for %s not written: no active account known", kind, customer)
            return
        language = choices["language"]
        message = templates.render(kind, language, {"customer_name": contact.full_name, **data})
        targets = domain.channels_for(domain.MESSAGE_KIND[kind], choices[domain.MESSAGE_KIND[kind]], contact.email,
                                      contact.phone)
        await self._record(repository, event_id, kind, customer, language, message, targets)

    async def write_account_email(self, uow, event_id: uuid.UUID, kind: str, user, address: str, data: dict) -> None:
        """An account message: one email to `address`, whatever the channels chosen, in the
        account's language."""
        repository = uow.repository
        prefs = await repository.preferences(user.name)
        language = prefs.language if prefs is not None else domain.DEFAULTS["language"]
        message = templates.render(kind, language, {"customer_name": user.full_name, **data})
        await self._record(repository, event_id, kind, user.name, language, message, {"email": address})

    @staticmethod
    async def _record(repository, event_id: uuid.UUID, kind: str, customer: str, language: str,
                      message: templates.Rendered, targets: dict[str, str]) -> None:
        """One notification a channel, to its recipient; none again for a redelivered event."""
        at = now()
        for channel, recipient in targets.items():
            await repository.add_notification({
                "id": uuid.uuid4(), "event_id": event_id, "customer": customer, "channel": channel, "kind": kind,
                "recipient": customer if channel == "push" else recipient, "language": language,
                "subject": message.push_title if channel == "push" else message.subject, "text": message.text,
                "html": message.html, "short_text": message.sms if channel == "sms" else message.push_body,
                "status": domain.PENDING, "attempts": 0, "last_error": "", "next_attempt_at": at,
                "provider_reference": "", "created_at": at, "updated_at": at})

    async def send_due(self) -> bool:
        """One pass: the pending notifications due, each taken and sent in turn (so that an
        instance stopped mid-send leaves only that one `sending`); True when a full batch was
        due (more wait)."""
        async with self.database.reading() as uow:
            due = await uow.repository.due(now(), BATCH)
        for notification_id in due:
            async with self.database.unit_of_work() as uow:
                row = await uow.repository.take(notification_id, now())
            if row is not None:
                await self._send(row)
        return len(due) == BATCH

    async def _send(self, row) -> None:
        try:
            reference = await self.channels.send(row)
        except Unavailable as outage:
            await self._failed_attempt(row, outage.message, final=row.attempts >= self.settings.max_attempts)
        except InvalidArgument as refused:
            await self._failed_attempt(row, "; ".join(text for _, text in refused.violations), final=True)
        else:
            sent = {"status": domain.SENT, "provider_reference": reference, "sent_at": now(), "last_error": ""}
            if row.kind in domain.WITH_SECRETS:
                sent.update(text="", html="")  # the link's token is kept nowhere once it left
            await self._finish(row, sent, "notification.sent")

    async def _failed_attempt(self, row, error: str, final: bool) -> None:
        if final:
            await self._finish(row, {"status": domain.FAILED, "last_error": error[:500]}, "notification.failed")
            return
        wait = domain.retry_wait(row.attempts, self.settings.retry_seconds, random.random())
        await self._finish(row, {"status": domain.PENDING, "last_error": error[:500],
                                 "next_attempt_at": now() + datetime.timedelta(seconds=wait)}, None)

    async def _finish(self, row, values: dict, event: str | None) -> None:
        async with self.database.unit_of_work() as uow:
            finished = await uow.repository.finish(row.id, {**values, "updated_at": now()})
            if finished is not None and event is not None:
                notification = notification_to_proto(finished)
                await uow.emit(event, notification.name, notification_pb2.NotificationEvent(notification=notification))

    async def recover_interrupted(self) -> None:
        """Notifications an instance left sending: SMS and push pending again, emails failed."""
        async with self.database.unit_of_work() as uow:
            found = await uow.repository.interrupted(
                now() - datetime.timedelta(seconds=self.settings.interrupted_seconds))
            for row in found:
                if row.channel in domain.RESENDABLE:
                    await uow.repository.finish(row.id, {"status": domain.PENDING, "updated_at": now(),
                                                         "last_error": "interrupted while sending; sent again"})
                    continue
                failed = await uow.repository.finish(row.id, {
                    "status": domain.FAILED, "updated_at": now(),
                    "last_error": "interrupted while sending: whether it left is unknown, so it is not sent twice"})
                notification = notification_to_proto(failed)
                await uow.emit("notification.failed", notification.name,
                               notification_pb2.NotificationEvent(notification=notification))

    async def list_notifications(self, caller: Identity, customer: str, status: int, channel: int,
                                 requested_size: int, page_token: str) -> tuple[list[notification_pb2.Notification], str]:
        table_conditions = []
        whose = acting_for(caller, customer, "customer", staff_must_name=False) if customer or not caller.is_staff \
            else ""
        if whose:
            table_conditions.append(notifications.c.customer == whose)
        if status:
            table_conditions.append(notifications.c.status == STATUS_NAME[status])
        if channel:
            table_conditions.append(notifications.c.channel == CHANNEL_NAME[channel])
        size = paging.page_size(requested_size)
        query = {"customer": whose, "status": status, "channel": channel}
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.notification_page(table_conditions, size, after)
        shown, token = paging.newest_page(rows, size, query)
        return [notification_to_proto(row) for row in shown], token

    async def get_notification(self, caller: Identity, notification_id: uuid.UUID) -> notification_pb2.Notification:
        async with self.database.reading() as uow:
            row = await uow.repository.notification(notification_id)
        if row is None or (not caller.is_staff and row.customer != caller.user_name):
            raise NotFound(f"notifications/{notification_id} does not exist")
        return notification_to_proto(row)
