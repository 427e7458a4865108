"""config's client: a branch as the dealership describes it (public, so asked without a token)."""
from autosalon.config.v1 import config_pb2, config_pb2_grpc
from services.kit.calls import Peers


async def get_branch(peers: Peers, branch_id: str) -> config_pb2.Branch:
    """The branch "branches/{id}"; NotFound when there is none."""
    return await peers.call("config", config_pb2_grpc.ConfigServiceStub, "GetBranch",
                            config_pb2.GetBranchRequest(name=f"branches/{branch_id}"), as_caller=False)
