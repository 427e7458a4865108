"""A service's shared runtime: settings, database, bus, Consul, peers and the gRPC server.

Every service's main.py starts with `runtime = await app.start(name, outbox)`, adds its
servicer and consumers, and awaits `runtime.service.run()`.
"""
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from autosalon.auth.v1 import auth_pb2

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
    accounts: identity.AccountStates


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
    accounts = identity.AccountStates()
    service.verifier = identity.TokenVerifier(identity.jwks_from_auth(peers), accounts)
    # Account changes as old as the oldest access token still out, then every new one.
    service.add_background(lambda: bus.follow_from(
        events, "auth", "autosalon.auth.user.>", timedelta(seconds=config.access_token_ttl_seconds),
        lambda envelope: _account_changed(accounts, envelope)))
    service.add_background(lambda: bus.relay_outbox(database, events))
    service.add_background(lambda: bus.keep_event_tables_short(database, config.event_retention_days))
    for close in (consul.close, discovery.close, peers.close, events.close, database.close):
        service.on_stop(close)
    return Runtime(config, database, events, consul, peers, service, accounts)


def _account_changed(accounts: identity.AccountStates, envelope) -> None:
    user = bus.payload(envelope, auth_pb2.UserEvent).user
    role = auth_pb2.Role.Name(user.role).removeprefix("ROLE_").lower()
    accounts.heard(user.name.removeprefix("users/"), role, user.active)
