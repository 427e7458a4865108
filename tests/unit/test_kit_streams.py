"""Server-streaming calls under the kit's per-call policy (kit.server), on an in-process gRPC
server: the messages as they come, the same access rules and error statuses as a unary call,
a caller who leaves or whose deadline passes ends the stream cleanly (its clean-up runs, nothing
logged above DEBUG), and a bound on the streams served at once. Then kit.watches: the resource
now, again at each event naming it, until its final state, the watch's time, or the instance's
stop; nothing missed between the first read and its event, nor while NATS was away."""
import asyncio
import contextlib
import logging
from types import SimpleNamespace

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from autosalon.common.v1 import common_pb2
from autosalon.sales.v1 import sales_pb2, sales_pb2_grpc
from services.kit import errors, identity, server, watches
from services.kit.server import _CallPolicy

SERVICE = sales_pb2.DESCRIPTOR.services_by_name["SalesService"]
WATCH = f"/{SERVICE.full_name}/WatchOrder"
ORDER = "orders/7"


def _order(etag: str, status=sales_pb2.ORDER_STATUS_CONFIRMED) -> sales_pb2.Order:
    return sales_pb2.Order(name=ORDER, etag=etag, status=status)


async def _until(check) -> None:
    """Waits for what the server does after the client has had its answer."""
    async with asyncio.timeout(5):
        while not check():
            await asyncio.sleep(0.01)


class Servicer(sales_pb2_grpc.SalesServiceServicer):
    """WatchOrder streams what the test's `stream(request)` generator yields; GetOrder answers."""

    def __init__(self):
        self.stream = None

    def WatchOrder(self, request, context):
        return self.stream(request)

    async def GetOrder(self, request, context):
        return sales_pb2.Order(name=request.name)


@contextlib.asynccontextmanager
async def _serving(watch_rule=identity.PUBLIC):
    """(servicer, policy, stub) on a server in this process, every method public but WatchOrder
    under `watch_rule`, two streams at most."""
    servicer = Servicer()
    rules = {f"/{SERVICE.full_name}/{method.name}": identity.PUBLIC for method in SERVICE.methods}
    rules[WATCH] = watch_rule
    policy = _CallPolicy(rules, None, server.CallCounts(), lambda: 2)
    grpc_server = grpc.aio.server()
    grpc_server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        SERVICE.full_name, policy.handlers(servicer, SERVICE)),))
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    await grpc_server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield SimpleNamespace(servicer=servicer, policy=policy, stub=sales_pb2_grpc.SalesServiceStub(channel))
    await channel.close()
    await grpc_server.stop(None)


@pytest.fixture
async def served():
    async with _serving() as serving:
        yield serving


def _reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)
    info = error_details_pb2.ErrorInfo()
    next(detail for detail in status.details if detail.Is(info.DESCRIPTOR)).Unpack(info)
    return info.reason


async def test_a_stream_sends_each_message_as_it_comes_and_ends_ok(served):
    sent = asyncio.Event()

    async def stream(request):
        yield _order("1")
        # The first is with the caller before the second is made.
        await sent.wait()
        yield _order("2", sales_pb2.ORDER_STATUS_COMPLETED)

    served.servicer.stream = stream
    call = served.stub.WatchOrder(sales_pb2.WatchOrderRequest(name=ORDER))
    assert (await call.read()).etag == "1"
    sent.set()
    assert (await call.read()).etag == "2"
    assert await call.read() is grpc.aio.EOF
    assert await call.code() == grpc.StatusCode.OK


async def test_a_stream_follows_the_access_rule_of_its_method():
    async with _serving(identity.ANYONE_SIGNED_IN) as served:
        served.servicer.stream = lambda request: _never()
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await served.stub.WatchOrder(sales_pb2.WatchOrderRequest(name=ORDER)).read()
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def _never():
    raise AssertionError("served without a sign-in")
    yield


@pytest.mark.parametrize("sent_first", [0, 1])
async def test_a_refusal_before_or_during_a_stream_is_its_status_with_its_reason(served, sent_first):
    async def stream(request):
        for etag in range(sent_first):
            yield _order(str(etag))
        raise errors.NotFound(f"{request.name} does not exist")

    served.servicer.stream = stream
    call = served.stub.WatchOrder(sales_pb2.WatchOrderRequest(name=ORDER))
    received = []
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        while (message := await call.read()) is not grpc.aio.EOF:
            received.append(message)
    assert len(received) == sent_first
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND and _reason(refused.value) == "NOT_FOUND"


async def test_a_fault_in_a_stream_is_internal_with_the_trace_id(served, caplog):
    async def stream(request):
        yield _order("1")
        raise RuntimeError("a bug")

    served.servicer.stream = stream
    call = served.stub.WatchOrder(sales_pb2.WatchOrderRequest(name=ORDER), metadata=(("x-request-id", "trace-9"),))
    assert (await call.read()).etag == "1"
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call.read()
    assert failed.value.code() == grpc.StatusCode.INTERNAL and "trace-9" in failed.value.details()
    assert any(record.levelno == logging.ERROR for record in caplog.records)


@pytest.mark.parametrize("leaving", ["cancel", "deadline"])
async def test_a_caller_who_leaves_ends_the_stream_cleanly(served, caplog, leaving):
    caplog.set_level(logging.DEBUG, logger="services.kit.server")
    cleaned_up = asyncio.Event()

    async def stream(request):
        try:
            yield _order("1")
            await asyncio.Event().wait()
        finally:
            cleaned_up.set()

    served.servicer.stream = stream
    call = served.stub.WatchOrder(sales_pb2.WatchOrderRequest(name=ORDER),
                                  timeout=0.5 if leaving == "deadline" else None)
    assert (await call.read()).etag == "1"
    if leaving == "cancel":
        call.cancel()
    else:
        with pytest.raises(grpc.aio.AioRpcError) as late:
            await call.read()
        assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await asyncio.wait_for(cleaned_up.wait(), 5)
    await _until(lambda: served.policy.streams == 0)
    await _until(lambda: any(getattr(record, "fields", {}).get("code") == "CANCELLED" for record in caplog.records))
    ends = [record for record in caplog.records if record.name == "services.kit.server"]
    assert all(record.levelno <= logging.DEBUG for record in ends), [record.getMessage() for record in ends]


async def test_streams_beyond_the_bound_are_refused_busy_until_one_ends(served):
    release = asyncio.Event()

    async def stream(request):
        yield _order("1")
        await release.wait()

    served.servicer.stream = stream
    held = [served.stub.WatchOrder(sales_pb2.WatchOrderRequest(name=ORDER)) for _ in range(2)]
    for call in held:
        assert (await call.read()).etag == "1"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await served.stub.WatchOrder(sales_pb2.WatchOrderRequest(name=ORDER)).read()
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and _reason(refused.value) == "BUSY"
    # A unary call is no stream: the bound does not count it.
    assert (await served.stub.GetOrder(sales_pb2.GetOrderRequest(name=ORDER))).name == ORDER
    release.set()
    for call in held:
        assert await call.code() == grpc.StatusCode.OK
    again = served.stub.WatchOrder(sales_pb2.WatchOrderRequest(name=ORDER))
    assert (await again.read()).etag == "1"


def test_a_client_streaming_method_is_not_served():
    streaming = SimpleNamespace(full_name="x.Upload", methods=[SimpleNamespace(name="Upload", client_streaming=True)])
    with pytest.raises(ValueError, match="client streaming"):
        _CallPolicy({}, None, server.CallCounts(), lambda: 1).handlers(object(), streaming)


class FakeNats:
    """A NATS connection in this process: each publish reaches the subscription's callback."""

    def __init__(self):
        self.callback = None

    async def subscribe(self, subject, cb):
        self.callback = cb
        return SimpleNamespace(unsubscribe=self._unsubscribe)

    async def _unsubscribe(self):
        self.callback = None

    async def flush(self):
        pass

    async def publish(self, resource: str) -> None:
        envelope = common_pb2.EventEnvelope(subject=resource)
        await self.callback(SimpleNamespace(data=envelope.SerializeToString()))


class Store:
    """The order as the database has it; each read counted."""

    def __init__(self):
        self.order = _order("1")
        self.reads = 0

    async def read(self):
        self.reads += 1
        return sales_pb2.Order.FromString(self.order.SerializeToString())


@pytest.fixture
async def hub():
    bus = SimpleNamespace(nc=FakeNats(), reconnects=0)
    stopping = asyncio.Event()
    hub = watches.Watches(bus, "autosalon.sales.order.>", lambda: 600, stopping)
    listening = asyncio.create_task(hub.listen())
    await _until(lambda: bus.nc.callback is not None)
    yield SimpleNamespace(hub=hub, bus=bus, stopping=stopping)
    listening.cancel()
    await asyncio.gather(listening, return_exceptions=True)


def _completed(order) -> bool:
    return order.status == sales_pb2.ORDER_STATUS_COMPLETED


async def test_a_watch_sends_the_resource_then_each_change_its_events_name_until_final(hub):
    store = Store()
    stream = hub.hub.watch(ORDER, store.read, _completed)
    assert (await anext(stream)).etag == "1"
    following = asyncio.ensure_future(anext(stream))
    # Another order's event, and one that changed nothing here, send nothing.
    await hub.bus.nc.publish("orders/other")
    await hub.bus.nc.publish(ORDER)
    await _until(lambda: store.reads == 2)
    assert not following.done()
    store.order = _order("2")
    await hub.bus.nc.publish(ORDER)
    assert (await following).etag == "2"
    store.order = _order("3", sales_pb2.ORDER_STATUS_COMPLETED)
    await hub.bus.nc.publish(ORDER)
    assert (await anext(stream)).etag == "3"
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert hub.hub._watching == {}


async def test_a_change_announced_during_the_first_read_is_not_missed(hub):
    store = Store()

    async def read_while_it_changes():
        first = await store.read()
        if store.reads == 1:
            store.order = _order("2")
            await hub.bus.nc.publish(ORDER)
        return first

    stream = hub.hub.watch(ORDER, read_while_it_changes, _completed)
    assert (await anext(stream)).etag == "1"
    assert (await anext(stream)).etag == "2"
    await stream.aclose()


async def test_after_a_reconnect_every_watch_reads_again(hub, monkeypatch):
    monkeypatch.setattr(watches, "RECONNECT_CHECK_SECONDS", 0.01)
    store = Store()
    stream = hub.hub.watch(ORDER, store.read, _completed)
    await anext(stream)
    # An event sent while NATS was away is never heard.
    store.order = _order("2")
    hub.bus.reconnects += 1
    assert (await anext(stream)).etag == "2"
    await stream.aclose()


async def test_a_watch_ends_when_its_time_is_up(hub):
    hub.hub._seconds = lambda: 0.05
    store = Store()
    assert [order.etag async for order in hub.hub.watch(ORDER, store.read, _completed)] == ["1"]


async def test_a_stopping_instance_ends_its_watches_and_refuses_new_ones(hub):
    store = Store()
    stream = hub.hub.watch(ORDER, store.read, _completed)
    await anext(stream)
    hub.stopping.set()
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    with pytest.raises(errors.Unavailable):
        await anext(hub.hub.watch(ORDER, store.read, _completed))


async def test_a_refused_first_read_ends_the_watch_with_its_refusal(hub):
    async def missing():
        raise errors.NotFound("orders/7 does not exist")

    with pytest.raises(errors.NotFound):
        await anext(hub.hub.watch(ORDER, missing, _completed))
    assert hub.hub._watching == {}
