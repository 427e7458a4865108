"""A service's shared runtime: settings, database, bus, Consul, peers and the gRPC server.

Every service's main.py starts with `runtime = await app.start(name, outbox)`, adds its
servicer and consumers, and awaits `runtime.service.run()`.
"""
from dataclasses import dataclass

import sqlalchemy as sa

from . import bus, identity, logs, settings
from .calls import Peers
from .db import Database
from .registry import Consul, Discovery
from .server import Microservice


@dataclass
class Runtime:
    config: settings.Settings
    database: Database
    bus: bus.Bus
    consul: Consul
    peers: Peers
    service: Microservice


async def start(name: str, outbox: sa.Table) -> Runtime:
    logs.configure(name)
    config = settings.load()
    database = Database(config.database_url(name), name, outbox)
    events = bus.Bus(config.nats_url, config.event_retention_days)
    await events.connect()
    consul = Consul(config.consul_addr)
    discovery = Discovery(consul)
    peers = Peers(discovery)
    service = Microservice(name, consul, config.bind_host, config.advertise_host)
    service.verifier = identity.TokenVerifier(identity.jwks_from_auth(peers))
    service.add_background(lambda: bus.relay_outbox(database, events))
    service.add_background(lambda: bus.keep_event_tables_short(database, config.event_retention_days))
    for close in (consul.close, discovery.close, peers.close, events.close, database.close):
        service.on_stop(close)
    return Runtime(config, database, events, consul, peers, service)
