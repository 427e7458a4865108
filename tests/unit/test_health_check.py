"""services.kit.health_check, the containers' probe: healthy only on a SERVING answer."""
import socket
import subprocess
import sys
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from services.kit.health_check import serving
from services.kit.settings import REPO_ROOT


@pytest.fixture
def health_server():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(None)


def test_a_serving_server_is_healthy_and_the_module_exits_0(health_server):
    address, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert serving(address)
    probe = subprocess.run([sys.executable, "-m", "services.kit.health_check", address], cwd=REPO_ROOT)
    assert probe.returncode == 0


def test_a_server_stopping_gracefully_is_not_healthy(health_server):
    address, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    servicer.enter_graceful_shutdown()
    assert not serving(address)


def test_no_server_is_not_healthy_and_the_module_exits_1():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        nobody = f"127.0.0.1:{unused.getsockname()[1]}"
        assert not serving(nobody)
        probe = subprocess.run([sys.executable, "-m", "services.kit.health_check", nobody], cwd=REPO_ROOT)
    assert probe.returncode == 1
