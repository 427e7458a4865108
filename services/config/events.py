"""What config consumes: its own setting changes, each stored in the NATS bucket that every
service watches for its hot settings (kit.live_settings), in the order they were made."""
from autosalon.common.v1 import common_pb2
from autosalon.config.v1 import config_pb2
from services.kit import live_settings
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork


def settings_store(bucket) -> Routes:
    async def changed(uow: UnitOfWork, event: config_pb2.SettingEvent, envelope: common_pb2.EventEnvelope) -> None:
        # The row as it is now, not as the event says: a redelivered older event stores the
        # newest value again instead of going back to the older one.
        row = await uow.repository.setting(event.setting.name.removeprefix("settings/"))
        if row is not None:
            await store_value(bucket, row)

    return {"autosalon.config.setting.changed": Route(config_pb2.SettingEvent, changed)}


async def store_value(bucket, row) -> None:
    await bucket.put(row.key, live_settings.stored(row.value, row.revision))
