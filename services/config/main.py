"""config's composition root."""
from autosalon.config.v1 import config_pb2
from services.kit import live_settings, runtime, server
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, ConfigApi
from .handlers import ConfigHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.ConfigRepository, auth.TRUST)
    handlers = ConfigHandlers(service.database, service.peers)
    bucket = await live_settings.open_bucket(service.bus)
    # What the bucket holds, again: NATS may have lost it (a new data folder) while we were down.
    for row in await handlers.ever_set():
        await events.store_value(bucket, row)
    service.serve(ConfigApi(handlers), config_pb2.DESCRIPTOR.services_by_name["ConfigService"], ACCESS)
    service.consume("settings-store", events.settings_store(bucket))
    await service.run()


if __name__ == "__main__":
    server.run(main)
