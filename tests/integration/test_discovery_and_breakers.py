"""Finding peers through Consul and calling them through breakers, against the real mesh."""
import asyncio
import socket
import uuid

import pytest

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from services.kit import errors
from services.kit.calls import Peers
from services.kit.registry import Consul, Discovery
from services.kit.server import Microservice
from services.peers import auth


@pytest.fixture
async def peers(mesh):
    consul = Consul(mesh.consul_addr, mesh.consul_acl_token)
    discovery = Discovery(consul)
    peers = Peers(discovery, fail_max=3, reset_timeout=60)
    yield consul, discovery, peers
    await peers.close()
    await discovery.close()
    await consul.close()


async def test_auth_is_found_and_called_for_its_keys(peers):
    _, discovery, calls = peers
    instances = await discovery.instances("auth")
    assert len(instances) >= 2
    jwks = await auth.jwks(calls)()
    assert jwks["keys"][0]["kty"] == "EC"


async def test_unknown_service_is_unavailable_at_once(peers):
    _, _, calls = peers
    with pytest.raises(errors.Unavailable, match="no healthy instance"):
        await calls.call("nobody", object, "Method", None)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_breaker_opens_on_a_dead_peer_and_fails_fast(peers):
    """An instance Consul still lists but that refuses connections: after fail_max outages
    the breaker opens and later calls fail without touching the network."""
    consul, _, calls = peers

    name = f"ghost{uuid.uuid4().hex[:6]}"
    await consul.register(name, name, "127.0.0.1", _closed_port(), grpc_check=False)
    try:
        for _ in range(3):
            with pytest.raises(errors.Unavailable):
                await calls.call(name, auth_pb2_grpc.AuthServiceStub, "GetJwks",
                                 auth_pb2.GetJwksRequest(), timeout=1.0)
        assert calls.breaker(name).current_state == "open"
        with pytest.raises(errors.Unavailable, match="circuit open"):
            await calls.call(name, auth_pb2_grpc.AuthServiceStub, "GetJwks", auth_pb2.GetJwksRequest())
    finally:
        await consul.deregister(name)


async def test_discovery_follows_consul_changes(peers):
    consul, discovery, _ = peers
    name = f"moving{uuid.uuid4().hex[:6]}"
    assert await discovery.instances(name) == []
    await consul.register(name, name, "127.0.0.1", 1234, grpc_check=False)
    try:
        for _ in range(100):
            if await discovery.instances(name):
                break
            await asyncio.sleep(0.1)
        assert [(i.address, i.port) for i in await discovery.instances(name)] == [("127.0.0.1", 1234)]
    finally:
        await consul.deregister(name)


async def test_deregistering_twice_is_quiet(peers):
    """A stopping instance whose agent already forgot it (restarted meanwhile) is simply gone."""
    consul, _, _ = peers
    name = f"twice{uuid.uuid4().hex[:6]}"
    await consul.register(name, name, "127.0.0.1", 1234, grpc_check=False)
    await consul.deregister(name)
    await consul.deregister(name)
    assert not await consul.is_registered(name)


async def test_a_stopping_instance_leaves_consul_for_good(peers):
    """The watch that registers a lost instance again ends before the instance deregisters;
    otherwise it could put a stopping instance back, to fail its checks for a minute."""
    consul, _, _ = peers
    name = f"stopping{uuid.uuid4().hex[:6]}"
    service = Microservice(name, consul, "127.0.0.1", "127.0.0.1")
    service.registration_check_seconds = 0.01
    running = asyncio.create_task(service.run())
    for _ in range(100):
        if (await consul.healthy(name))[0]:
            break
        await asyncio.sleep(0.1)
    assert len((await consul.healthy(name))[0]) == 1
    service.stop()
    await asyncio.wait_for(running, timeout=15)
    await asyncio.sleep(0.2)  # past a few more of the watch's turns, had it outlived the stop
    assert [check for check in await consul.every_check() if check["ServiceName"] == name] == []


async def test_a_call_to_an_instance_that_just_died_is_made_on_another(peers):
    """Consul lists a dead instance until its next check: the read goes to a live one instead,
    every time, and the breaker stays closed."""
    consul, discovery, calls = peers
    live = (await discovery.instances("auth"))[0]
    name = f"halfdead{uuid.uuid4().hex[:6]}"
    await consul.register(name, f"{name}-dead", "127.0.0.1", _closed_port(), grpc_check=False)
    await consul.register(name, f"{name}-live", live.address, live.port, grpc_check=False)
    try:
        for _ in range(100):
            if len(await discovery.instances(name)) == 2:
                break
            await asyncio.sleep(0.1)
        for _ in range(12):
            jwks = await calls.call(name, auth_pb2_grpc.AuthServiceStub, "GetJwks", auth_pb2.GetJwksRequest())
            assert jwks.keys
        assert calls.breaker(name).current_state == "closed"
    finally:
        await consul.deregister(f"{name}-dead")
        await consul.deregister(f"{name}-live")
