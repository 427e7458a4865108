"""config's use cases: settings and their changes, branches, salespeople. Each change is one
unit of work with its event."""
import uuid

from autosalon.auth.v1 import auth_pb2
from autosalon.config.v1 import config_pb2
from services.kit import paging
from services.kit.calls import Peers
from services.kit.db import Database, now
from services.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, each_field
from services.kit.identity import Identity
from services.kit.protos import check_etag, referenced_id, slug_of
from services.peers import auth

from . import domain
from .convert import (
    VALUE_TYPE_NAME, branch_to_proto, change_to_proto, definition_of, openings_from, openings_json,
    salesperson_to_proto, setting_to_proto,
)

BRANCH_FIELDS = {"display_name", "address", "time_zone", "hours", "days_off", "active"}
SALESPERSON_FIELDS = {"display_name", "branch", "active"}


class ConfigHandlers:
    def __init__(self, database: Database, peers: Peers):
        self.database = database
        self.peers = peers

    # Settings.

    async def list_settings(self, category: str, service: str, requested_size: int, page_token: str
                            ) -> tuple[list[config_pb2.Setting], str]:
        size, query = paging.page_size(requested_size), {"category": category, "service": service}
        after = paging.text_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.setting_page(category, service, size + 1, after)
        shown = rows[:size]
        token = paging.encode_token([shown[-1].key], query) if len(rows) > size else ""
        return [setting_to_proto(row) for row in shown], token

    async def get_setting(self, key: str) -> config_pb2.Setting:
        async with self.database.reading() as uow:
            return setting_to_proto(await _found_setting(uow.repository, key))

    async def create_setting(self, caller: Identity, key: str, setting: config_pb2.Setting) -> config_pb2.Setting:
        domain.check_key(key)
        if setting.value_type not in VALUE_TYPE_NAME:
            raise InvalidArgument({"setting.value_type": "is required: string, int, decimal, duration, bool or json"})
        rules = domain.definition(VALUE_TYPE_NAME[setting.value_type], setting.minimum, setting.maximum,
                                  tuple(setting.choices), setting.json_schema)
        value = domain.check_value(setting.value, rules)
        default = domain.check_value(setting.default_value, rules, "setting.default_value")
        category = domain.check_category(setting.category or domain.OWN_CATEGORY)
        description = domain.check_text(setting.description, "setting.description")
        created = now()
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            if key.split(".")[0] in await repository.declaring_services():
                raise InvalidArgument({"setting_id": f"{key.split('.')[0]}'s settings are declared by that service"})
            row = await repository.add_setting({
                "key": key, "value_type": rules.value_type, "value": value, "default_value": default,
                "category": category, "description": description, "minimum": rules.minimum,
                "maximum": rules.maximum, "choices": list(rules.choices), "json_schema": rules.json_schema,
                "service": "", "revision": 1 if value else 0, "created_at": created, "updated_at": created,
                "created_by": caller.user_name, "updated_by": caller.user_name})
            if row is None:
                raise AlreadyExists(f"settings/{key} exists")
            if value:
                await repository.record_change({"key": key, "revision": 1, "value_before": "", "value_after": value,
                                                "changed_by": caller.user_name, "changed_at": created})
            created_setting = setting_to_proto(row)
            await uow.emit("setting.changed", created_setting.name, config_pb2.SettingEvent(setting=created_setting))
            return created_setting

    async def update_setting(self, caller: Identity, key: str, setting: config_pb2.Setting, fields: set[str]
                             ) -> config_pb2.Setting:
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await _found_setting(repository, key, for_update=True)
            check_etag(setting.etag, current.revision, f"settings/{key}", "setting.etag")
            if current.service and fields - {"value"}:
                raise InvalidArgument({"update_mask": f"only the value of {current.service}'s setting may change"})
            changes = {}
            if "value" in fields:
                value = domain.check_value(setting.value, definition_of(current))
                if value != current.value:
                    changes.update(value=value, revision=current.revision + 1)
            if "description" in fields:
                changes["description"] = domain.check_text(setting.description, "setting.description")
            if "category" in fields:
                changes["category"] = domain.check_category(setting.category or domain.OWN_CATEGORY)
            if all(getattr(current, name) == value for name, value in changes.items()):
                return setting_to_proto(current)  # a retried change
            at = now()
            row = await repository.change_setting(key, {**changes, "updated_at": at, "updated_by": caller.user_name})
            if "revision" in changes:
                await repository.record_change({
                    "key": key, "revision": row.revision, "value_before": current.value, "value_after": row.value,
                    "changed_by": caller.user_name, "changed_at": at})
            changed = setting_to_proto(row)
            await uow.emit("setting.changed", changed.name, config_pb2.SettingEvent(setting=changed))
            return changed

    async def list_changes(self, key: str, requested_size: int, page_token: str
                           ) -> tuple[list[config_pb2.SettingChange], str]:
        size, query = paging.page_size(requested_size), {"key": key}
        before = paging.sequence_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            await _found_setting(uow.repository, key)
            rows = await uow.repository.change_page(key, size + 1, before)
        shown = rows[:size]
        token = paging.encode_token([shown[-1].revision], query) if len(rows) > size else ""
        return [change_to_proto(row) for row in shown], token

    async def ever_set(self) -> list:
        """Every setting whose value was ever set or cleared here: what the bucket holds."""
        async with self.database.reading() as uow:
            return await uow.repository.ever_set()

    # Branches.

    async def list_branches(self, caller: Identity | None, show_inactive: bool, requested_size: int,
                            page_token: str) -> tuple[list[config_pb2.Branch], str]:
        if show_inactive and (caller is None or not caller.is_staff):
            raise InvalidArgument({"show_inactive": "only staff see closed branches"})
        size, query = paging.page_size(requested_size), {"show_inactive": show_inactive}
        after = paging.text_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.branch_page(show_inactive, size + 1, after)
        shown = rows[:size]
        token = paging.encode_token([shown[-1].id], query) if len(rows) > size else ""
        return [branch_to_proto(row) for row in shown], token

    async def get_branch(self, branch_id: str) -> config_pb2.Branch:
        async with self.database.reading() as uow:
            return branch_to_proto(await _found_branch(uow.repository, branch_id))

    async def create_branch(self, caller: Identity, branch_id: str, branch: config_pb2.Branch) -> config_pb2.Branch:
        domain.check_branch_id(branch_id)
        values = _branch_values(branch, BRANCH_FIELDS - {"active"})
        created = now()
        async with self.database.unit_of_work() as uow:
            row = await uow.repository.add_branch({
                "id": branch_id, **values, "active": True, "version": 1, "created_at": created,
                "updated_at": created, "created_by": caller.user_name, "updated_by": caller.user_name})
            if row is None:
                raise AlreadyExists(f"branches/{branch_id} exists")
            made = branch_to_proto(row)
            await uow.emit("branch.created", made.name, config_pb2.BranchEvent(branch=made))
            return made

    async def update_branch(self, caller: Identity, branch_id: str, branch: config_pb2.Branch, fields: set[str]
                            ) -> config_pb2.Branch:
        values = _branch_values(branch, fields)
        async with self.database.unit_of_work() as uow:
            current = await _found_branch(uow.repository, branch_id, for_update=True)
            check_etag(branch.etag, current.version, f"branches/{branch_id}", "branch.etag")
            if all(getattr(current, name) == value for name, value in values.items()):
                return branch_to_proto(current)
            row = await uow.repository.change_branch(
                branch_id, {**values, "updated_at": now(), "updated_by": caller.user_name})
            changed = branch_to_proto(row)
            await uow.emit("branch.changed", changed.name, config_pb2.BranchEvent(branch=changed))
            return changed

    # Salespeople.

    async def list_salespeople(self, branch: str, requested_size: int, page_token: str
                               ) -> tuple[list[config_pb2.Salesperson], str]:
        branch_id = slug_of(branch, "branches", "branch") if branch else ""
        size, query = paging.page_size(requested_size), {"branch": branch_id}
        after = paging.uuid_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.salesperson_page(branch_id, size + 1, after)
        shown = rows[:size]
        token = paging.encode_token([str(shown[-1].id)], query) if len(rows) > size else ""
        return [salesperson_to_proto(row) for row in shown], token

    async def get_salesperson(self, person_id: uuid.UUID) -> config_pb2.Salesperson:
        async with self.database.reading() as uow:
            return salesperson_to_proto(await _found_salesperson(uow.repository, person_id))

    async def create_salesperson(self, caller: Identity, person: config_pb2.Salesperson) -> config_pb2.Salesperson:
        user_id = referenced_id(person.user, "users", "salesperson.user")
        display_name = domain.check_name(person.display_name, "salesperson.display_name")
        branch_id = slug_of(person.branch, "branches", "salesperson.branch")
        user = await auth.get_user(self.peers, f"users/{user_id}")
        if user.role != auth_pb2.ROLE_MANAGER or not user.active:
            raise FailedPrecondition(f"users/{user_id} is not an active manager: only managers sell", domain.NOT_A_MANAGER)
        created = now()
        async with self.database.unit_of_work() as uow:
            await _open_branch(uow.repository, branch_id, "salesperson.branch")
            row = await uow.repository.add_salesperson({
                "id": user_id, "display_name": display_name, "branch_id": branch_id, "active": True, "version": 1,
                "created_at": created, "updated_at": created, "created_by": caller.user_name,
                "updated_by": caller.user_name})
            if row is None:
                raise AlreadyExists(f"users/{user_id} is already salespeople/{user_id}")
            made = salesperson_to_proto(row)
            await uow.emit("salesperson.created", made.name, config_pb2.SalespersonEvent(salesperson=made))
            return made

    async def update_salesperson(self, caller: Identity, person_id: uuid.UUID, person: config_pb2.Salesperson,
                                 fields: set[str]) -> config_pb2.Salesperson:
        values = {}
        if "display_name" in fields:
            values["display_name"] = domain.check_name(person.display_name, "salesperson.display_name")
        if "branch" in fields:
            values["branch_id"] = slug_of(person.branch, "branches", "salesperson.branch")
        if "active" in fields:
            values["active"] = person.active
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await _found_salesperson(repository, person_id, for_update=True)
            check_etag(person.etag, current.version, f"salespeople/{person_id}", "salesperson.etag")
            if values.get("branch_id", current.branch_id) != current.branch_id:
                await _open_branch(repository, values["branch_id"], "salesperson.branch")
            if all(getattr(current, name) == value for name, value in values.items()):
                return salesperson_to_proto(current)
            row = await repository.change_salesperson(person_id, {**values, "updated_at": now(),
                                                                  "updated_by": caller.user_name})
            changed = salesperson_to_proto(row)
            await uow.emit("salesperson.changed", changed.name, config_pb2.SalespersonEvent(salesperson=changed))
            return changed


async def _found_setting(repository, key: str, for_update: bool = False):
    row = await repository.setting(key, for_update)
    if row is None:
        raise NotFound(f"settings/{key} does not exist")
    return row


async def _found_branch(repository, branch_id: str, for_update: bool = False):
    row = await repository.branch(branch_id, for_update)
    if row is None:
        raise NotFound(f"branches/{branch_id} does not exist")
    return row


async def _open_branch(repository, branch_id: str, field: str) -> None:
    row = await repository.branch(branch_id)
    if row is None or not row.active:
        raise FailedPrecondition(f"branches/{branch_id} is not an open branch ({field})", domain.BRANCH_CLOSED)


async def _found_salesperson(repository, person_id: uuid.UUID, for_update: bool = False):
    row = await repository.salesperson(person_id, for_update)
    if row is None:
        raise NotFound(f"salespeople/{person_id} does not exist")
    return row


def _branch_values(branch: config_pb2.Branch, fields: set[str]) -> dict:
    """The columns `fields` of `branch` stand for, each checked; every problem named at once."""
    readers = {
        "display_name": lambda: domain.check_name(branch.display_name, "branch.display_name"),
        "address": lambda: domain.check_name(branch.address, "branch.address"),
        "time_zone": lambda: domain.check_time_zone(branch.time_zone),
        "hours": lambda: openings_json(domain.check_hours(openings_from(branch.hours))),
        "days_off": lambda: [day.isoformat() for day in domain.check_days_off(list(branch.days_off))],
        "active": lambda: branch.active,
    }
    return each_field(readers, fields)
