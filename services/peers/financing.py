"""financing's client: a loan application as financing has it."""
from autosalon.financing.v1 import financing_pb2, financing_pb2_grpc
from services.kit.calls import Peers


async def get_application(peers: Peers, name: str) -> financing_pb2.Application:
    """The application "applications/{uuid}" as the caller may see it (the caller's token travels
    along: a client sees only their own)."""
    return await peers.call("financing", financing_pb2_grpc.FinancingServiceStub, "GetApplication",
                            financing_pb2.GetApplicationRequest(name=name))
