"""notification's use cases so far: the templates (listed, previewed) and the customers'
preferences; the contacts kept from auth's account events."""
from autosalon.notification.v1 import notification_pb2
from services.kit.db import Database, now
from services.kit.identity import Identity
from services.kit.protos import acting_for, resource_id

from . import domain, templates
from .convert import preferences_to_proto, rendered_to_proto, template_to_proto
from .samples import SAMPLES


class NotificationHandlers:
    def __init__(self, database: Database):
        self.database = database

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
        """auth says how an account is now: where its messages go."""
        await uow.repository.keep_contact({
            "user_id": resource_id(user.name, "users"), "email": user.email, "full_name": user.full_name,
            "phone": user.phone, "active": user.active, "updated_at": at})
