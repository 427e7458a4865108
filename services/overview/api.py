"""overview's gRPC servicer."""
from autosalon.overview.v1 import overview_pb2_grpc
from services.kit import identity
from services.kit.identity import PUBLIC

from .handlers import OverviewHandlers

ACCESS = {"GetOverview": PUBLIC}


class OverviewApi(overview_pb2_grpc.OverviewServiceServicer):
    def __init__(self, handlers: OverviewHandlers):
        self.handlers = handlers

    async def GetOverview(self, request, context):
        return await self.handlers.overview(identity.optional())
