"""`python -m services.kit.health_check HOST:PORT`: exits 0 when the gRPC server there answers
the standard health check (grpc.health.v1, which every service and emulator serves) SERVING,
and 1 when it answers otherwise, refuses or is silent for 3 seconds; the containers'
healthcheck in compose.yaml. A service stopping gracefully answers NOT_SERVING already."""
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

DEADLINE_SECONDS = 3.0


def serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=DEADLINE_SECONDS)
        except grpc.RpcError:
            return False
    return answer.status == health_pb2.HealthCheckResponse.SERVING


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m services.kit.health_check HOST:PORT")
    sys.exit(0 if serving(sys.argv[1]) else 1)
